// Buffers a job's output and writes it in batches: one insert per quarter second instead of one per line.
import type { Queryable } from '../store/db.js';
import { appendLogs, type LogStream } from '../store/job-logs.js';

const flushEveryMs = 250;
const maxChunk = 64 * 1024;

export class LogWriter {
  private buffer: { stream: LogStream; text: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Queryable,
    private readonly jobId: number,
    /** Values that must never be stored (operator secrets): replaced by *** before writing. */
    private readonly masked: readonly string[],
    private readonly onError: (error: unknown) => void,
  ) {}

  write(stream: LogStream, text: string): void {
    const last = this.buffer.at(-1);
    if (last && last.stream === stream && last.text.length + text.length <= maxChunk) last.text += text;
    else this.buffer.push({ stream, text });
    this.timer ??= setTimeout(() => void this.flush(), flushEveryMs);
  }

  /** Writes what is buffered; writes happen one after another so chunks keep their order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const chunks = this.buffer;
    this.buffer = [];
    for (const chunk of chunks) {
      for (const secret of this.masked)
        if (secret.length >= 4) chunk.text = chunk.text.replaceAll(secret, '***');
    }
    if (chunks.length > 0) {
      this.writing = this.writing.then(() => appendLogs(this.db, this.jobId, chunks)).catch(this.onError);
    }
    return this.writing;
  }

  close(): Promise<void> {
    return this.flush();
  }
}

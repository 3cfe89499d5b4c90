// Log chunks (a quarter second of a job's output each, several lines or part of one) turned into lines, so
// each line can say which stream it came from.
import type { LogChunk } from './types';

export interface LogLine {
  stream: LogChunk['stream'];
  text: string;
  /** The line has not ended yet: the next chunk of the same stream continues it. */
  open: boolean;
}

export type JobLogs = Record<string, LogLine[]>;

export function appendChunks(logs: JobLogs, chunks: LogChunk[]): JobLogs {
  const next: JobLogs = { ...logs };
  const copied = new Set<string>();
  for (const chunk of chunks) {
    if (chunk.text === '') continue;
    if (!copied.has(chunk.job)) {
      next[chunk.job] = [...(next[chunk.job] ?? [])];
      copied.add(chunk.job);
    }
    const lines = next[chunk.job]!;
    const pieces = chunk.text.split('\n');
    pieces.forEach((piece, index) => {
      const last = lines.at(-1);
      const isLast = index === pieces.length - 1;
      // After the final newline of a chunk comes an empty piece: it ends the line, it is not one.
      if (isLast && piece === '' && pieces.length > 1) {
        if (last) lines[lines.length - 1] = { ...last, open: false };
        return;
      }
      if (index === 0 && last?.open && last.stream === chunk.stream) {
        lines[lines.length - 1] = { ...last, text: last.text + piece, open: isLast };
      } else {
        if (index === 0 && last?.open) lines[lines.length - 1] = { ...last, open: false };
        lines.push({ stream: chunk.stream, text: piece, open: isLast });
      }
    });
  }
  return next;
}

// Job output, stored in chunks as it arrives so `logs --follow` and the console can stream it.
import type { Queryable } from './db.js';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogChunk {
  id: number;
  job_id: number;
  stream: LogStream;
  text: string;
  at: Date;
}

export async function appendLogs(
  db: Queryable,
  jobId: number,
  chunks: { stream: LogStream; text: string }[],
): Promise<void> {
  if (chunks.length === 0) return;
  const values: unknown[] = [jobId];
  const rows = chunks.map((chunk) => `($1, $${values.push(chunk.stream)}, $${values.push(chunk.text)})`);
  await db.query(`insert into job_logs (job_id, stream, text) values ${rows.join(', ')}`, values as never[]);
}

export async function readLogs(
  db: Queryable,
  jobIds: number[],
  afterId = 0,
  limit = 5000,
): Promise<LogChunk[]> {
  if (jobIds.length === 0) return [];
  return db.query<LogChunk>(
    'select * from job_logs where job_id = any($1::int[]) and id > $2 order by id limit $3',
    [jobIds, afterId, limit],
  );
}

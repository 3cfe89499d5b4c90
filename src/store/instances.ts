// Server processes announce themselves and beat; the work of a process that stopped beating is recovered.
import type { Queryable } from './db.js';

export async function registerInstance(db: Queryable, id: string): Promise<void> {
  await db.query(
    'insert into instances (id) values ($1) on conflict (id) do update set heartbeat_at = now()',
    [id],
  );
}

/**
 * Also puts the row back if another instance took this one for dead and removed it (a heartbeat that came
 * late on a busy machine): otherwise every job it claims from then on would look abandoned to the others.
 */
export async function heartbeat(db: Queryable, id: string): Promise<void> {
  await registerInstance(db, id);
}

export async function removeInstance(db: Queryable, id: string): Promise<void> {
  await db.query('delete from instances where id = $1', [id]);
}

/** Ids of instances that have not beaten within `staleMs` (their processes are gone). */
export async function staleInstances(db: Queryable, staleMs: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `select id from instances where heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)`,
    [staleMs],
  );
  return rows.map((row) => row.id);
}

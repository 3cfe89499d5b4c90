// Leases on IM apps' event connections: with several instances on one database, exactly one holds each
// app's long connection / stream. A lease is a row (holder, expires_at) rather than a session advisory
// lock: the pg pool does not pin a session to us, and PGlite must behave the same. Every time is the
// database's own `now()`, so instances whose clocks differ still agree on when a lease has run out.
import type { Queryable } from './db.js';

export interface Taken {
  /** The instance that held it before us, when we just took it over (undefined: we renewed our own, or it was free). */
  previous: string | undefined;
  /** How long ago (ms) the previous holder's lease ran out, when we took it over from one. */
  expiredForMs: number | undefined;
}

export interface LeaseRow {
  im_app_id: string;
  holder: string;
  acquired_at: Date;
  expires_at: Date;
  connected: boolean;
  /** Still inside its term at the time of reading (by the database's clock). */
  valid: boolean;
}

/**
 * Takes the app's lease for `holder` until `ttlMs` from now, or renews it: succeeds when the lease is free,
 * already ours, or run out. Undefined when another instance holds it. Two instances taking the same
 * run-out lease at once: the row lock makes the second see the first's renewal, so it gets nothing.
 */
export async function takeLease(
  db: Queryable,
  appId: string,
  holder: string,
  ttlMs: number,
  connected: boolean,
): Promise<Taken | undefined> {
  const [row] = await db.query<{ previous: string | null; expired_for_ms: number | null }>(
    `with before as (
       select holder, expires_at from connection_leases where im_app_id = $1
     )
     insert into connection_leases as lease (im_app_id, holder, acquired_at, expires_at, connected)
     values ($1, $2, now(), now() + make_interval(secs => $3::float8 / 1000), $4)
     on conflict (im_app_id) do update
       set holder = excluded.holder,
           acquired_at = case when lease.holder = excluded.holder then lease.acquired_at else now() end,
           expires_at = excluded.expires_at,
           connected = excluded.connected
       where lease.holder = excluded.holder or lease.expires_at < now()
     returning
       (select holder from before where holder <> $2) as previous,
       (select extract(epoch from now() - expires_at) * 1000 from before where holder <> $2)::float8
         as expired_for_ms`,
    [appId, holder, ttlMs, connected],
  );
  if (!row) return undefined;
  return {
    previous: row.previous ?? undefined,
    expiredForMs: row.expired_for_ms === null ? undefined : Math.round(Number(row.expired_for_ms)),
  };
}

/** Gives the app's lease up at once (a graceful stop, or the app no longer needs a connection). */
export async function releaseLease(db: Queryable, appId: string, holder: string): Promise<void> {
  await db.query('delete from connection_leases where im_app_id = $1 and holder = $2', [appId, holder]);
}

/** Gives up every lease `holder` has. */
export async function releaseLeasesOf(db: Queryable, holder: string): Promise<void> {
  await db.query('delete from connection_leases where holder = $1', [holder]);
}

/**
 * Forgets the leases of every other holder: on the embedded database only one process can run (the
 * data-directory lock), so a lease held by anyone else was left by a process that died.
 */
export async function releaseOthersLeases(db: Queryable, holder: string): Promise<void> {
  await db.query('delete from connection_leases where holder <> $1', [holder]);
}

/** Every lease, with whether it is still inside its term: who holds which app's connection. */
export async function listLeases(db: Queryable): Promise<LeaseRow[]> {
  return db.query<LeaseRow>(
    `select im_app_id, holder, acquired_at, expires_at, connected, expires_at >= now() as valid
       from connection_leases order by im_app_id`,
  );
}

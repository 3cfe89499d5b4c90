// Registered IM apps. Secret fields are sealed together (AES-256-GCM, bound to the app's id) and only
// opened to build a provider config; nothing here ever returns them to a caller of the API.
import { AppError } from '../errors.js';
import { withDefaultHosts } from '../providers/im-app-fields.js';
import type { ImAppConfig, ImEvent, ImType } from '../providers/types.js';
import { nulFree, withoutNul } from './callback-recorder.js';
import type { Queryable } from './db.js';
import { newId } from './ids.js';
import type { SecretBox } from './secret-box.js';
import { isUniqueViolation } from './users.js';

export interface ImAppRecord {
  id: string;
  type: ImType;
  name: string;
  event_mode: string;
  settings: Record<string, string>;
  secrets: string;
  sandbox: boolean;
  last_check_at: Date | null;
  last_check_ok: boolean | null;
  last_check_error: string | null;
  last_event_at: Date | null;
  callback_verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ImAppInput {
  type: ImType;
  name: string;
  event_mode: string;
  /** Public fields plus api_base / oapi_base. */
  settings: Record<string, string>;
  secrets: Record<string, string>;
  sandbox?: boolean;
}

const boundTo = (id: string) => `im_app:${id}`;
/** What an app's sealed secrets are bound to (their AAD): key rotation re-seals them with the same. */
export const imAppSecretsBoundTo = boundTo;

export async function insertImApp(
  db: Queryable,
  box: SecretBox,
  input: ImAppInput,
  id = newId('ima'),
): Promise<ImAppRecord> {
  try {
    const [row] = await db.query<ImAppRecord>(
      `insert into im_apps (id, type, name, event_mode, settings, secrets, sandbox) values ($1, $2, $3, $4, $5, $6, $7) returning *`,
      [
        id,
        input.type,
        input.name,
        input.event_mode,
        JSON.stringify(input.settings),
        box.seal(JSON.stringify(input.secrets), boundTo(id)),
        input.sandbox ?? false,
      ],
    );
    return row!;
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('conflict', `An IM app named ${input.name} already exists.`);
    throw error;
  }
}

export async function updateImApp(
  db: Queryable,
  box: SecretBox,
  id: string,
  input: Omit<ImAppInput, 'type'>,
): Promise<ImAppRecord> {
  try {
    const [row] = await db.query<ImAppRecord>(
      `update im_apps set name = $2, event_mode = $3, settings = $4, secrets = $5, updated_at = now()
       where id = $1 returning *`,
      [
        id,
        input.name,
        input.event_mode,
        JSON.stringify(input.settings),
        box.seal(JSON.stringify(input.secrets), boundTo(id)),
      ],
    );
    if (!row) throw new AppError('not_found', `No IM app ${id}.`);
    return row;
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('conflict', `An IM app named ${input.name} already exists.`);
    throw error;
  }
}

export async function listImApps(db: Queryable): Promise<ImAppRecord[]> {
  return db.query<ImAppRecord>('select * from im_apps order by sandbox, name');
}

/** By id or by name (workflows name apps; URLs use ids). */
export async function findImApp(db: Queryable, handle: string): Promise<ImAppRecord | undefined> {
  const [row] = await db.query<ImAppRecord>(
    'select * from im_apps where id = $1 or name = $1 order by (id = $1) desc limit 1',
    [handle],
  );
  return row;
}

/** By id only: callback URLs are keyed by the app id, never by a name. */
export async function findImAppById(db: Queryable, id: string): Promise<ImAppRecord | undefined> {
  const [row] = await db.query<ImAppRecord>('select * from im_apps where id = $1', [id]);
  return row;
}

export async function getImApp(db: Queryable, handle: string): Promise<ImAppRecord> {
  const app = await findImApp(db, handle);
  if (!app) throw new AppError('not_found', `No IM app ${handle}.`);
  return app;
}

/** Removes an app with its recorded events and replay keys (no foreign keys there: see migration 0004). */
export async function deleteImApp(db: Queryable, id: string): Promise<void> {
  await db.query('delete from im_events where im_app_id = $1', [id]);
  await db.query('delete from im_callback_replays where im_app_id = $1', [id]);
  await db.query('delete from im_apps where id = $1', [id]);
}

/** Names of workflows whose document refers to this app (by name or id) in any `app` field. */
export async function workflowsUsingApp(
  db: Queryable,
  app: Pick<ImAppRecord, 'id' | 'name'>,
): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `select name from workflows where jsonb_path_exists(spec, 'strict $.**.app ? (@ == $name || @ == $id)', jsonb_build_object('name', $1::text, 'id', $2::text)) order by name`,
    [app.name, app.id],
  );
  return rows.map((row) => row.name);
}

export function openSecrets(box: SecretBox, app: ImAppRecord): Record<string, string> {
  return JSON.parse(box.open(app.secrets, boundTo(app.id)));
}

/** The decrypted config a provider works with. */
export function imAppConfig(box: SecretBox, app: ImAppRecord): ImAppConfig {
  return {
    type: app.type,
    ...withDefaultHosts(app.type, app.settings),
    ...openSecrets(box, app),
  } as ImAppConfig;
}

export async function forgetCallbackVerification(db: Queryable, id: string): Promise<void> {
  await db.query('update im_apps set callback_verified_at = null where id = $1', [id]);
}

/** Credentials changed without a check: the last verdict no longer applies. */
export async function forgetCheck(db: Queryable, id: string): Promise<void> {
  await db.query(
    'update im_apps set last_check_at = null, last_check_ok = null, last_check_error = null where id = $1',
    [id],
  );
}

export async function recordCheck(db: Queryable, id: string, error: string | null): Promise<void> {
  await db.query(
    'update im_apps set last_check_at = now(), last_check_ok = $2, last_check_error = $3 where id = $1',
    [id, error === null, error],
  );
}

/**
 * Records what one verified callback brought, atomically: refuses a replayed timestamp:nonce, stores the
 * event once (a redelivery is a no-op), and notes the time. Returns false for a replay.
 */
export async function recordCallback(
  db: Queryable,
  appId: string,
  result: {
    replay_key?: string | undefined;
    event?: ImEvent | undefined;
    verification?: boolean | undefined;
  },
): Promise<{ replay: boolean; stored: boolean }> {
  // One statement (atomic without a transaction, one round trip on the hot path). `last_event_at` is
  // touched at most once a second, so a burst of callbacks does not rewrite the app row each time.
  const [row] = await db.query<{ fresh: boolean; stored: boolean }>(
    `with replay as (
       insert into im_callback_replays (im_app_id, replay_key) select $1, $2::text where $2::text is not null
       on conflict do nothing returning 1),
     fresh as (select ($2::text is null or exists (select 1 from replay)) as ok),
     event as (
       insert into im_events (im_app_id, dedup_key, type, payload)
       select $1, $3::text, $4::text, $5::jsonb from fresh where fresh.ok and $3::text is not null
       on conflict (im_app_id, dedup_key) do nothing returning 1),
     touch as (
       update im_apps set
         last_event_at = case when $3::text is not null then now() else last_event_at end,
         callback_verified_at = case when $6::boolean then now() else callback_verified_at end
       where id = $1 and (select ok from fresh)
         and ($6::boolean or ($3::text is not null and (last_event_at is null or last_event_at < now() - interval '1 second')))
       returning 1)
     select (select ok from fresh) as fresh, exists (select 1 from event) as stored`,
    [
      appId,
      result.replay_key ?? null,
      result.event ? withoutNul(result.event.dedup_key) : null,
      result.event ? withoutNul(result.event.type) : null,
      result.event ? JSON.stringify(result.event.payload, nulFree) : null,
      result.verification === true,
    ],
  );
  return { replay: !row!.fresh, stored: row!.stored };
}

/** Forgets replay keys older than the timestamp window (they are refused as stale anyway). */
export async function pruneReplays(db: Queryable, olderThanMs: number): Promise<void> {
  await db.query(
    `delete from im_callback_replays where seen_at < now() - make_interval(secs => $1::float8 / 1000)`,
    [olderThanMs],
  );
}

export async function cacheGet<T>(db: Queryable, appId: string, key: string): Promise<T | undefined> {
  const [row] = await db.query<{ value: T }>(
    'select value from im_cache where im_app_id = $1 and key = $2 and expires_at > now()',
    [appId, key],
  );
  return row?.value;
}

export async function cacheSet(
  db: Queryable,
  appId: string,
  key: string,
  value: unknown,
  ttlMs: number,
): Promise<void> {
  await db.query(
    `insert into im_cache (im_app_id, key, value, expires_at) values ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000))
     on conflict (im_app_id, key) do update set value = excluded.value, expires_at = excluded.expires_at`,
    [appId, key, JSON.stringify(value), ttlMs],
  );
}

export async function cacheClear(db: Queryable, appId: string): Promise<void> {
  await db.query('delete from im_cache where im_app_id = $1', [appId]);
}

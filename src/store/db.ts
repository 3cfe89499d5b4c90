// The one database interface every repository uses. Two implementations: embedded PGlite (the default, a
// data directory on disk) and a PostgreSQL server through `pg`. Same SQL, same migrations, same queries.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createTurnTakingLine } from './event-loop-turns.js';

export type SqlValue = string | number | boolean | null | Date | bigint | readonly unknown[] | object;

export interface Queryable {
  /** Runs one parameterised statement and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `work` in one transaction; rolls back if it throws. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** pg-boss's adapter shape, for jobs sent outside a transaction. */
  readonly bossAdapter: BossAdapter;
  close(): Promise<void>;
}

export interface Tx extends Queryable {
  /** pg-boss's adapter shape, so queue jobs can be sent inside this transaction. */
  readonly bossAdapter: BossAdapter;
  /**
   * Calls `callback` once this transaction has committed (never if it rolls back): work on rows this
   * transaction wrote, started as soon as others can see them. The callback must not throw.
   */
  afterCommit(callback: () => void): void;
}

/** Runs `work` with a way to register after-commit callbacks, and calls them once it has committed. */
async function withAfterCommit<T>(
  work: (afterCommit: (callback: () => void) => void) => Promise<T>,
): Promise<T> {
  const callbacks: Array<() => void> = [];
  const result = await work((callback) => callbacks.push(callback));
  for (const callback of callbacks) callback();
  return result;
}

export interface BossAdapter {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface OpenDbOptions {
  /** `postgres://…` for a server; otherwise a PGlite data directory (or `memory://` for tests). */
  url: string;
  /** PostgreSQL schema every unqualified table lives in (tests use one per file). */
  schema?: string;
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (/^postgres(ql)?:\/\//.test(options.url)) return openPostgres(options.url, options.schema);
  return openPglite(options.url, options.schema);
}

async function openPglite(dataDir: string, schema?: string): Promise<Db> {
  // PostgreSQL's default 128 MB of shared buffers is sized for a server of its own; embedded in our
  // process it would be most of our memory. 16 MB holds Signoff's working set.
  const lite = new PGlite(dataDir === 'memory://' ? undefined : dataDir, {
    postgresqlconf: ['shared_buffers = 16MB'],
  });
  await lite.waitReady;
  if (schema)
    await lite.exec(
      `create schema if not exists ${quoteIdent(schema)}; set search_path to ${quoteIdent(schema)}`,
    );
  // Root statements and transactions wait in this line; a transaction's own statements do not (they run
  // while it holds the line, as they run while it holds PGlite's lock).
  const inLine = createTurnTakingLine();
  const toQueryable = (
    target: Pick<PGlite, 'query'>,
    wait: <T>(work: () => Promise<T>) => Promise<T>,
  ): Queryable & { bossAdapter: BossAdapter } => {
    const query = async <Row>(sql: string, params?: readonly SqlValue[]) =>
      (await wait(() => target.query<Row>(sql, params as unknown[] | undefined))).rows;
    return {
      query,
      bossAdapter: {
        executeSql: async (text, values) => {
          // pg-boss sends multi-statement scripts without parameters; PGlite runs those through `exec`.
          if (!values || values.length === 0) {
            const exec = (target as PGlite).exec?.bind(target);
            const results = exec ? await wait(() => exec(text)) : undefined;
            if (results) return { rows: results.at(-1)?.rows ?? [] };
          }
          return { rows: await query(text, values as SqlValue[]) };
        },
      },
    };
  };
  const root = toQueryable(lite, inLine);
  const inTransaction = <T>(work: () => Promise<T>) => work();
  return {
    kind: 'pglite',
    ...root,
    exec: async (sql) => {
      await inLine(() => lite.exec(sql));
    },
    transaction: (work) =>
      withAfterCommit((afterCommit) =>
        inLine(() => lite.transaction((tx) => work({ ...toQueryable(tx, inTransaction), afterCommit }))),
      ),
    close: () => lite.close(),
  };
}

async function openPostgres(url: string, schema?: string): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  });
  // Surface a wrong URL at start, not at the first request.
  const client = await pool.connect();
  try {
    if (schema) await client.query(`create schema if not exists ${quoteIdent(schema)}`);
  } finally {
    client.release();
  }
  const toQueryable = (target: pg.Pool | pg.PoolClient): Queryable & { bossAdapter: BossAdapter } => ({
    query: async <Row>(sql: string, params?: readonly SqlValue[]) =>
      (await target.query(sql, params as unknown[] | undefined)).rows as Row[],
    bossAdapter: {
      executeSql: async (text, values) => ({ rows: (await target.query(text, values)).rows }),
    },
  });
  return {
    kind: 'postgres',
    ...toQueryable(pool),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: (work) =>
      withAfterCommit(async (afterCommit) => {
        const conn = await pool.connect();
        try {
          await conn.query('begin');
          const result = await work({ ...toQueryable(conn), afterCommit });
          await conn.query('commit');
          return result;
        } catch (error) {
          await conn.query('rollback').catch(() => {});
          throw error;
        } finally {
          conn.release();
        }
      }),
    close: () => pool.end(),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// The one database interface every repository uses. Two implementations: embedded PGlite (the default, a
// data directory on disk) and a PostgreSQL server through `pg`. Same SQL, same migrations, same queries.
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

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
  const toQueryable = (target: Pick<PGlite, 'query'>): Queryable & { bossAdapter: BossAdapter } => {
    const query = async <Row>(sql: string, params?: readonly SqlValue[]) =>
      (await target.query<Row>(sql, params as unknown[] | undefined)).rows;
    return {
      query,
      bossAdapter: {
        executeSql: async (text, values) => {
          // pg-boss sends multi-statement scripts without parameters; PGlite runs those through `exec`.
          if (!values || values.length === 0) {
            const results = await (target as PGlite).exec?.(text);
            if (results) return { rows: results.at(-1)?.rows ?? [] };
          }
          return { rows: await query(text, values as SqlValue[]) };
        },
      },
    };
  };
  const root = toQueryable(lite);
  return {
    kind: 'pglite',
    ...root,
    exec: async (sql) => {
      await lite.exec(sql);
    },
    transaction: (work) => lite.transaction((tx) => work(toQueryable(tx))),
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
    transaction: async (work) => {
      const conn = await pool.connect();
      try {
        await conn.query('begin');
        const result = await work(toQueryable(conn));
        await conn.query('commit');
        return result;
      } catch (error) {
        await conn.query('rollback').catch(() => {});
        throw error;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

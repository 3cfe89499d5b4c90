// Applies the committed SQL files in src/store/migrations in name order, each once, each in a transaction.
// An advisory lock makes concurrent starts (several instances on one PostgreSQL) take turns.
import { readdir, readFile } from 'node:fs/promises';
import type { Db, Queryable } from './db.js';

// src/store and dist/store sit at the same depth, so this finds the SQL files from both.
const migrationsDir = new URL('../../src/store/migrations/', import.meta.url);
const lockKey = 726_351_001;

export interface Migration {
  name: string;
  sql: string;
}

export async function loadMigrations(): Promise<Migration[]> {
  const names = (await readdir(migrationsDir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(new URL(name, migrationsDir), 'utf8') })),
  );
}

/** Returns the names of the migrations it applied. */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await loadMigrations();
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [lockKey]);
    await tx.query(`create table if not exists schema_migrations (
      name text primary key, applied_at timestamptz not null default now())`);
    const done = new Set(
      (await tx.query<{ name: string }>('select name from schema_migrations')).map((row) => row.name),
    );
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('insert into schema_migrations (name) values ($1)', [migration.name]);
      applied.push(migration.name);
    }
    return applied;
  });
}

/**
 * The committed migrations this database has not applied yet (readiness, key rotation): empty when it is
 * up to date. Throws when the database does not answer.
 */
export async function pendingMigrations(db: Queryable): Promise<string[]> {
  const names = (await readdir(migrationsDir)).filter((name) => name.endsWith('.sql')).sort();
  const [table] = await db.query<{ found: string | null }>(
    `select to_regclass('schema_migrations')::text as found`,
  );
  if (!table?.found) return names;
  const done = new Set(
    (await db.query<{ name: string }>('select name from schema_migrations')).map((row) => row.name),
  );
  return names.filter((name) => !done.has(name));
}

// Migrations are plain DDL without dollar-quoted bodies, so splitting on `;` at line ends is enough and
// lets each statement run through the same parameterised path on both drivers.
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement.length > 0);
}

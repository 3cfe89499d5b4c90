// Users (the people approvals name) and their API tokens.
import { AppError } from '../errors.js';
import type { Queryable } from './db.js';
import { hashToken, newId, newToken } from './ids.js';

export interface User {
  id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  is_admin: boolean;
  created_at: Date;
}

export interface TokenInfo {
  id: string;
  user_id: string;
  label: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export interface NewUser {
  name: string;
  email?: string | null | undefined;
  mobile?: string | null | undefined;
  is_admin?: boolean | undefined;
}

export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  try {
    const [user] = await db.query<User>(
      `insert into users (id, name, email, mobile, is_admin) values ($1, $2, $3, $4, $5) returning *`,
      [newId('usr'), input.name, input.email ?? null, input.mobile ?? null, input.is_admin ?? false],
    );
    return user!;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError('conflict', `A user with this name or email already exists (${input.name}).`);
    }
    throw error;
  }
}

export async function listUsers(db: Queryable): Promise<User[]> {
  return db.query<User>('select * from users order by name');
}

/** Finds a user by id, name or email: approvals and the CLI name people the way they know them. */
export async function findUser(db: Queryable, handle: string): Promise<User | undefined> {
  const [user] = await db.query<User>(
    'select * from users where id = $1 or name = $1 or lower(email) = lower($1) limit 1',
    [handle],
  );
  return user;
}

export async function getUser(db: Queryable, handle: string): Promise<User> {
  const user = await findUser(db, handle);
  if (!user) throw new AppError('not_found', `No user named ${handle}.`);
  return user;
}

export async function deleteUser(db: Queryable, id: string): Promise<void> {
  await db.query('delete from users where id = $1', [id]);
}

export async function countAdmins(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('select count(*)::int as n from users where is_admin');
  return row?.n ?? 0;
}

/** Creates a token for a user and returns it in clear text: the only time it is ever seen. */
export async function issueToken(
  db: Queryable,
  userId: string,
  label: string | null = null,
  token: string = newToken(),
): Promise<{ token: string; info: TokenInfo }> {
  const [info] = await db.query<TokenInfo>(
    `insert into api_tokens (id, user_id, token_hash, label) values ($1, $2, $3, $4)
     returning id, user_id, label, created_at, last_used_at`,
    [newId('tok'), userId, hashToken(token), label],
  );
  return { token, info: info! };
}

export async function hasToken(db: Queryable, token: string): Promise<boolean> {
  const rows = await db.query('select 1 from api_tokens where token_hash = $1', [hashToken(token)]);
  return rows.length > 0;
}

export async function userByToken(db: Queryable, token: string): Promise<User | undefined> {
  const [row] = await db.query<User & { token_id: string; last_used_at: Date | null }>(
    `select u.*, t.id as token_id, t.last_used_at from api_tokens t join users u on u.id = t.user_id where t.token_hash = $1`,
    [hashToken(token)],
  );
  if (!row) return undefined;
  const { token_id, last_used_at, ...user } = row;
  // Noted at most once a minute: a write on every request would double the cost of reads.
  if (!last_used_at || Date.now() - new Date(last_used_at).getTime() > 60_000) {
    await db.query('update api_tokens set last_used_at = now() where id = $1', [token_id]);
  }
  return user;
}

export async function listTokens(db: Queryable, userId: string): Promise<TokenInfo[]> {
  return db.query<TokenInfo>(
    'select id, user_id, label, created_at, last_used_at from api_tokens where user_id = $1 order by created_at',
    [userId],
  );
}

export async function getToken(db: Queryable, id: string): Promise<TokenInfo | undefined> {
  const [info] = await db.query<TokenInfo>(
    'select id, user_id, label, created_at, last_used_at from api_tokens where id = $1',
    [id],
  );
  return info;
}

export async function revokeToken(db: Queryable, id: string): Promise<void> {
  await db.query('delete from api_tokens where id = $1', [id]);
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

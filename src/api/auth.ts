// Every /api route needs `Authorization: Bearer <token>`; the token names the user acting.
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { type User, userByToken } from '../store/users.js';

export interface AuthVariables {
  user: User;
}

export function authenticate(db: Queryable): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new AppError(
        'unauthorized',
        'Send an API token: `Authorization: Bearer <token>` (signoff prints the admin token at first start).',
      );
    }
    const user = await userByToken(db, match[1]!);
    if (!user) throw new AppError('unauthorized', 'This API token is not valid (revoked or mistyped).');
    c.set('user', user);
    await next();
  };
}

export function requireAdmin(user: User, action: string): void {
  if (!user.is_admin) throw new AppError('forbidden', `Only an admin can ${action}.`);
}

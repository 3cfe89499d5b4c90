import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import {
  countAdmins,
  createUser,
  deleteUser,
  getToken,
  getUser,
  issueToken,
  listTokens,
  listUsers,
  revokeToken,
  type User,
} from '../../store/users.js';
import type { Api, AppDeps } from '../app.js';
import { requireAdmin } from '../auth.js';
import { errorSchema, issuedTokenSchema, newUserSchema, tokenInfoSchema, userSchema } from '../schemas.js';
import { tokenView, userView } from '../views.js';

const tags = ['users'];
const userParam = z.object({
  user: z.string().openapi({ param: { name: 'user', in: 'path' }, example: 'alice' }),
});
const denied = {
  403: { description: 'Admins only', content: { 'application/json': { schema: errorSchema } } },
};

/** People manage their own tokens; admins manage everyone's. */
function mayManage(actor: User, target: User): void {
  if (actor.id !== target.id) requireAdmin(actor, "manage another user's tokens");
}

export function userRoutes(app: Api, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me',
      tags,
      summary: 'The user this token belongs to',
      responses: { 200: { description: 'You', content: { 'application/json': { schema: userSchema } } } },
    }),
    (c) => c.json(userView(c.get('user')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users',
      tags,
      summary: 'List users (emails and mobiles only for admins, and your own)',
      responses: {
        200: {
          description: 'Users',
          content: { 'application/json': { schema: z.object({ users: z.array(userSchema) }) } },
        },
      },
    }),
    async (c) => {
      // Everyone may see who exists (approvals name people); contact details are for admins and oneself.
      const me = c.get('user');
      const users = (await listUsers(deps.db)).map((user) =>
        me.is_admin || user.id === me.id ? user : { ...user, email: null, mobile: null },
      );
      return c.json({ users: users.map(userView) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users',
      tags,
      summary: 'Create a user and its first API token (shown once)',
      request: { body: { content: { 'application/json': { schema: newUserSchema } }, required: true } },
      responses: {
        201: {
          description: 'The user and its token',
          content: { 'application/json': { schema: z.object({ user: userSchema, token: z.string() }) } },
        },
        409: { description: 'Name or email taken', content: { 'application/json': { schema: errorSchema } } },
        ...denied,
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'create users');
      const input = c.req.valid('json');
      const { user, token } = await deps.db.transaction(async (tx) => {
        const user = await createUser(tx, input);
        const { token } = await issueToken(tx, user.id, 'created with the user');
        return { user, token };
      });
      deps.log.info({ user: user.name, by: c.get('user').name }, 'user created');
      return c.json({ user: userView(user), token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users/{user}',
      tags,
      summary: 'A user, by id, name or email',
      request: { params: userParam },
      responses: {
        200: { description: 'The user', content: { 'application/json': { schema: userSchema } } },
        404: { description: 'No such user', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => c.json(userView(await getUser(deps.db, c.req.valid('param').user)), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/users/{user}',
      tags,
      summary: 'Delete a user and its tokens',
      request: { params: userParam },
      responses: {
        204: { description: 'Deleted' },
        409: { description: 'The last admin', content: { 'application/json': { schema: errorSchema } } },
        ...denied,
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'delete users');
      const user = await getUser(deps.db, c.req.valid('param').user);
      if (user.is_admin && (await countAdmins(deps.db)) <= 1) {
        throw new AppError('conflict', `${user.name} is the last admin; make another admin first.`);
      }
      await deleteUser(deps.db, user.id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users/{user}/tokens',
      tags,
      summary: "A user's API tokens (never the tokens themselves)",
      request: { params: userParam },
      responses: {
        200: {
          description: 'Tokens',
          content: { 'application/json': { schema: z.object({ tokens: z.array(tokenInfoSchema) }) } },
        },
        ...denied,
      },
    }),
    async (c) => {
      const user = await getUser(deps.db, c.req.valid('param').user);
      mayManage(c.get('user'), user);
      return c.json({ tokens: (await listTokens(deps.db, user.id)).map(tokenView) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{user}/tokens',
      tags,
      summary: 'Issue a new API token (shown once)',
      request: {
        params: userParam,
        body: {
          content: { 'application/json': { schema: z.object({ label: z.string().max(100).optional() }) } },
          required: false,
        },
      },
      responses: {
        201: { description: 'The token', content: { 'application/json': { schema: issuedTokenSchema } } },
        ...denied,
      },
    }),
    async (c) => {
      const user = await getUser(deps.db, c.req.valid('param').user);
      mayManage(c.get('user'), user);
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const { token, info } = await issueToken(deps.db, user.id, body.label ?? null);
      return c.json({ token, info: tokenView(info) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/tokens/{id}',
      tags,
      summary: 'Revoke an API token',
      request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: {
        204: { description: 'Revoked' },
        404: { description: 'No such token', content: { 'application/json': { schema: errorSchema } } },
        ...denied,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const info = await getToken(deps.db, id);
      if (!info) throw new AppError('not_found', `No token ${id}.`);
      mayManage(c.get('user'), await getUser(deps.db, info.user_id));
      await revokeToken(deps.db, id);
      return c.body(null, 204);
    },
  );
}

// Settings → Integrations → IM: register an app, check it with the platform, browse its address book.
import { createRoute, z } from '@hono/zod-openapi';
import { AppError, isAppError } from '../../errors.js';
import { imAppFields, withDefaultHosts } from '../../providers/im-app-fields.js';
import type { ImAppConfig, ImType } from '../../providers/types.js';
import { newId } from '../../store/ids.js';
import {
  cacheClear,
  cacheGet,
  cacheSet,
  deleteImApp,
  forgetCallbackVerification,
  forgetCheck,
  getImApp,
  type ImAppRecord,
  imAppConfig,
  insertImApp,
  listImApps,
  openSecrets,
  recordCheck,
  updateImApp,
  workflowsUsingApp,
} from '../../store/im-apps.js';
import type { Api, AppDeps } from '../app.js';
import { requireAdmin } from '../auth.js';
import {
  type CreateImApp,
  createImAppSchema,
  imAppSchema,
  imDepartmentSchema,
  imUserSchema,
  testResultSchema,
  type UpdateImApp,
  updateImAppSchema,
} from '../im-app-schemas.js';
import { errorSchema } from '../schemas.js';

const tags = ['im-apps'];
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const failure = (description: string) => json(errorSchema, description);
const idParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'ima_3kT9' }),
});
const addressBookTtlMs = 5 * 60_000;
const mask = '********';

/** Splits a request into stored settings and secrets, with defaults and the per-mode requirements. */
function toStored(
  input: CreateImApp | UpdateImApp,
  previous?: { settings: Record<string, string>; secrets: Record<string, string>; event_mode: string },
): { settings: Record<string, string>; secrets: Record<string, string>; event_mode: string } {
  const fields = imAppFields[input.type];
  const values = input as Record<string, unknown>;
  const settings: Record<string, string> = {};
  for (const field of [...fields.settings, 'api_base', 'oapi_base']) {
    const value = values[field] ?? previous?.settings[field];
    if (typeof value === 'string') settings[field] = value;
  }
  const secrets: Record<string, string> = {};
  for (const field of fields.secrets) {
    const value = values[field];
    if (typeof value === 'string') secrets[field] = value;
    else if (value === undefined && previous?.secrets[field] !== undefined)
      secrets[field] = previous.secrets[field];
  }
  const event_mode = input.event_mode ?? previous?.event_mode ?? fields.defaultEventMode;
  const missing = fields.required.filter(
    (field) => settings[field] === undefined && secrets[field] === undefined,
  );
  if (event_mode === 'webhook') {
    missing.push(...fields.requiredForWebhook.filter((field) => secrets[field] === undefined));
  }
  if (missing.length > 0) {
    throw new AppError(
      'validation_failed',
      `Missing ${missing.join(', ')}${event_mode === 'webhook' ? ' (needed for event_mode webhook)' : ''}.`,
      {
        problems: missing.map((field) => ({ path: field, message: `${field} is required` })),
      },
    );
  }
  return { settings, secrets, event_mode };
}

function callbackStatus(
  app: ImAppRecord,
  secrets: Record<string, string>,
): { state: 'verified' | 'waiting' | 'not_configured' | 'not_used'; hint: string | null } {
  if (app.event_mode !== 'webhook') return { state: 'not_used', hint: null };
  if (app.type === 'wecom' && (!secrets.token || !secrets.encoding_aes_key)) {
    return {
      state: 'not_configured',
      hint: 'Callback not configured yet: in WeCom 应用管理 → 接收消息 → 设置API接收 (Receive Messages → Set API Receive), paste the callback URL, then enter the Token and EncodingAESKey it shows here and save here before saving there.',
    };
  }
  if (app.callback_verified_at || app.last_event_at) return { state: 'verified', hint: null };
  const where: Record<ImType, string> = {
    feishu:
      'Paste the callback URL in 开发者后台 → 事件与回调 → 事件配置 (Events & Callbacks → Event Configuration) → 请求地址 (Request URL).',
    lark: 'Paste the callback URL in Developer Console → Events & Callbacks → Event Configuration → Request URL.',
    dingtalk:
      'Paste the callback URL in 开发者后台 → 事件与回调 (Events and Callbacks) → 请求网址 (Request URL), then enable the approval task and instance events.',
    wecom: 'In WeCom, save 接收消息 → 设置API接收 (Receive Messages) now: it verifies the URL.',
  };
  return { state: 'waiting', hint: where[app.type] };
}

export function imAppView(app: ImAppRecord, deps: Pick<AppDeps, 'publicUrl' | 'secretBox'>) {
  const fields = imAppFields[app.type];
  const secrets = openSecrets(deps.secretBox, app);
  const callback = callbackStatus(app, secrets);
  const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);
  return {
    id: app.id,
    type: app.type,
    name: app.name,
    event_mode: app.event_mode,
    sandbox: app.sandbox,
    callback_url: `${deps.publicUrl}/callbacks/${app.type}/${app.id}`,
    settings: withDefaultHosts(app.type, app.settings),
    secrets: Object.fromEntries(fields.secrets.map((field) => [field, secrets[field] ? mask : null])),
    ...Object.fromEntries(fields.secrets.map((field) => [`has_${field}`, Boolean(secrets[field])])),
    status: {
      credentials:
        app.last_check_ok === null
          ? ('unchecked' as const)
          : app.last_check_ok
            ? ('ok' as const)
            : ('failed' as const),
      last_check_at: iso(app.last_check_at),
      last_check_error: app.last_check_error,
      last_event_at: iso(app.last_event_at),
      callback: callback.state,
      callback_hint: callback.hint,
    },
    created_at: new Date(app.created_at).toISOString(),
    updated_at: new Date(app.updated_at).toISOString(),
  };
}

/** The platform's verdict on the credentials, as a validation problem the user can act on. */
function credentialProblem(error: unknown, field: string): AppError {
  // Nothing at that address speaks the platform's API: the host is wrong, not the secret.
  if (isAppError(error) && /\bHTTP 404\b/.test(error.message)) {
    const message =
      'nothing answers as the platform API at this address (HTTP 404); check api_base, or leave it out for the public platform';
    return new AppError('validation_failed', `The platform could not be reached at api_base: ${message}.`, {
      problems: [{ path: 'api_base', message }],
    });
  }
  if (isAppError(error) && !error.retryable) {
    return new AppError('validation_failed', `The platform refused these credentials: ${error.message}`, {
      problems: [{ path: field, message: error.message }],
    });
  }
  const message = isAppError(error) ? error.message : 'unknown error';
  return new AppError(
    'upstream_error',
    `Could not check the credentials with the platform: ${message} Try again, or save with ?check=false and test later.`,
  );
}

const secretField: Record<ImType, string> = {
  feishu: 'app_secret',
  lark: 'app_secret',
  dingtalk: 'app_secret',
  wecom: 'secret',
};

export function imAppRoutes(app: Api, deps: AppDeps): void {
  const checkQuery = z.object({
    check: z
      .enum(['true', 'false'])
      .optional()
      .openapi({ description: 'false: save without asking the platform (offline setup).' }),
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/im-apps',
      tags,
      summary: 'Register an IM app; its credentials are checked with the platform first',
      request: {
        query: checkQuery,
        body: { content: { 'application/json': { schema: createImAppSchema } }, required: true },
      },
      responses: {
        201: json(imAppSchema, 'Registered'),
        409: failure('Name taken'),
        422: failure(
          'Invalid fields, or the platform refused the credentials (its code and message, and what to fix)',
        ),
        502: failure('The platform could not be reached'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'register IM apps');
      const input = c.req.valid('json');
      const stored = toStored(input);
      const id = newId('ima');
      if (c.req.valid('query').check !== 'false') {
        const config = {
          type: input.type,
          ...withDefaultHosts(input.type, stored.settings),
          ...stored.secrets,
        } as ImAppConfig;
        try {
          await deps.imClients.transient(config).checkCredentials();
        } catch (error) {
          throw credentialProblem(error, secretField[input.type]);
        }
      }
      const created = await insertImApp(
        deps.db,
        deps.secretBox,
        { type: input.type, name: input.name, ...stored },
        id,
      );
      if (c.req.valid('query').check !== 'false') await recordCheck(deps.db, id, null);
      deps.imAppChanged?.(id);
      deps.log.info(
        { im_app: created.id, type: created.type, name: created.name, by: c.get('user').name },
        'IM app registered',
      );
      return c.json(imAppView(await getImApp(deps.db, id), deps), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps',
      tags,
      summary: 'List IM apps (secrets never shown)',
      responses: { 200: json(z.object({ im_apps: z.array(imAppSchema) }), 'IM apps') },
    }),
    async (c) =>
      c.json({ im_apps: (await listImApps(deps.db)).map((record) => imAppView(record, deps)) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps/{id}',
      tags,
      summary: 'An IM app, by id or name',
      request: { params: idParam },
      responses: { 200: json(imAppSchema, 'The app'), 404: failure('No such app') },
    }),
    async (c) => c.json(imAppView(await getImApp(deps.db, c.req.valid('param').id), deps), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/im-apps/{id}',
      tags,
      summary: 'Change an IM app; secrets left out are kept, null clears an optional one',
      request: {
        params: idParam,
        query: checkQuery,
        body: { content: { 'application/json': { schema: updateImAppSchema } }, required: true },
      },
      responses: {
        200: json(imAppSchema, 'The app'),
        404: failure('No such app'),
        422: failure('Invalid fields, or the platform refused the credentials'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'change IM apps');
      const existing = await getImApp(deps.db, c.req.valid('param').id);
      const input = c.req.valid('json');
      if (input.type !== existing.type) {
        throw new AppError(
          'validation_failed',
          `This app is a ${existing.type} app; its type cannot change.`,
          {
            problems: [{ path: 'type', message: `must be ${existing.type}` }],
          },
        );
      }
      const stored = toStored(input, {
        settings: existing.settings,
        secrets: openSecrets(deps.secretBox, existing),
        event_mode: existing.event_mode,
      });
      const config = {
        type: input.type,
        ...withDefaultHosts(input.type, stored.settings),
        ...stored.secrets,
      } as ImAppConfig;
      const credentialsChanged =
        ['app_id', 'app_key', 'corp_id', 'agent_id', 'api_base', 'oapi_base'].some(
          (field) => (stored.settings[field] ?? null) !== (existing.settings[field] ?? null),
        ) ||
        stored.secrets[secretField[input.type]] !==
          openSecrets(deps.secretBox, existing)[secretField[input.type]];
      if (credentialsChanged && c.req.valid('query').check !== 'false') {
        try {
          await deps.imClients.transient(config).checkCredentials();
        } catch (error) {
          throw credentialProblem(error, secretField[input.type]);
        }
      }
      const previousSecrets = openSecrets(deps.secretBox, existing);
      const updated = await updateImApp(deps.db, deps.secretBox, existing.id, {
        name: input.name,
        ...stored,
      });
      deps.imAppConfigs.forget(existing.id);
      // New callback keys (or a new mode) must be verified again by the platform.
      const callbackChanged =
        stored.event_mode !== existing.event_mode ||
        imAppFields[input.type].secrets.some((field) => stored.secrets[field] !== previousSecrets[field]);
      if (callbackChanged) await forgetCallbackVerification(deps.db, existing.id);
      if (credentialsChanged) {
        await cacheClear(deps.db, existing.id);
        deps.imClients.forget(existing.id);
        if (c.req.valid('query').check !== 'false') await recordCheck(deps.db, existing.id, null);
        else await forgetCheck(deps.db, existing.id);
      }
      deps.imAppChanged?.(existing.id);
      return c.json(imAppView(await getImApp(deps.db, updated.id), deps), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/im-apps/{id}',
      tags,
      summary: 'Remove an IM app; refused while a workflow refers to it',
      request: { params: idParam },
      responses: {
        204: { description: 'Removed' },
        404: failure('No such app'),
        409: failure('Still used by workflows (named)'),
      },
    }),
    async (c) => {
      requireAdmin(c.get('user'), 'remove IM apps');
      const existing = await getImApp(deps.db, c.req.valid('param').id);
      const users = await workflowsUsingApp(deps.db, existing);
      if (users.length > 0) {
        throw new AppError(
          'conflict',
          `${existing.name} is used by the workflow${users.length === 1 ? '' : 's'} ${users.join(', ')}; change or delete ${users.length === 1 ? 'it' : 'them'} first.`,
        );
      }
      await deleteImApp(deps.db, existing.id);
      deps.imAppConfigs.forget(existing.id);
      deps.imClients.forget(existing.id);
      deps.imAppChanged?.(existing.id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/im-apps/{id}/test',
      tags,
      summary: 'Check the credentials now and report missing permissions',
      request: { params: idParam },
      responses: {
        200: json(testResultSchema, 'The result (also when the check failed)'),
        404: failure('No such app'),
      },
    }),
    async (c) => {
      const record = await getImApp(deps.db, c.req.valid('param').id);
      const client = deps.imClients.for(record, imAppConfig(deps.secretBox, record));
      try {
        await client.checkCredentials();
        const report = await client.checkPermissions();
        await recordCheck(
          deps.db,
          record.id,
          report.missing.length > 0 ? `missing permissions: ${report.missing.join(', ')}` : null,
        );
        return c.json(
          {
            ok: report.missing.length === 0,
            error: null,
            missing_permissions: report.missing,
            checked: report.checked,
          },
          200,
        );
      } catch (error) {
        const failed = isAppError(error) ? error : new AppError('internal', 'The check failed unexpectedly.');
        await recordCheck(deps.db, record.id, failed.message);
        return c.json(
          {
            ok: false,
            error: { code: failed.code, message: failed.message },
            missing_permissions: [],
            checked: [],
          },
          200,
        );
      }
    },
  );

  // ------------------------------------------------------------ address book (cached five minutes)

  async function cached<T>(record: ImAppRecord, key: string, load: () => Promise<T>): Promise<T> {
    const hit = await cacheGet<T>(deps.db, record.id, key);
    if (hit !== undefined) return hit;
    const value = await load();
    await cacheSet(deps.db, record.id, key, value, addressBookTtlMs);
    return value;
  }
  const clientOf = async (id: string) => {
    const record = await getImApp(deps.db, id);
    return { record, client: deps.imClients.for(record, imAppConfig(deps.secretBox, record)) };
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps/{id}/departments/{dept}',
      tags,
      summary:
        'A department of the app\'s address book: its sub-departments and members (all pages). Root: "root".',
      request: {
        params: idParam.extend({
          dept: z.string().openapi({ param: { name: 'dept', in: 'path' }, example: 'root' }),
        }),
      },
      responses: {
        200: json(
          z.object({
            department: imDepartmentSchema,
            departments: z.array(imDepartmentSchema),
            users: z.array(imUserSchema),
          }),
          'The department',
        ),
        404: failure('No such app'),
      },
    }),
    async (c) => {
      const { id, dept } = c.req.valid('param');
      const { record, client } = await clientOf(id);
      const department = dept === 'root' ? client.rootDepartmentId : dept;
      return c.json(
        await cached(record, `department:${department}`, () => client.department(department)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps/{id}/users',
      tags,
      summary: "Find people in the app's address book by email, mobile or name",
      request: {
        params: idParam,
        query: z.object({
          email: z.string().optional(),
          mobile: z.string().optional(),
          query: z.string().optional(),
        }),
      },
      responses: {
        200: json(z.object({ users: z.array(imUserSchema) }), 'Matches'),
        404: failure('No such app'),
      },
    }),
    async (c) => {
      const { record, client } = await clientOf(c.req.valid('param').id);
      const query = Object.fromEntries(Object.entries(c.req.valid('query')).filter(([, value]) => value));
      if (Object.keys(query).length === 0) throw new AppError('bad_request', 'Give email, mobile or query.');
      const users = await cached(record, `users:${JSON.stringify(query)}`, () => client.findUsers(query));
      return c.json({ users }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps/{id}/chats',
      tags,
      summary: 'Feishu/Lark: group chats the bot is in (all pages), optionally searched',
      request: { params: idParam, query: z.object({ query: z.string().optional() }) },
      responses: {
        200: json(
          z.object({
            chats: z.array(
              z.object({ id: z.string(), name: z.string(), avatar: z.string().nullable().optional() }),
            ),
          }),
          'Chats',
        ),
        400: failure('The platform has no chat listing'),
      },
    }),
    async (c) => {
      const { record, client } = await clientOf(c.req.valid('param').id);
      if (!client.chats)
        throw new AppError(
          'bad_request',
          `${record.type} has no group chat listing; use a robot webhook for group notifications.`,
        );
      const query = c.req.valid('query').query;
      const chats = await cached(record, `chats:${query ?? ''}`, () => client.chats!(query));
      return c.json({ chats }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/im-apps/{id}/user-groups',
      tags,
      summary: 'Feishu/Lark: user groups',
      request: { params: idParam },
      responses: {
        200: json(
          z.object({
            groups: z.array(
              z.object({ id: z.string(), name: z.string(), member_count: z.number().nullable().optional() }),
            ),
          }),
          'Groups',
        ),
        400: failure('The platform has no user groups'),
      },
    }),
    async (c) => {
      const { record, client } = await clientOf(c.req.valid('param').id);
      if (!client.userGroups) throw new AppError('bad_request', `${record.type} has no user groups.`);
      return c.json({ groups: await cached(record, 'user-groups', () => client.userGroups!()) }, 200);
    },
  );
}

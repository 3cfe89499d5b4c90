// Request and response shapes of Settings → Integrations → IM. One object per platform with exactly the
// fields that platform issues; secrets are write-only.
import { z } from '@hono/zod-openapi';
import { imAppFields } from '../providers/im-app-fields.js';
import type { ImType } from '../providers/types.js';

const secret = (what: string) => z.string().trim().min(1, `${what} must not be empty`).max(512);
const aesKey = (label: string) =>
  z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9+/]{43}$/,
      `${label} must be exactly 43 characters of letters, digits, + and / (copy it whole from the console)`,
    );
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
// Workflows refer to apps by name and URLs by id (`ima_…`), so a name can never look like an id.
const name = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'name must be 1 to 63 characters of a-z, 0-9, _ and -')
  .refine((value) => !value.startsWith('ima_'), 'names starting with ima_ are reserved for app ids')
  .openapi({ example: 'feishu-main' });

const feishuFields = {
  name,
  app_id: z
    .string()
    .trim()
    .regex(
      /^cli_[A-Za-z0-9]{8,32}$/,
      'app_id looks like cli_a1b2c3d4e5f6a7b8 (开发者后台 → 凭证与基础信息 / Credentials & Basic Info)',
    ),
  app_secret: secret('app_secret'),
  encrypt_key: secret('encrypt_key').optional(),
  verification_token: secret('verification_token').optional(),
  event_mode: z.enum(['webhook', 'long_connection', 'poll']).optional(),
  api_base: url.optional(),
};
const dingtalkFields = {
  name,
  app_key: z.string().trim().min(1).max(128),
  agent_id: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(
      z
        .string()
        .regex(
          /^\d{1,15}$/,
          'agent_id is the number shown as AgentId on the app page (needed for work notifications)',
        ),
    )
    .optional(),
  app_secret: secret('app_secret'),
  aes_key: aesKey('aes_key').optional(),
  token: secret('token').optional(),
  event_mode: z.enum(['webhook', 'stream', 'poll']).optional(),
  api_base: url.optional(),
  oapi_base: url.optional(),
};
const wecomFields = {
  name,
  corp_id: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9]{6,64}$/,
      'corp_id is the 企业ID from 我的企业 → 企业信息 (My Company → Company Info)',
    ),
  agent_id: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d{1,12}$/, 'agent_id is the number shown as AgentId on the app page')),
  secret: secret('secret'),
  token: secret('token').optional(),
  encoding_aes_key: aesKey('encoding_aes_key').optional(),
  event_mode: z.enum(['webhook', 'poll']).optional(),
  api_base: url.optional(),
};

/**
 * Fields an event mode needs (DingTalk webhooks: aes_key and token) are reported together with every
 * other problem, not after the rest is fixed: the check runs even when other fields already failed.
 */
function requiredForMode(type: ImType) {
  const fields = imAppFields[type];
  return [
    (value: Record<string, unknown> | null, ctx: z.RefinementCtx) => {
      // Runs even when the value failed earlier checks, so it may not even be an object.
      if (!value || typeof value !== 'object') return;
      if ((value.event_mode ?? fields.defaultEventMode) !== 'webhook') return;
      for (const field of fields.requiredForWebhook) {
        if (value[field] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `${field} is required for event_mode webhook`,
          });
        }
      }
    },
    { when: () => true },
  ] as const;
}

export const createImAppSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('feishu'), ...feishuFields }).superRefine(...requiredForMode('feishu')),
    z.strictObject({ type: z.literal('lark'), ...feishuFields }).superRefine(...requiredForMode('lark')),
    z
      .strictObject({ type: z.literal('dingtalk'), ...dingtalkFields })
      .superRefine(...requiredForMode('dingtalk')),
    z.strictObject({ type: z.literal('wecom'), ...wecomFields }),
  ])
  .openapi('NewImApp');
export type CreateImApp = z.infer<typeof createImAppSchema>;

/** A PUT may leave out any secret (the stored one is kept) or send null to clear an optional one. */
const keepable = <T extends z.ZodTypeAny>(schema: T) => z.union([schema, z.null()]).optional();
export const updateImAppSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('feishu'),
      ...feishuFields,
      app_secret: secret('app_secret').optional(),
      encrypt_key: keepable(secret('encrypt_key')),
      verification_token: keepable(secret('verification_token')),
    }),
    z.strictObject({
      type: z.literal('lark'),
      ...feishuFields,
      app_secret: secret('app_secret').optional(),
      encrypt_key: keepable(secret('encrypt_key')),
      verification_token: keepable(secret('verification_token')),
    }),
    z.strictObject({
      type: z.literal('dingtalk'),
      ...dingtalkFields,
      app_secret: secret('app_secret').optional(),
      aes_key: keepable(aesKey('aes_key')),
      token: keepable(secret('token')),
    }),
    z.strictObject({
      type: z.literal('wecom'),
      ...wecomFields,
      secret: secret('secret').optional(),
      token: keepable(secret('token')),
      encoding_aes_key: keepable(aesKey('encoding_aes_key')),
    }),
  ])
  .openapi('ImAppUpdate');
export type UpdateImApp = z.infer<typeof updateImAppSchema>;

export const imAppSchema = z
  .object({
    id: z.string(),
    type: z.enum(['feishu', 'lark', 'dingtalk', 'wecom']),
    name: z.string(),
    event_mode: z.string(),
    sandbox: z.boolean(),
    callback_url: z.string().describe('Paste this into the platform console (unique to this app).'),
    settings: z
      .record(z.string(), z.string())
      .describe('Identifiers and API hosts (app_id, app_key, corp_id, agent_id, api_base, oapi_base).'),
    secrets: z
      .record(z.string(), z.string().nullable())
      .describe('Every secret field, "********" when set, null when not.'),
    status: z.object({
      credentials: z.enum(['ok', 'failed', 'unchecked']),
      last_check_at: z.string().nullable(),
      last_check_error: z.string().nullable(),
      last_event_at: z.string().nullable(),
      callback: z.enum(['verified', 'waiting', 'not_configured', 'not_used']),
      callback_hint: z.string().nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .catchall(z.unknown())
  .openapi('ImApp');

export const testResultSchema = z
  .object({
    ok: z.boolean(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    missing_permissions: z.array(z.string()),
    checked: z.array(z.string()),
  })
  .openapi('ImAppTest');

export const imUserSchema = z
  .object({
    id: z.string(),
    id_type: z.enum(['open_id', 'userid']),
    name: z.string(),
    avatar: z.string().nullable(),
    email: z.string().nullable().optional(),
    mobile: z.string().nullable().optional(),
    department_ids: z.array(z.string()).optional(),
  })
  .openapi('ImUser');

export const imDepartmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    parent_id: z.string().nullable(),
    member_count: z.number().nullable().optional(),
  })
  .openapi('ImDepartment');

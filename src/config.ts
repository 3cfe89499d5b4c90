// Configuration is read from the environment once, here, and every problem is reported at once.
import { resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';
import { type MailSettings, mailSettingsFromEnv } from './notifications/channels/mail.js';
import type { Language } from './notifications/message.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  SIGNOFF_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave it unset to use the embedded database)')
    .optional(),
  SIGNOFF_ADMIN_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
  SIGNOFF_PUBLIC_URL: z.url().optional(),
  SIGNOFF_SECRET_KEY: z.string().optional(),
  SIGNOFF_SANDBOX: z.enum(['true', 'false', '1', '0']).default('true'),
  SIGNOFF_LANGUAGE: z.enum(['en', 'zh-CN']).default('en'),
  SIGNOFF_SMTP_URL: z.string().optional(),
  SIGNOFF_MAIL_FROM: z.string().optional(),
  SIGNOFF_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SIGNOFF_METRICS_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
  SIGNOFF_SHUTDOWN_TIMEOUT: z.coerce
    .number()
    .int('must be a whole number of seconds')
    .min(5, 'must be at least 5 (seconds)')
    .max(3600)
    .default(20),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  adminToken: string | undefined;
  /** Where people reach this server (links in messages, callback URLs). */
  publicUrl: string;
  logLevel: string;
  /** Master key for secrets at rest; when absent, `<dataDir>/secret.key` (created at first start). */
  secretKey: string | undefined;
  /** Serve the fake Feishu, Lark, DingTalk and WeCom under /sandbox with an IM app for each. */
  sandbox: boolean;
  /** `SIGNOFF_SECRET_<NAME>` variables, readable in templates as `secrets.<name>`. */
  secrets: Record<string, string>;
  /** Default language of notification texts. */
  language: Language;
  /** SMTP for `mail` notifications (SIGNOFF_SMTP_URL, SIGNOFF_MAIL_FROM); undefined when not set. */
  mail: MailSettings | undefined;
  /** Bearer token GET /metrics asks for; without one, /metrics is open (it carries no secrets). */
  metricsToken: string | undefined;
  /** On SIGTERM the process has exited by then: in-flight work gets all but the last 5 s (SIGNOFF_SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
}

export function readConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')),
  );
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('bad_request', `The configuration is not valid:\n${lines.join('\n')}`);
  }
  const value = result.data;
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: resolve(value.SIGNOFF_DATA_DIR),
    databaseUrl: value.DATABASE_URL,
    adminToken: value.SIGNOFF_ADMIN_TOKEN,
    publicUrl: (value.SIGNOFF_PUBLIC_URL ?? `http://localhost:${value.PORT}`).replace(/\/$/, ''),
    logLevel: value.SIGNOFF_LOG_LEVEL,
    secretKey: value.SIGNOFF_SECRET_KEY,
    sandbox: value.SIGNOFF_SANDBOX === 'true' || value.SIGNOFF_SANDBOX === '1',
    language: value.SIGNOFF_LANGUAGE,
    mail: mailSettingsFromEnv(env),
    metricsToken: value.SIGNOFF_METRICS_TOKEN,
    shutdownTimeoutMs: value.SIGNOFF_SHUTDOWN_TIMEOUT * 1000,
    secrets: Object.fromEntries(
      Object.entries(env)
        .filter(
          ([name, secret]) => name.startsWith('SIGNOFF_SECRET_') && name !== 'SIGNOFF_SECRET_KEY' && secret,
        )
        .map(([name, secret]) => [name.slice('SIGNOFF_SECRET_'.length).toLowerCase(), secret!]),
    ),
  };
}

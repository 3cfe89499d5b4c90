// Structured logs (pino). Secret-bearing fields are redacted by name wherever they appear, so a secret
// passed along by mistake still never reaches a log line.
import pino from 'pino';

export type Logger = pino.Logger;

const secretFields = [
  'token',
  'secret',
  'app_secret',
  'aes_key',
  'encoding_aes_key',
  'encrypt_key',
  'verification_token',
  'password',
  'authorization',
  'url',
];

export const redactPaths = [
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
  ...secretFields.map((field) => `*.*.${field}`),
  'req.headers.authorization',
];

/**
 * Errors are logged by name, code, message and stack only: driver errors carry the failed query's
 * parameters (and PostgreSQL a `detail` quoting row data), which may hold decrypted vendor payloads.
 */
function errorSerializer(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
  };
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: errorSerializer },
      base: undefined,
    },
    options.destination ?? pino.destination(1),
  );
}

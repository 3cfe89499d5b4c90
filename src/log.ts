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

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: redactPaths, censor: '[redacted]' }, base: undefined },
    options.destination ?? pino.destination(1),
  );
}

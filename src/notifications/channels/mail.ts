// The `mail` channel's sender: one pooled SMTP transport per configured server (SIGNOFF_SMTP_URL), and
// every failure mapped into the error table so the notification job knows whether a retry can help.
// The server is only ever named as host:port: the URL carries the password, which no message or log
// may show.
import nodemailer, { type SMTPPoolSentMessageInfo } from 'nodemailer';
import { AppError, type AppErrorOptions } from '../../errors.js';

export interface MailSettings {
  /** `smtp://user:password@host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string;
  /** The From header, e.g. `Signoff <signoff@example.com>`. */
  from: string;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Sent as the Message-ID header: stable per message, so a retried send can be deduplicated. */
  messageId: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string; response: string }>;
  /** Connects and logs in once, to check the settings. */
  verify(): Promise<void>;
  close(): void;
}

const DEFAULT_MAIL_FROM = 'Signoff <signoff@localhost>';
const DEFAULT_TIMEOUT_MS = 10_000;
/** What 421 (closing) and 450 (mailbox busy) ask of us in practice: come back in a minute or so. */
const DEFERRED_WAIT_MS = 60_000;
const URL_HINT = 'expected smtp://user:password@host:port or smtps://user:password@host:port';

/** The mail settings the operator set, or undefined when mail is not configured. */
export function mailSettingsFromEnv(env: Record<string, string | undefined>): MailSettings | undefined {
  const url = env.SIGNOFF_SMTP_URL?.trim();
  if (!url) return undefined;
  parseSmtpUrl(url); // a malformed URL fails at startup rather than at the first notification
  const from = env.SIGNOFF_MAIL_FROM?.trim();
  return { url, from: from ? from : DEFAULT_MAIL_FROM };
}

export function createMailer(settings: MailSettings, options: { timeoutMs?: number } = {}): Mailer {
  const server = parseSmtpUrl(settings.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = nodemailer.createTransport({
    pool: true,
    host: server.host,
    port: server.port,
    secure: server.secure,
    ...(server.user !== undefined ? { auth: { user: server.user, pass: server.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
  });
  const context = { server: server.name, timeoutMs, secrets: secretForms(server), from: settings.from };

  return {
    async send(mail) {
      let info: SMTPPoolSentMessageInfo;
      try {
        info = await transport.sendMail({
          from: settings.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
        });
      } catch (error) {
        throw mailError(error, { ...context, to: mail.to });
      }
      // With several recipients the server may take some and refuse others: report the refusal
      // (a retry resends to all of them with the same Message-ID, which receivers can drop).
      const refused = info.rejectedErrors?.[0];
      if (refused) throw mailError(refused, { ...context, to: refused.recipient ?? mail.to });
      return { messageId: info.messageId ?? mail.messageId, response: info.response };
    },
    async verify() {
      try {
        await transport.verify();
      } catch (error) {
        throw mailError(error, context);
      }
    },
    close() {
      transport.close();
    },
  };
}

interface SmtpServer {
  host: string;
  port: number;
  secure: boolean;
  user: string | undefined;
  password: string | undefined;
  /** host:port, the only way the server is named in errors. */
  name: string;
}

function parseSmtpUrl(value: string): SmtpServer {
  const bad = (problem: string) => new AppError('bad_request', `SIGNOFF_SMTP_URL ${problem} (${URL_HINT}).`);
  // No `cause` anywhere below: URL errors carry the input, password included.
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('is not a valid URL; a password containing / ? # or % must be percent-encoded');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw bad('must start with smtp:// or smtps://');
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw bad('has a path after the host; a password containing / ? # or % must be percent-encoded');
  }
  if (url.search !== '' || url.hash !== '') {
    throw bad('takes no ?options or #fragment; a password containing / ? # or % must be percent-encoded');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw bad('names no host');
  const secure = url.protocol === 'smtps:';
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('has an invalid port');
  let user: string | undefined;
  let password: string | undefined;
  try {
    user = url.username === '' ? undefined : decodeURIComponent(url.username);
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    throw bad('has a malformed %-escape in its user or password');
  }
  if (user === undefined && password !== undefined) throw bad('has a password but no user');
  if (user !== undefined && password === undefined) throw bad('has a user but no password');
  const name = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { host, port, secure, user, password, name };
}

/** Every form the password could take in text a server sends back to us. */
function secretForms(server: SmtpServer): string[] {
  const { user, password } = server;
  if (!password) return [];
  const forms = [
    password,
    encodeURIComponent(password),
    Buffer.from(password).toString('base64'),
    Buffer.from(`\0${user ?? ''}\0${password}`).toString('base64'),
  ];
  // a very short password would turn redaction into a hint at what it is
  return [...new Set(forms)].filter((form) => form.length >= 4);
}

/** The fields nodemailer puts on its errors (and on each entry of `rejectedErrors`). */
interface SmtpFailure {
  message?: string;
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpFailure[];
}

interface FailureContext {
  server: string;
  timeoutMs: number;
  secrets: string[];
  from: string;
  to?: string;
}

function mailError(error: unknown, context: FailureContext): AppError {
  if (error instanceof AppError) return error;
  const failure: SmtpFailure = typeof error === 'object' && error !== null ? (error as SmtpFailure) : {};
  const clean = (text: string) => redact(text, context.secrets);
  const server = `The SMTP server ${context.server}`;
  const code = failure.code ?? '';
  const command = (failure.command ?? '').toUpperCase();
  // an envelope error names the recipient it is about
  const recipient = failure.recipient ?? failure.rejectedErrors?.[0]?.recipient ?? context.to;
  const reply = clean(failure.response ?? `${failure.responseCode ?? ''} ${failure.message ?? ''}`.trim());
  const responseCode = failure.responseCode;

  if (code === 'ETIMEDOUT') {
    return new AppError('upstream_timeout', `${server} did not answer within ${context.timeoutMs} ms.`);
  }

  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    // 4xx is transient by definition; 503 (bad sequence of commands) is about the session, not the mail
    if (responseCode < 500 || responseCode === 503) {
      const options: AppErrorOptions =
        responseCode === 421 || responseCode === 450 ? { retryAfterMs: DEFERRED_WAIT_MS } : {};
      if (command.startsWith('AUTH') || code === 'EAUTH') {
        return new AppError(
          'upstream_error',
          `${server} could not check the login for now: ${reply}`,
          options,
        );
      }
      if (command === 'RCPT TO' && recipient) {
        return new AppError(
          'upstream_error',
          `${server} deferred the mail to ${recipient}: ${reply}`,
          options,
        );
      }
      return new AppError('upstream_error', `${server} is not taking mail for now: ${reply}`, options);
    }
    if (command.startsWith('AUTH') || code === 'EAUTH') {
      return new AppError(
        'upstream_rejected',
        `${server} refused the login (${reply}): check SIGNOFF_SMTP_URL's user and password.`,
      );
    }
    if (responseCode === 530) {
      return new AppError(
        'upstream_rejected',
        `${server} requires a login (${reply}): put a user and password in SIGNOFF_SMTP_URL.`,
      );
    }
    if (command === 'MAIL FROM') {
      return new AppError(
        'upstream_rejected',
        `${server} refused the sender ${clean(context.from)} (${reply}): check SIGNOFF_MAIL_FROM.`,
      );
    }
    if (recipient) {
      return new AppError('upstream_rejected', `${server} refused the mail to ${recipient}: ${reply}`);
    }
    return new AppError('upstream_rejected', `${server} refused: ${reply}`);
  }

  const detail = clean(failure.originalCode ?? failure.message ?? 'unknown error');
  if (code === 'EAUTH') {
    return new AppError(
      'upstream_rejected',
      `${server} refused the login (${clean(failure.message ?? 'no reason given')}): check SIGNOFF_SMTP_URL's user and password.`,
    );
  }
  if (code === 'ENOAUTH') {
    return new AppError(
      'upstream_rejected',
      `${server} asked for a login that SIGNOFF_SMTP_URL does not give: put a user and password in it.`,
    );
  }
  if (code === 'EENVELOPE') {
    // no SMTP reply: nodemailer found no usable address before talking to the server
    return new AppError(
      'bad_request',
      `The mail has no valid recipient or sender: ${clean(failure.message ?? '')}`,
    );
  }
  if (code === 'ETLS' || /SSL|TLS|CERT/.test(failure.originalCode ?? '')) {
    // a certificate or protocol mismatch stays until someone changes the settings
    return new AppError(
      'upstream_rejected',
      `The TLS connection to ${context.server} failed (${detail}): smtps:// is for TLS from the first byte (usually port 465), smtp:// for STARTTLS (587 or 25).`,
    );
  }
  if (code === 'ECONNECTION' && !failure.originalCode) {
    return new AppError('upstream_error', `${server} closed the connection: ${clean(failure.message ?? '')}`);
  }
  return new AppError('upstream_error', `${server} could not be reached: ${detail}.`);
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

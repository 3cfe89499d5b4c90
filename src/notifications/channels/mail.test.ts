import { createServer, type Server } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { createMailer, type Mailer, mailSettingsFromEnv } from './mail.js';

const USER = 'signoff';
// characters that must be percent-encoded in the URL, to check they are decoded
const PASSWORD = 'p@ss/w0rd?#%-s3cret';
const URL_PASSWORD = encodeURIComponent(PASSWORD);

interface Received {
  from: string;
  to: string[];
  raw: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every message an error of this file carries, to check that none shows the password. */
const seenErrors: AppError[] = [];

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

async function startSmtp(
  hooks: Partial<Pick<SMTPServerOptions, 'onRcptTo' | 'onMailFrom'>> & {
    onMessage?: (received: Received) => Error | undefined;
  } = {},
): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    ...(hooks.onRcptTo ? { onRcptTo: hooks.onRcptTo } : {}),
    ...(hooks.onMailFrom ? { onMailFrom: hooks.onMailFrom } : {}),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const message: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        const refusal = hooks.onMessage?.(message);
        if (refusal) return callback(refusal);
        received.push(message);
        callback(null, 'Ok: queued as TEST1');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, received };
}

function mailer(port: number, options: { password?: string; timeoutMs?: number } = {}): Mailer {
  const password = options.password ?? URL_PASSWORD;
  const m = createMailer(
    { url: `smtp://${USER}:${password}@127.0.0.1:${port}`, from: 'Signoff <signoff@example.test>' },
    options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
  );
  cleanups.push(() => m.close());
  return m;
}

const mail = {
  to: 'ada@example.test',
  subject: 'Deploy to prod is waiting for you',
  html: '<p>Approve <b>deploy</b> #42</p>',
  text: 'Approve deploy #42',
  messageId: '<run-42.job-approve@signoff.example.test>',
};

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  seenErrors.push(error as AppError);
  return error as AppError;
}

function expectNoPassword(error: AppError): void {
  for (const text of [error.message, String(error.stack), JSON.stringify(error), String(error.cause ?? '')]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(URL_PASSWORD);
    expect(text).not.toContain('s3cret');
  }
}

async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('mail sender over SMTP', () => {
  it('delivers a mail with subject, from, to, a text and an HTML part and our Message-ID', async () => {
    const { port, received } = await startSmtp();
    const m = mailer(port);
    await m.verify();
    const result = await m.send(mail);

    expect(result.response).toContain('250');
    expect(result.messageId).toContain('run-42.job-approve@signoff.example.test');
    expect(received).toHaveLength(1);
    const { raw, from, to } = received[0]!;
    expect(from).toBe('signoff@example.test');
    expect(to).toEqual(['ada@example.test']);

    const [head, body] = splitOnce(raw, '\r\n\r\n');
    const headers = head.replace(/\r\n[ \t]+/g, ' ');
    expect(headers).toMatch(/^Subject: Deploy to prod is waiting for you$/m);
    expect(headers).toMatch(/^From: Signoff <signoff@example\.test>$/m);
    expect(headers).toMatch(/^To: ada@example\.test$/m);
    expect(headers).toMatch(/^Message-ID: <run-42\.job-approve@signoff\.example\.test>$/m);
    const boundary = /^Content-Type: multipart\/alternative;\s*boundary="([^"]+)"/m.exec(headers)?.[1];
    expect(boundary).toBeTruthy();
    const parts = body.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(2);
    const textPart = parts.find((part) => /Content-Type: text\/plain/.test(part));
    const htmlPart = parts.find((part) => /Content-Type: text\/html/.test(part));
    expect(textPart).toContain('Approve deploy #42');
    expect(htmlPart).toContain('<p>Approve <b>deploy</b> #42</p>');
  });

  it('sends a retried mail with the same Message-ID, over one pooled connection', async () => {
    const { port, received } = await startSmtp();
    const m = mailer(port);
    await m.send(mail);
    await m.send(mail);
    expect(received).toHaveLength(2);
    const ids = received.map((r) => /^Message-ID: (.*)$/m.exec(r.raw)?.[1]);
    expect(ids).toEqual([
      '<run-42.job-approve@signoff.example.test>',
      '<run-42.job-approve@signoff.example.test>',
    ]);
  });

  it('a wrong password is upstream_rejected, names host:port and never the password', async () => {
    const { port } = await startSmtp();
    const m = mailer(port, { password: 'wrong-s3cret' });
    for (const error of [await failure(m.send(mail)), await failure(m.verify())]) {
      expect(error.code).toBe('upstream_rejected');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).toContain('refused the login');
      expect(error.message).toContain('535');
      expect(error.message).toContain("check SIGNOFF_SMTP_URL's user and password");
      expect(error.message).not.toContain('wrong-s3cret');
      expect(error.message).not.toContain(`${USER}:`);
      expectNoPassword(error);
    }
  });

  it('a 550 for the recipient is upstream_rejected with the server reply', async () => {
    const { port, received } = await startSmtp({
      onRcptTo: (_address, _session, callback) => callback(smtpError(550, '5.1.1 mailbox unavailable')),
    });
    const error = await failure(mailer(port).send(mail));
    expect(error.code).toBe('upstream_rejected');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `The SMTP server 127.0.0.1:${port} refused the mail to ada@example.test: 550 5.1.1 mailbox unavailable`,
    );
    expect(received).toHaveLength(0);
    expectNoPassword(error);
  });

  it('a 553 for the sender points at SIGNOFF_MAIL_FROM; a 554 after DATA refuses the mail', async () => {
    const sender = await startSmtp({
      onMailFrom: (_address, _session, callback) =>
        callback(smtpError(553, '5.7.1 sender not owned by user')),
    });
    const fromError = await failure(mailer(sender.port).send(mail));
    expect(fromError.code).toBe('upstream_rejected');
    expect(fromError.message).toContain('553 5.7.1 sender not owned by user');
    expect(fromError.message).toContain('SIGNOFF_MAIL_FROM');

    const content = await startSmtp({ onMessage: () => smtpError(554, '5.7.1 message looks like spam') });
    const dataError = await failure(mailer(content.port).send(mail));
    expect(dataError.code).toBe('upstream_rejected');
    expect(dataError.message).toContain(
      'refused the mail to ada@example.test: 554 5.7.1 message looks like spam',
    );
  });

  it('a 451 is a retryable upstream_error; 421 and 450 ask to wait a minute', async () => {
    const replies: Record<string, [number, string]> = {
      'busy@example.test': [451, '4.3.0 temporary local problem'],
      'full@example.test': [450, '4.2.1 mailbox busy'],
      'closing@example.test': [421, '4.3.2 service shutting down'],
    };
    const { port } = await startSmtp({
      onRcptTo: (address, _session, callback) => {
        const [code, text] = replies[address.address] ?? [250, ''];
        callback(code === 250 ? undefined : smtpError(code, text));
      },
    });
    const m = mailer(port);

    const busy = await failure(m.send({ ...mail, to: 'busy@example.test' }));
    expect(busy.code).toBe('upstream_error');
    expect(busy.retryable).toBe(true);
    expect(busy.retryAfterMs).toBeUndefined();
    expect(busy.message).toContain('451 4.3.0 temporary local problem');
    expect(busy.message).toContain(`127.0.0.1:${port}`);

    const full = await failure(m.send({ ...mail, to: 'full@example.test' }));
    expect(full.code).toBe('upstream_error');
    expect(full.retryAfterMs).toBe(60_000);

    const closing = await failure(m.send({ ...mail, to: 'closing@example.test' }));
    expect(closing.retryable).toBe(true);
    expect(closing.retryAfterMs).toBe(60_000);
    expect(closing.message).toContain('421');

    // the pool recovers from the 421 (which closed its connection) for the next mail
    await expect(m.send(mail)).resolves.toMatchObject({ response: expect.stringContaining('250') });
  });

  it('a closed port is a retryable upstream_error naming host:port only', async () => {
    const port = await closedPort();
    const error = await failure(mailer(port).send(mail));
    expect(error.code).toBe('upstream_error');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`The SMTP server 127.0.0.1:${port} could not be reached: ECONNREFUSED.`);
    expectNoPassword(error);
  });

  it('a server that never greets is an upstream_timeout after timeoutMs', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      silent.close();
    });
    const address = silent.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const error = await failure(mailer(address.port, { timeoutMs: 200 }).send(mail));
    expect(error.code).toBe('upstream_timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`The SMTP server 127.0.0.1:${address.port} did not answer within 200 ms.`);
  });

  it('masks the password when a server echoes it back', async () => {
    const { port } = await startSmtp({
      onRcptTo: (_address, _session, callback) =>
        callback(smtpError(550, `5.7.1 relay denied for ${PASSWORD}`)),
    });
    const error = await failure(mailer(port).send(mail));
    expect(error.message).toContain('550 5.7.1 relay denied for ***');
    expectNoPassword(error);
  });

  it('no error message of this file contains the password', () => {
    expect(seenErrors.length).toBeGreaterThan(8);
    for (const error of seenErrors) expectNoPassword(error);
  });
});

describe('mail settings', () => {
  it('are undefined without SIGNOFF_SMTP_URL, and From defaults to Signoff <signoff@localhost>', () => {
    expect(mailSettingsFromEnv({})).toBeUndefined();
    expect(mailSettingsFromEnv({ SIGNOFF_SMTP_URL: '' })).toBeUndefined();
    expect(mailSettingsFromEnv({ SIGNOFF_SMTP_URL: 'smtp://u:pw@mail.example.test:587' })).toEqual({
      url: 'smtp://u:pw@mail.example.test:587',
      from: 'Signoff <signoff@localhost>',
    });
    expect(
      mailSettingsFromEnv({
        SIGNOFF_SMTP_URL: 'smtps://mail.example.test',
        SIGNOFF_MAIL_FROM: 'Ops <ops@example.test>',
      }),
    ).toEqual({ url: 'smtps://mail.example.test', from: 'Ops <ops@example.test>' });
  });

  it.each([
    ['not a url s3cret', 'is not a valid URL'],
    ['https://user:s3cret@mail.example.test', 'must start with smtp:// or smtps://'],
    ['smtp://user:123/s3cret@mail.example.test:587', 'has a path after the host'],
    ['smtp://user:s3cret@mail.example.test:587?tls=off', 'takes no ?options'],
    ['smtp://:s3cret@mail.example.test:587', 'has a password but no user'],
    ['smtp://user@mail.example.test:587', 'has a user but no password'],
    ['smtp://user:s3cret%zz@mail.example.test:587', 'malformed %-escape'],
    ['smtp://user:s3cret@mail.example.test:0', 'invalid port'],
    ['smtp://user:s3cret@mail.example.test:99999', 'is not a valid URL'],
  ])('a malformed SIGNOFF_SMTP_URL (%s) is bad_request without the password', (url, problem) => {
    for (const attempt of [
      () => mailSettingsFromEnv({ SIGNOFF_SMTP_URL: url }),
      () => createMailer({ url, from: 'x@example.test' }),
    ]) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('bad_request');
      expect((error as AppError).message).toContain('SIGNOFF_SMTP_URL');
      expect((error as AppError).message).toContain(problem);
      expect((error as AppError).message).not.toContain('s3');
      expect((error as AppError).cause).toBeUndefined();
    }
  });
});

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

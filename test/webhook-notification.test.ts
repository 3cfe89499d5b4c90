// Notification jobs with `channel: webhook`, against a real HTTP receiver on loopback.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases, job, startStack, type TestStack, waitForRun } from './stack.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe.each(databases)('webhook notifications on %s', (kind) => {
  let stack: TestStack;
  let receiver: Server;
  let url: string;
  const received: Received[] = [];
  let failuresLeft = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end('busy');
          return;
        }
        received.push({ headers: req.headers, body });
        res.writeHead(req.url?.startsWith('/gone') ? 410 : 200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    stack = await startStack(kind);
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('POSTs the event signed with the secret, params rendered as data', async () => {
    const yaml = `
name: notify
params:
  - name: version
stages:
  - name: tell
    jobs:
      - name: hook
        type: notification
        spec:
          channel: webhook
          url: ${url}/hook
          secret: "{{ secrets.hook_key }}"
          title: "Release {{ params.version }}"
          content: "run {{ run.number }}"
`;
    expect((await stack.call('POST', '/api/workflows', yaml)).status).toBe(201);
    const before = received.length;
    const { body: started } = await stack.call('POST', '/api/workflows/notify/runs', {
      params: { version: '{{ 7 * 6 }}' },
    });
    const run = await waitForRun(stack, started.id);
    expect(run.status).toBe('passed');
    const delivery = received[before]!;
    const payload = JSON.parse(delivery.body);
    expect(payload).toMatchObject({
      event: 'notification',
      title: 'Release {{ 7 * 6 }}',
      content: 'run 1',
      workflow: 'notify',
    });
    const expected = `sha256=${createHmac('sha256', 'the-hook-signing-secret').update(delivery.body).digest('hex')}`;
    expect(delivery.headers['x-signoff-signature']).toBe(expected);
    // The delivery id is the outbox row's: the same on every attempt, so a receiver can drop a redelivery.
    const { body: log } = await stack.call('GET', `/api/runs/${run.id}/notifications`);
    expect(log.notifications).toHaveLength(1);
    expect(delivery.headers['x-signoff-delivery']).toBe(`notification-${log.notifications[0].id}`);
    expect(stack.logs.join('')).not.toContain('the-hook-signing-secret');
  });

  it('retries a 503 and delivers once', async () => {
    failuresLeft = 1;
    const before = received.length;
    const { body: started } = await stack.call('POST', '/api/workflows/notify/runs', {
      params: { version: '2' },
    });
    const run = await waitForRun(stack, started.id);
    expect(run.status).toBe('passed');
    expect(job(run, 'hook').attempts).toBe(2);
    expect(received.length - before).toBe(1);
  });

  it('fails at once on a permanent refusal, with a reason that names no secret', async () => {
    const yaml = `
name: gone
stages:
  - name: tell
    jobs:
      - name: hook
        type: notification
        spec: { channel: webhook, url: "${url}/gone?key=abc123secret" }
`;
    await stack.call('POST', '/api/workflows', yaml);
    // the receiver answers 410 for /gone
    const { body: started } = await stack.call('POST', '/api/workflows/gone/runs', {});
    const run = await waitForRun(stack, started.id);
    expect(run.status).toBe('failed');
    expect(job(run, 'hook').attempts).toBe(1);
    expect(job(run, 'hook').reason).toContain('HTTP 410');
    expect(job(run, 'hook').reason).not.toContain('abc123secret');
  });
});

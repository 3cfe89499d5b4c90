// The fake checked against the official SDK (@larksuiteoapi/node-sdk) over a real loopback socket: the
// SDK's calls get what the platform would answer, and the SDK's own crypto accepts the fake's callbacks.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import * as lark from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTokenStore } from '../access-token.js';
import { handleFeishuCallback } from './callback.js';
import { createFeishuClient } from './client.js';
import { createFeishuFake, signoffFeishuScopes } from './fake.js';
import { seedAppId, seedChatId, seedDepartmentId, seedOpenId } from './seed.js';

const APP_ID = seedAppId('sdk-fidelity');
const SECRET = 'sdk-fidelity-secret';
const ENCRYPT_KEY = 'sdk-fidelity-encrypt-key';
const VERIFICATION_TOKEN = 'sdk-fidelity-token';

const fake = createFeishuFake({
  apps: [
    { app_id: APP_ID, app_secret: SECRET, encrypt_key: ENCRYPT_KEY, verification_token: VERIFICATION_TOKEN },
  ],
});
let server: ReturnType<typeof serve>;
let domain: string;
let sdk: lark.Client;
// The SDK logs every refused call at error level; these tests refuse on purpose.
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {} };

beforeAll(async () => {
  server = serve({ fetch: fake.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  domain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sdk = new lark.Client({ appId: APP_ID, appSecret: SECRET, domain, logger: quiet });
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

describe('Feishu fake against the official SDK', () => {
  it('answers contact.user.findByDepartment with code 0 and the documented page shape', async () => {
    const department = seedDepartmentId('platform');
    const answer = await sdk.contact.user.findByDepartment({
      params: {
        department_id: department,
        department_id_type: 'open_department_id',
        user_id_type: 'open_id',
        page_size: 50,
      },
    });
    expect(answer.code).toBe(0);
    expect(answer.data?.has_more).toBe(false);
    const li = answer.data?.items?.find((user) => user.open_id === seedOpenId('li.na'));
    expect(li).toMatchObject({ name: '李娜', email: 'li.na@example.com', department_ids: [department] });
    expect(li?.avatar?.avatar_240).toMatch(/^https:\/\//);
    // The SDK asked for a token once, over the socket.
    expect(fake.requests.filter((r) => r.path.endsWith('/tenant_access_token/internal'))).toHaveLength(1);
  });

  it('pages with the SDK iterator the way the platform pages', async () => {
    const names: string[] = [];
    for await (const page of await sdk.contact.user.findByDepartmentWithIterator({
      params: { department_id: seedDepartmentId('product'), page_size: 5 },
    })) {
      for (const user of page?.items ?? []) names.push(user.name);
    }
    const expected = fake.seed.users.filter(
      (u) => !u.is_resigned && u.department_ids.includes(seedDepartmentId('product')),
    );
    expect(names).toHaveLength(expected.length);
    expect(expected.length).toBeGreaterThan(5);
  });

  it('answers im.chat.list with the chats the bot is in', async () => {
    const answer = await sdk.im.chat.list({ params: { page_size: 100 } });
    expect(answer.code).toBe(0);
    expect(answer.data?.items?.map((chat) => chat.chat_id)).toContain(seedChatId('deploys'));
    expect(answer.data?.items?.map((chat) => chat.chat_id)).not.toContain(seedChatId('random'));
  });

  it('runs an approval through the SDK: definition, instance (idempotent uuid), get', async () => {
    const created = await sdk.approval.approval.create({
      params: { user_id_type: 'open_id' },
      data: {
        approval_name: '@i18n@name',
        viewers: [{ viewer_type: 'NONE' }],
        form: {
          form_content: JSON.stringify([
            { id: 'reason', type: 'textarea', name: '@i18n@reason', required: true },
          ]),
        },
        node_list: [
          { id: 'START' },
          { id: 'approve', name: '@i18n@node', node_type: 'OR', approver: [{ type: 'Free' }] },
          { id: 'END' },
        ],
        i18n_resources: [
          {
            locale: 'zh-CN',
            is_default: true,
            texts: [
              { key: '@i18n@name', value: 'Deploy' },
              { key: '@i18n@reason', value: 'Reason' },
              { key: '@i18n@node', value: 'Approver' },
            ],
          },
        ],
      },
    });
    expect(created.code).toBe(0);
    const approvalCode = created.data!.approval_code!;
    expect((await sdk.approval.approval.subscribe({ path: { approval_code: approvalCode } })).code).toBe(0);
    const request = {
      data: {
        approval_code: approvalCode,
        open_id: seedOpenId('zhang.wei'),
        form: JSON.stringify([{ id: 'reason', type: 'textarea', value: 'release 1.2' }]),
        node_approver_open_id_list: [{ key: 'approve', value: [seedOpenId('li.na')] }],
        uuid: 'sdk-run-1',
      },
    };
    const instance = await sdk.approval.instance.create(request);
    expect(instance.code).toBe(0);
    // A reused uuid is refused with 60012 (instance/create); the uuid then finds the instance (instance/get).
    await expect(sdk.approval.instance.create(request)).rejects.toMatchObject({
      response: { status: 400, data: { code: 60012 } },
    });
    const byUuid = await sdk.approval.instance.get({ path: { instance_id: 'sdk-run-1' } });
    expect(byUuid.data?.instance_code).toBe(instance.data?.instance_code);
    const got = await sdk.approval.instance.get({ path: { instance_id: instance.data!.instance_code } });
    expect(got.code).toBe(0);
    expect(got.data).toMatchObject({
      status: 'PENDING',
      approval_code: approvalCode,
      uuid: 'sdk-run-1',
      open_id: seedOpenId('zhang.wei'),
    });
    expect(got.data?.task_list[0]).toMatchObject({
      open_id: seedOpenId('li.na'),
      status: 'PENDING',
      custom_node_id: 'approve',
    });
  });

  it('refuses the SDK the way Feishu does (HTTP 400 + code), which the SDK throws as an AxiosError', async () => {
    fake.setScopes(APP_ID, []);
    try {
      await expect(sdk.im.chat.list({})).rejects.toMatchObject({
        response: { status: 400, data: { code: 99991672 } },
      });
    } finally {
      fake.setScopes(APP_ID, signoffFeishuScopes);
    }
  });

  it('serves our own client over the socket too', async () => {
    const client = createFeishuClient(
      { type: 'feishu', app_id: APP_ID, app_secret: SECRET, api_base: domain },
      { fetch, now: Date.now, tokens: memoryTokenStore() },
      { label: 'Feishu' },
    );
    expect((await client.findUsers({ email: 'chen.jie@example.com' })).map((u) => u.name)).toEqual(['陈杰']);
  });

  it('pushes callbacks that the SDK’s AESCipher decrypts and its EventDispatcher accepts', async () => {
    const callback = fake.eventRequest(APP_ID, 'approval.instance.status_changed_v4', {
      approval_code: 'A-1',
      instance_code: 'I-1',
      status: 'APPROVED',
    });
    const body = JSON.parse(callback.body) as { encrypt: string };
    const decrypted = JSON.parse(new lark.AESCipher(ENCRYPT_KEY).decrypt(body.encrypt));
    expect(decrypted).toMatchObject({
      schema: '2.0',
      header: { event_type: 'approval.instance.status_changed_v4', token: VERIFICATION_TOKEN },
    });

    const received: unknown[] = [];
    const dispatcher = new lark.EventDispatcher({
      encryptKey: ENCRYPT_KEY,
      verificationToken: VERIFICATION_TOKEN,
      logger: quiet,
    }).register({
      'approval.instance.status_changed_v4': async (data: unknown) => {
        received.push(data);
        return 'handled';
      },
    });
    // As the SDK's own adapters build it: the body, with the request headers on the prototype.
    const withHeaders = (request: typeof callback) =>
      Object.assign(Object.create({ headers: request.headers }), JSON.parse(request.body));
    expect(await dispatcher.invoke(withHeaders(callback))).toBe('handled');
    expect(received).toEqual([
      expect.objectContaining({
        instance_code: 'I-1',
        status: 'APPROVED',
        event_id: decrypted.header.event_id,
      }),
    ]);

    // A wrong signature is refused by the SDK as it is by us.
    const forged = { ...callback, headers: { ...callback.headers, 'x-lark-signature': '0'.repeat(64) } };
    expect(await dispatcher.invoke(withHeaders(forged))).toBeUndefined();
    expect(received).toHaveLength(1);
    expect(() =>
      handleFeishuCallback(
        {
          type: 'feishu',
          app_id: APP_ID,
          app_secret: SECRET,
          api_base: domain,
          encrypt_key: ENCRYPT_KEY,
          verification_token: VERIFICATION_TOKEN,
        },
        forged,
        { now: Date.now },
      ),
    ).toThrow(/signature/);
  });

  it('pushes a url_verification that the SDK’s challenge helper answers like our handler', async () => {
    const request = fake.urlVerificationRequest(APP_ID, 'sdk-challenge');
    const { isChallenge, challenge } = lark.generateChallenge(JSON.parse(request.body), {
      encryptKey: ENCRYPT_KEY,
    });
    expect(isChallenge).toBe(true);
    const ours = handleFeishuCallback(
      {
        type: 'feishu',
        app_id: APP_ID,
        app_secret: SECRET,
        api_base: domain,
        encrypt_key: ENCRYPT_KEY,
        verification_token: VERIFICATION_TOKEN,
      },
      request,
      { now: Date.now },
    );
    expect(JSON.parse(ours.body)).toEqual(challenge);
  });

  it('delivers a callback over HTTP exactly as built', async () => {
    const seen: Array<{ headers: Record<string, string>; body: string }> = [];
    const receiver = serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async (request) => {
        seen.push({ headers: Object.fromEntries(request.headers), body: await request.text() });
        return new Response('{}', { headers: { 'content-type': 'application/json' } });
      },
    });
    try {
      await new Promise<void>((resolve) => receiver.once('listening', () => resolve()));
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/feishu/x`;
      const callback = fake.eventRequest(APP_ID, 'x.y', {});
      const response = await fake.deliver(url, callback);
      expect(response.status).toBe(200);
      expect(seen[0]!.body).toBe(callback.body);
      expect(seen[0]!.headers['x-lark-signature']).toBe(callback.headers['x-lark-signature']);
      const result = handleFeishuCallback(
        {
          type: 'feishu',
          app_id: APP_ID,
          app_secret: SECRET,
          api_base: domain,
          encrypt_key: ENCRYPT_KEY,
          verification_token: VERIFICATION_TOKEN,
        },
        { method: 'POST', query: {}, headers: seen[0]!.headers, body: seen[0]!.body },
        { now: Date.now },
      );
      expect(result.event?.type).toBe('x.y');
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

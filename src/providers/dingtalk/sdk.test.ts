// Fidelity: the fake checked against DingTalk's official SDK (@alicloud/dingtalk with
// @alicloud/openapi-client) over a real loopback socket, and its callbacks against @wecom/crypto (the
// same algorithm; platforms.md §2 says vendor vector D1 passes through it). Our own client talks to the
// same socket, so this is also the client's real-HTTP test.

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { decrypt, getSignature } from '@wecom/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTokenStore } from '../access-token.js';
import type { Fetch } from '../http.js';
import type { ImAppConfig } from '../types.js';
import { handleDingTalkCallback } from './callback.js';
import { createDingTalkClient, type DingTalkClient } from './client.js';
import { createDingTalkFake } from './fake.js';

// The SDK is CommonJS with `exports.default = Client` and its models beside it.
const require = createRequire(import.meta.url);
const OpenApi = require('@alicloud/openapi-client');
const OAuth2 = require('@alicloud/dingtalk/oauth2_1_0');
const Workflow = require('@alicloud/dingtalk/workflow_1_0');
const Util = require('@alicloud/tea-util');

interface Captured {
  url: URL;
  body: { encrypt: string };
}

const captured: Captured[] = [];
let appConfig: ImAppConfig;

/** Receives the fake's callbacks as our route would (verify, decrypt, answer), keeping the raw request. */
const callbackFetch: Fetch = async (input, init) => {
  const url = new URL(String(input));
  const body = String(init?.body ?? '');
  captured.push({ url, body: JSON.parse(body) });
  const result = handleDingTalkCallback(
    appConfig,
    { method: 'POST', query: Object.fromEntries(url.searchParams), headers: {}, body },
    { now: Date.now },
  );
  return new Response(result.body, {
    status: result.status,
    headers: { 'content-type': result.content_type },
  });
};

const fake = createDingTalkFake({ callbackFetch });
const app = fake.seed.app;
let server: ReturnType<typeof serve>;
let port = 0;
let client: DingTalkClient;

function sdkConfig() {
  return new OpenApi.Config({ protocol: 'http', regionId: 'central', endpoint: `127.0.0.1:${port}` });
}

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: fake.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  appConfig = {
    type: 'dingtalk',
    app_key: app.appKey,
    app_secret: app.appSecret,
    aes_key: app.aesKey,
    token: app.token,
    api_base: `http://127.0.0.1:${port}`,
    oapi_base: `http://127.0.0.1:${port}`,
  };
  client = createDingTalkClient(appConfig, {
    fetch: (input, init) => fetch(input, init),
    now: Date.now,
    tokens: memoryTokenStore(),
  });
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

async function sdkToken(): Promise<string> {
  const oauth = new OAuth2.default(sdkConfig());
  const response = await oauth.getAccessToken(
    new OAuth2.GetAccessTokenRequest({ appKey: app.appKey, appSecret: app.appSecret }),
  );
  return response.body.accessToken;
}

describe('DingTalk fake against the official SDK (loopback)', () => {
  it('issues a token to oauth2_1_0 getAccessToken that both hosts accept', async () => {
    const oauth = new OAuth2.default(sdkConfig());
    const response = await oauth.getAccessToken(
      new OAuth2.GetAccessTokenRequest({ appKey: app.appKey, appSecret: app.appSecret }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body.expireIn).toBe(7200);
    const token = response.body.accessToken as string;
    const old = await fetch(`http://127.0.0.1:${port}/topapi/v2/user/get?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userid: 'lina' }),
    });
    expect(await old.json()).toMatchObject({ errcode: 0, result: { userid: 'lina' } });
  });

  it('refuses a wrong secret in a way the SDK reports with DingTalk’s code', async () => {
    const oauth = new OAuth2.default(sdkConfig());
    const error = await oauth
      .getAccessToken(new OAuth2.GetAccessTokenRequest({ appKey: app.appKey, appSecret: 'wrong' }))
      .then(
        () => undefined,
        (e: unknown) => e as { code: string; data: { statusCode: number; requestid?: string } },
      );
    expect(error?.code).toBe('invalidClientIdOrSecret');
    expect(error?.data.statusCode).toBe(400);
    expect(error?.data.requestid).toBeTruthy();
  });

  it('serves workflow_1_0 start/get/terminate in the SDK’s response shapes', async () => {
    const processCode = await client.saveForm({
      name: 'SDK fidelity',
      formComponents: [{ componentType: 'TextField', props: { componentId: 'TextField-1', label: '版本' } }],
    });
    const token = await sdkToken();
    const workflow = new Workflow.default(sdkConfig());
    const started = await workflow.startProcessInstanceWithOptions(
      new Workflow.StartProcessInstanceRequest({
        processCode,
        originatorUserId: 'zhangwei',
        deptId: 2,
        formComponentValues: [
          new Workflow.StartProcessInstanceRequestFormComponentValues({ name: '版本', value: 'v9' }),
        ],
        approvers: [
          new Workflow.StartProcessInstanceRequestApprovers({ actionType: 'NONE', userIds: ['manager001'] }),
        ],
      }),
      new Workflow.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
      new Util.RuntimeOptions({}),
    );
    const instanceId = started.body.instanceId as string;
    expect(instanceId).toBeTruthy();

    const headers = new Workflow.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: token });
    const get = () =>
      workflow.getProcessInstanceWithOptions(
        new Workflow.GetProcessInstanceRequest({ processInstanceId: instanceId }),
        headers,
        new Util.RuntimeOptions({}),
      );
    const running = await get();
    expect(running.body).toBeInstanceOf(Workflow.GetProcessInstanceResponseBody);
    expect(running.body.success).toBe('true');
    expect(running.body.result.status).toBe('RUNNING');
    expect(running.body.result.originatorUserId).toBe('zhangwei');
    expect(running.body.result.formComponentValues[0]).toMatchObject({ name: '版本', value: 'v9' });
    expect(typeof running.body.result.tasks[0].taskId).toBe('number');
    expect(running.body.result.tasks[0]).toMatchObject({ userId: 'manager001', status: 'RUNNING' });

    fake.decide(instanceId, 'manager001', 'agree');
    const done = await get();
    expect([done.body.result.status, done.body.result.result]).toEqual(['COMPLETED', 'agree']);
    // Our client reads the same instance over the same socket.
    expect((await client.getProcessInstance(instanceId)).result).toBe('agree');

    const second = await workflow.startProcessInstanceWithOptions(
      new Workflow.StartProcessInstanceRequest({
        processCode,
        originatorUserId: 'zhangwei',
        deptId: -1,
        formComponentValues: [
          new Workflow.StartProcessInstanceRequestFormComponentValues({ name: '版本', value: 'v10' }),
        ],
      }),
      new Workflow.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
      new Util.RuntimeOptions({}),
    );
    const terminated = await workflow.terminateProcessInstanceWithOptions(
      new Workflow.TerminateProcessInstanceRequest({
        processInstanceId: second.body.instanceId,
        isSystem: true,
        remark: 'cancelled by pipeline',
      }),
      new Workflow.TerminateProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
      new Util.RuntimeOptions({}),
    );
    expect(terminated.body).toMatchObject({ success: true, result: true });
  });

  it('reports a missing permission the way the SDK surfaces it', async () => {
    const token = await sdkToken();
    fake.revoke('Workflow.Instance.Read');
    try {
      const workflow = new Workflow.default(sdkConfig());
      const error = await workflow
        .getProcessInstanceWithOptions(
          new Workflow.GetProcessInstanceRequest({ processInstanceId: 'x' }),
          new Workflow.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
          new Util.RuntimeOptions({}),
        )
        .then(
          () => undefined,
          (e: unknown) => e as { code: string; message: string },
        );
      expect(error?.code).toBe('Forbidden.AccessDenied.AccessTokenPermissionDenied');
      expect(error?.message).toContain('Workflow.Instance.Read');
    } finally {
      fake.grant('Workflow.Instance.Read');
    }
  });

  it('pushes callbacks that @wecom/crypto verifies and decrypts (owner key = AppKey)', async () => {
    captured.length = 0;
    // Events of the tests above had no URL to go to; look only at what follows the subscription.
    const before = fake.deliveries.length;
    expect(await fake.subscribe('http://signoff.invalid/callbacks/dingtalk/ima_sdk')).toBe(true);
    const processCode = await client.saveForm({
      name: 'Callback fidelity',
      formComponents: [{ componentType: 'TextField', props: { componentId: 'TextField-1', label: '版本' } }],
    });
    await client.startProcessInstance({
      processCode,
      originatorUserId: 'lina',
      formComponentValues: [{ name: '版本', value: 'v11' }],
      approvers: [{ actionType: 'NONE', userIds: ['manager001'] }],
    });
    await fake.flush();
    expect(captured.map((c) => JSON.parse(decrypt(app.aesKey, c.body.encrypt).message).EventType)).toEqual([
      'check_url',
      'bpms_instance_change',
      'bpms_task_change',
    ]);
    for (const { url, body } of captured) {
      const timestamp = url.searchParams.get('timestamp')!;
      const nonce = url.searchParams.get('nonce')!;
      expect(getSignature(app.token, timestamp, nonce, body.encrypt)).toBe(
        url.searchParams.get('msg_signature'),
      );
      expect(decrypt(app.aesKey, body.encrypt).id).toBe(app.appKey);
      expect(Math.abs(Number(timestamp) - Date.now())).toBeLessThan(60_000);
    }
    expect(fake.deliveries.slice(before).map((d) => d.ok)).toEqual([true, true, true]);
  });
});

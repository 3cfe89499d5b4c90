import { serve } from '@hono/node-server';
import { decrypt, getSignature } from '@wecom/crypto';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppError } from '../../errors.js';
import { memoryTokenStore } from '../access-token.js';
import { fakeClock } from '../fake-kit.js';
import type { Fetch } from '../http.js';
import type { ImAppConfig, ImEvent } from '../types.js';
import { handleWeComCallback, type WeComApprovalEvent } from './callback.js';
import { createWeComClient } from './client.js';
import { createWeComFake } from './fake.js';
import { wecomSandboxSeed } from './seed.js';
import { parseXml, textOf } from './xml.js';

const corpId = wecomSandboxSeed.corp_id;
const sandboxApp = wecomSandboxSeed.apps[0]!;
const callback = sandboxApp.callback!;

const template = {
  template_name: [{ text: '部署审批', lang: 'zh_CN' }],
  template_content: {
    controls: [
      {
        property: {
          control: 'Text',
          id: 'Text-1',
          title: [{ text: '内容', lang: 'zh_CN' }],
          require: 1 as const,
        },
      },
    ],
  },
};

async function call(fake: ReturnType<typeof createWeComFake>, path: string, init?: RequestInit) {
  const response = await fake.fetch(`https://qyapi.example.test${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function tokenOf(fake: ReturnType<typeof createWeComFake>): Promise<string> {
  const { body } = await call(
    fake,
    `/cgi-bin/gettoken?corpid=${corpId}&corpsecret=${encodeURIComponent(sandboxApp.secret)}`,
  );
  return body.access_token as string;
}

async function submit(
  fake: ReturnType<typeof createWeComFake>,
  approver = [{ attr: 1 as const, userid: ['ZhangWei', 'LiNa'] }],
) {
  const client = createWeComClient(
    {
      type: 'wecom',
      corp_id: corpId,
      agent_id: sandboxApp.agent_id,
      secret: sandboxApp.secret,
      api_base: 'http://fake',
    },
    { fetch: fake.fetch, now: fake.clock.now, tokens: memoryTokenStore() },
  );
  const templateId = await client.createTemplate(template);
  return client.applyEvent({
    creator_userid: 'SignoffAdmin',
    template_id: templateId,
    use_template_approver: 0,
    approver,
    apply_data: { contents: [{ control: 'Text', id: 'Text-1', value: { text: 'deploy' } }] },
  });
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function listen(app: Hono): Promise<string> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
    closers.push(() => new Promise((done) => server.close(() => done())));
  });
}

describe('WeCom fake: wire strictness', () => {
  it('answers every refusal with HTTP 200, errcode and a WeCom-style errmsg', async () => {
    const fake = createWeComFake();
    const missing = await call(fake, '/cgi-bin/department/list');
    expect(missing.status).toBe(200);
    expect(missing.body.errcode).toBe(41001);
    expect(missing.body.errmsg).toMatch(
      /^access_token missing, hint: \[\d+_\d+_[0-9a-f]+\], from ip: .*devtool\/query\?e=41001$/,
    );
    expect((await call(fake, '/cgi-bin/department/list?access_token=forged')).body.errcode).toBe(40014);

    const token = await tokenOf(fake);
    expect(
      (await call(fake, `/cgi-bin/department/list?access_token=${token}`, { method: 'POST', body: '{}' }))
        .body.errcode,
    ).toBe(40063);
    const unknownField = await call(fake, `/cgi-bin/user/getuserid?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify({ mobile: '+86 13800000001', mobil: 'typo' }),
    });
    expect(unknownField.body.errcode).toBe(40058);
    const notJson = await call(fake, `/cgi-bin/user/getuserid?access_token=${token}`, {
      method: 'POST',
      body: '{mobile',
    });
    expect(notJson.body.errcode).toBe(47001);
    expect(await call(fake, `/cgi-bin/no/such/api?access_token=${token}`)).toMatchObject({
      status: 200,
      body: { errcode: 404 },
    });
  });

  it('hands out the same token while it is valid, with its remaining lifetime, and expires it after 7200 s', async () => {
    const fake = createWeComFake({ clock: fakeClock(Date.UTC(2026, 0, 1)) });
    const path = `/cgi-bin/gettoken?corpid=${corpId}&corpsecret=${encodeURIComponent(sandboxApp.secret)}`;
    const first = (await call(fake, path)).body;
    expect(first).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    fake.clock.advance(7000_000);
    expect((await call(fake, path)).body).toMatchObject({
      access_token: first.access_token,
      expires_in: 200,
    });
    fake.clock.advance(200_000);
    expect(
      (await call(fake, `/cgi-bin/department/list?access_token=${first.access_token}`)).body.errcode,
    ).toBe(42001);
    const next = (await call(fake, path)).body;
    expect(next.access_token).not.toBe(first.access_token);
    expect(fake.stats.tokenRequests).toBe(3);
  });

  it('drops app messages over 30 a minute to one member without telling the sender, like WeCom', async () => {
    const fake = createWeComFake();
    const token = await tokenOf(fake);
    for (let i = 0; i < 31; i++) {
      const sent = await call(fake, `/cgi-bin/message/send?access_token=${token}`, {
        method: 'POST',
        body: JSON.stringify({
          touser: 'LiNa',
          msgtype: 'text',
          agentid: 1000002,
          text: { content: `#${i}` },
        }),
      });
      expect(sent.body.errcode).toBe(0);
    }
    expect(fake.messages).toHaveLength(30);
    expect(fake.droppedMessages).toHaveLength(1);
    fake.clock.advance(60_001);
    await call(fake, `/cgi-bin/message/send?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify({ touser: 'LiNa', msgtype: 'text', agentid: 1000002, text: { content: 'later' } }),
    });
    expect(fake.messages).toHaveLength(31);
  });

  it('refuses approval APIs to an app that is not among the approval callable apps (48002)', async () => {
    const fake = createWeComFake();
    fake.updateApp(corpId, sandboxApp.agent_id, { approval_access: false });
    const token = await tokenOf(fake);
    const answer = await call(fake, `/cgi-bin/oa/approval/create_template?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify(template),
    });
    expect(answer.body.errcode).toBe(48002);
  });
});

describe('WeCom fake: mounting', () => {
  it('serves its API under a prefix, as the sandbox mounts it', async () => {
    const fake = createWeComFake();
    const host = new Hono();
    host.route('/sandbox/wecom', fake.app);
    const client = createWeComClient(
      {
        type: 'wecom',
        corp_id: corpId,
        agent_id: sandboxApp.agent_id,
        secret: sandboxApp.secret,
        api_base: 'http://signoff.local/sandbox/wecom',
      },
      {
        fetch: async (input, init) => host.request(String(input), init),
        now: fake.clock.now,
        tokens: memoryTokenStore(),
      },
    );
    expect((await client.department('1')).departments).toHaveLength(3);
    expect(await client.checkPermissions()).toMatchObject({ missing: [] });
  });
});

describe('WeCom fake: decisions', () => {
  it('settles an OR node on the first approval and an AND node on the last, and a rejection at once', async () => {
    const fake = createWeComFake();
    const spNo = await submit(fake, [
      { attr: 1, userid: ['ZhangWei', 'LiNa'] },
      { attr: 2, userid: ['WangFang', 'LiuYang'] } as never,
    ]);
    fake.decide(spNo, 'LiNa', 'approve');
    expect(fake.approval(spNo)!.nodes.map((node) => node.sp_status)).toEqual([2, 1]);
    expect(() => fake.decide(spNo, 'ZhangWei', 'approve')).toThrow();
    fake.decide(spNo, 'WangFang', 'approve');
    expect(fake.approval(spNo)!.sp_status).toBe(1);
    fake.decide(spNo, 'LiuYang', 'approve');
    expect(fake.approval(spNo)!.sp_status).toBe(2);
    fake.revoke(spNo);
    expect(fake.approval(spNo)!.sp_status).toBe(6);

    const rejected = await submit(fake);
    fake.decide(rejected, 'ZhangWei', 'reject', 'not today');
    expect(fake.approvals({ status: 3 }).map((approval) => approval.sp_no)).toEqual([rejected]);
    const withdrawn = await submit(fake);
    fake.withdraw(withdrawn);
    expect(fake.approval(withdrawn)!.sp_status).toBe(4);
  });
});

describe('WeCom fake: callbacks, checked with the official @wecom/crypto', () => {
  it('verifies the URL and pushes sys_approval_change that @wecom/crypto verifies and decrypts for the corp id', async () => {
    const received: { message: string; outer: ReturnType<typeof parseXml> }[] = [];
    const outbound: Fetch = async (input, init) => {
      const query = new URL(String(input)).searchParams;
      const [signature, timestamp, nonce] = ['msg_signature', 'timestamp', 'nonce'].map(
        (name) => query.get(name)!,
      );
      if ((init?.method ?? 'GET') === 'GET') {
        const echostr = query.get('echostr')!;
        expect(getSignature(callback.token, timestamp!, nonce!, echostr)).toBe(signature);
        const { message, id } = decrypt(callback.encoding_aes_key, echostr);
        expect(id).toBe(corpId);
        return new Response(message);
      }
      const outer = parseXml(String(init?.body));
      const encrypt = textOf(outer, 'Encrypt')!;
      expect(getSignature(callback.token, timestamp!, nonce!, encrypt)).toBe(signature);
      const { message, id } = decrypt(callback.encoding_aes_key, encrypt);
      expect(id).toBe(corpId);
      received.push({ message, outer });
      return new Response('success');
    };
    const fake = createWeComFake({ fetch: outbound });
    const setup = await fake.configureCallback(corpId, sandboxApp.agent_id, {
      url: 'https://signoff.example.test/callbacks/wecom/ima_1',
      token: callback.token,
      encodingAesKey: callback.encoding_aes_key,
    });
    expect(setup).toEqual({ ok: true, status: 200 });

    const spNo = await submit(fake);
    fake.decide(spNo, 'ZhangWei', 'approve', '同意');
    await fake.idle();
    expect(received).toHaveLength(2);
    expect(received.map(({ outer }) => outer.children.map((element) => element.name))).toEqual([
      ['ToUserName', 'Encrypt', 'AgentID'],
      ['ToUserName', 'Encrypt', 'AgentID'],
    ]);
    expect(textOf(received[0]!.outer, 'ToUserName')).toBe(corpId);
    expect(textOf(received[0]!.outer, 'AgentID')).toBe(sandboxApp.agent_id);
    const last = parseXml(received[1]!.message);
    expect(textOf(last, 'Event')).toBe('sys_approval_change');
    const info = last.children.find((element) => element.name === 'ApprovalInfo');
    expect([textOf(info, 'SpNo'), textOf(info, 'SpStatus'), textOf(info, 'StatuChangeEvent')]).toEqual([
      spNo,
      '2',
      '2',
    ]);
    expect(fake.deliveries.map((delivery) => [delivery.kind, delivery.ok])).toEqual([
      ['verify', true],
      ['event', true],
      ['event', true],
    ]);
  });

  it('keeps no settings when the verification answer is wrong, and then pushes nothing', async () => {
    const fake = createWeComFake({ fetch: async () => new Response('"1234"') });
    const setup = await fake.configureCallback(corpId, sandboxApp.agent_id, {
      url: 'https://signoff.example.test/callbacks/wecom/ima_1',
      token: callback.token,
      encodingAesKey: callback.encoding_aes_key,
    });
    expect(setup).toMatchObject({ ok: false, error: 'the answer is not the decrypted echostr' });
    const spNo = await submit(fake);
    fake.decide(spNo, 'ZhangWei', 'approve');
    await fake.idle();
    expect(fake.deliveries).toHaveLength(1);
  });

  it('retries a failed push up to 3 times with the same signed request', async () => {
    const bodies: string[] = [];
    let answers = [500, 502, 200];
    const fake = createWeComFake({
      retryDelaysMs: [0, 0, 0],
      fetch: async (_input, init) => {
        if ((init?.method ?? 'GET') === 'GET') {
          const echostr = new URL(String(_input)).searchParams.get('echostr')!;
          return new Response(decrypt(callback.encoding_aes_key, echostr).message);
        }
        bodies.push(String(init?.body));
        return new Response('', { status: answers.shift() ?? 500 });
      },
    });
    await fake.configureCallback(corpId, sandboxApp.agent_id, {
      url: 'http://x/cb',
      token: callback.token,
      encodingAesKey: callback.encoding_aes_key,
    });
    await submit(fake);
    await fake.idle();
    expect(fake.deliveries[1]).toMatchObject({
      kind: 'event',
      ok: true,
      attempts: 3,
      status: 200,
      statu_change_event: 1,
    });
    expect(new Set(bodies).size).toBe(1);

    answers = [];
    await submit(fake);
    await fake.idle();
    expect(fake.deliveries[2]).toMatchObject({ ok: false, attempts: 4, error: 'HTTP 500' });
  });

  it('runs end to end over loopback: client → fake, fake → our handler, with the handler verifying', async () => {
    const clock = fakeClock();
    const fake = createWeComFake({ clock });
    const fakeUrl = await listen(fake.app);

    const config: ImAppConfig = {
      type: 'wecom',
      corp_id: corpId,
      agent_id: sandboxApp.agent_id,
      secret: sandboxApp.secret,
      token: callback.token,
      encoding_aes_key: callback.encoding_aes_key,
      api_base: fakeUrl,
    };
    const events: ImEvent[] = [];
    const receiver = new Hono();
    receiver.on(['GET', 'POST'], '/callbacks/wecom/ima_1', async (c) => {
      try {
        const result = handleWeComCallback(
          config,
          {
            method: c.req.method,
            query: Object.fromEntries(new URL(c.req.url).searchParams),
            headers: {},
            body: c.req.method === 'POST' ? await c.req.text() : '',
          },
          { now: clock.now },
        );
        if (result.event) events.push(result.event);
        return c.body(result.body, 200, { 'content-type': result.content_type });
      } catch (error) {
        return c.json({ error: (error as AppError).message }, (error as AppError).status as 400);
      }
    });
    const receiverUrl = await listen(receiver);

    expect(
      await fake.configureCallback(corpId, sandboxApp.agent_id, {
        url: `${receiverUrl}/callbacks/wecom/ima_1`,
        token: callback.token,
        encodingAesKey: callback.encoding_aes_key,
      }),
    ).toEqual({ ok: true, status: 200 });

    const client = createWeComClient(config as Extract<ImAppConfig, { type: 'wecom' }>, {
      fetch: (input, init) => fetch(input, init),
      now: clock.now,
      tokens: memoryTokenStore(),
    });
    await client.checkCredentials();
    const templateId = await client.createTemplate(template);
    const spNo = await client.applyEvent({
      creator_userid: 'SignoffAdmin',
      template_id: templateId,
      use_template_approver: 0,
      approver: [{ attr: 1, userid: ['WangFang'] }],
      apply_data: { contents: [{ control: 'Text', id: 'Text-1', value: { text: 'deploy v2' } }] },
    });
    fake.decide(spNo, 'WangFang', 'reject', 'freeze week');
    await fake.idle();

    expect(events.map((event) => event.type)).toEqual(['sys_approval_change', 'sys_approval_change']);
    const decided = events[1]!.payload as WeComApprovalEvent;
    expect(decided.statu_change_event).toBe(3);
    expect(decided.info).toMatchObject({ sp_no: spNo, sp_status: 3 });
    expect(decided.info.sp_record[0]!.details[0]).toMatchObject({
      approver: { userid: 'WangFang' },
      speech: 'freeze week',
      sp_status: 3,
    });
    expect((await client.approvalDetail(spNo)).sp_status).toBe(3);
  });
});

describe('WeCom fake: approval states and detail', () => {
  it('answers getapprovaldetail with sp_record, process_list, comments and control titles as WeCom does', async () => {
    const fake = createWeComFake();
    const spNo = await submit(fake, [
      { attr: 2, userid: ['ZhangWei', 'LiNa'] } as never,
      { attr: 1, userid: ['WangFang'] },
    ]);
    fake.transfer(spNo, 'LiNa', 'ZhaoLei', 'yours');
    fake.decide(spNo, 'ZhangWei', 'approve');
    fake.comment(spNo, 'WangFang', 'looking at it');
    const token = await tokenOf(fake);
    const { body } = await call(fake, `/cgi-bin/oa/getapprovaldetail?access_token=${token}`, {
      method: 'POST',
      body: JSON.stringify({ sp_no: spNo }),
    });
    const info = body.info as Record<string, any>;
    expect(info.sp_record[0]).toMatchObject({
      sp_status: 1,
      approverattr: 2,
      details: [
        { approver: { userid: 'ZhangWei' }, sp_status: 2 },
        { approver: { userid: 'LiNa' }, sp_status: 4, speech: 'yours' },
        { approver: { userid: 'ZhaoLei' }, sp_status: 1, sptime: 0 },
      ],
    });
    // node_list numbering in process_list: apv_rel 1 = AND, 2 = OR.
    expect(info.process_list.node_list.map((node: any) => [node.node_type, node.apv_rel])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(info.process_list.node_list[0].sub_node_list[1]).toMatchObject({ userid: 'LiNa', sp_yj: 4 });
    expect(info.comments).toMatchObject([
      { commentUserInfo: { userid: 'WangFang' }, commentcontent: 'looking at it', media_id: [] },
    ]);
    expect(info.comments[0].commentid).toMatch(/^\d+$/);
    expect(info.apply_data.contents[0]).toMatchObject({
      control: 'Text',
      id: 'Text-1',
      title: [{ text: '内容', lang: 'zh_CN' }],
      value: { text: 'deploy' },
    });

    // The AND node settles once the member the decision was forwarded to agrees.
    fake.decide(spNo, 'ZhaoLei', 'approve');
    expect(fake.approval(spNo)!.nodes.map((node) => node.sp_status)).toEqual([2, 1]);
    fake.decide(spNo, 'WangFang', 'approve');
    fake.pay(spNo);
    expect(fake.approval(spNo)!.sp_status).toBe(10);
    fake.remove(spNo);
    expect(fake.approval(spNo)!.sp_status).toBe(7);
    expect(() => fake.remove(spNo)).toThrow();
  });

  it('sends StatuChangeEvent 4 for 转审 and 10 for a remark, and nothing for a deletion', async () => {
    const changes: string[] = [];
    const fake = createWeComFake({
      fetch: async (input, init) => {
        const query = new URL(String(input)).searchParams;
        if ((init?.method ?? 'GET') === 'GET')
          return new Response(decrypt(callback.encoding_aes_key, query.get('echostr')!).message);
        const inner = parseXml(
          decrypt(callback.encoding_aes_key, textOf(parseXml(String(init?.body)), 'Encrypt')!).message,
        );
        const info = inner.children.find((element) => element.name === 'ApprovalInfo');
        changes.push(textOf(info, 'StatuChangeEvent')!);
        return new Response('success');
      },
    });
    await fake.configureCallback(corpId, sandboxApp.agent_id, {
      url: 'https://signoff.example.test/cb',
      token: callback.token,
      encodingAesKey: callback.encoding_aes_key,
    });
    const spNo = await submit(fake);
    fake.transfer(spNo, 'ZhangWei', 'WangFang');
    fake.comment(spNo, 'LiNa', 'note');
    fake.withdraw(spNo);
    fake.remove(spNo);
    await fake.idle();
    expect(changes).toEqual(['1', '4', '10', '6']);
  });

  it('refuses an unknown template (301025), an applicant outside the visible range (301055) and long summaries', async () => {
    const fake = createWeComFake();
    const token = await tokenOf(fake);
    const post = (api: string, body: unknown) =>
      call(fake, `/cgi-bin/${api}?access_token=${token}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post('oa/gettemplatedetail', { template_id: 'nope' })).body.errcode).toBe(301025);
    const { template_id: templateId } = (await post('oa/approval/create_template', template)).body;
    const apply = (changes: Record<string, unknown>) =>
      post('oa/applyevent', {
        creator_userid: 'SignoffAdmin',
        template_id: templateId,
        use_template_approver: 0,
        approver: [{ attr: 1, userid: ['ZhangWei'] }],
        apply_data: { contents: [{ control: 'Text', id: 'Text-1', value: { text: 'deploy' } }] },
        ...changes,
      });
    expect(
      (await apply({ summary_list: [{ summary_info: [{ text: '二十个字以内的摘要', lang: 'zh_CN' }] }] }))
        .body,
    ).toMatchObject({ errcode: 0 });
    expect(
      (await apply({ summary_list: [{ summary_info: [{ text: 'x'.repeat(21), lang: 'zh_CN' }] }] })).body
        .errcode,
    ).toBe(301025);
    fake.deleteTemplate(templateId as string);
    expect((await apply({})).body.errcode).toBe(301025);
    expect(fake.templates()).toEqual([]);

    const again = (await post('oa/approval/create_template', template)).body.template_id;
    fake.updateApp(corpId, sandboxApp.agent_id, { visible: { departments: [2] } });
    expect((await apply({ template_id: again })).body.errcode).toBe(301055);
  });

  it('lists approval numbers by window, AND-ed filters of different keys, OR-ed departments and a cursor', async () => {
    const fake = createWeComFake({ clock: fakeClock(Date.UTC(2026, 0, 5)) });
    const mine = [await submit(fake), await submit(fake), await submit(fake)];
    const token = await tokenOf(fake);
    const list = async (body: Record<string, unknown>) =>
      (
        await call(fake, `/cgi-bin/oa/getapprovalinfo?access_token=${token}`, {
          method: 'POST',
          body: JSON.stringify(body),
        })
      ).body;
    const now = Math.floor(fake.clock.now() / 1000);
    const window = { starttime: String(now - 60), endtime: String(now + 60) };
    const templateId = fake.approval(mine[0]!)!.template_id;

    const first = await list({
      ...window,
      new_cursor: '',
      size: 2,
      filters: [{ key: 'creator', value: 'SignoffAdmin' }],
    });
    expect(first).toMatchObject({ errcode: 0, sp_no_list: mine.slice(0, 2) });
    const rest = await list({ ...window, new_cursor: first.new_next_cursor, size: 2 });
    expect(rest).toMatchObject({ sp_no_list: mine.slice(2), new_next_cursor: '' });

    expect(
      (
        await list({
          ...window,
          filters: [
            { key: 'template_id', value: templateId },
            { key: 'creator', value: 'ZhangWei' },
          ],
        })
      ).sp_no_list,
    ).toEqual([]);
    expect(
      (
        await list({
          ...window,
          filters: [
            { key: 'department', value: '7' },
            { key: 'department', value: '1' },
          ],
        })
      ).sp_no_list,
    ).toEqual(mine);
    expect(
      (
        await list({
          ...window,
          filters: [
            { key: 'creator', value: 'SignoffAdmin' },
            { key: 'creator', value: 'ZhangWei' },
          ],
        })
      ).errcode,
    ).toBe(301025);
    expect((await list({ starttime: String(now), endtime: String(now) })).errcode).toBe(301025);
    expect((await list({ starttime: String(now - 32 * 86_400), endtime: String(now) })).errcode).toBe(301025);
    expect((await list({ starttime: String(now + 3600), endtime: String(now + 7200) })).sp_no_list).toEqual(
      [],
    );
  });
});

// Notifications end to end: workflows with `notify` rules and notification jobs, a real Signoff on a real
// database, every vendor's fake on a loopback port reached over HTTP, a real SMTP server. What a test
// asserts is what the vendor received (and so what people would see), and the delivery log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest } from '../src/notifications/channels/feishu.js';
import { statusText } from '../src/notifications/render/i18n.js';
import {
  type NotifyVendors,
  type SmtpCatcher,
  startNotifyVendors,
  startSmtpCatcher,
} from './notification-harness.js';
import { databases, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';
import { api } from './vendor-harness.js';

interface Row {
  id: number;
  job: string | null;
  rule: string;
  event: string;
  action: string;
  channel: string;
  target: string;
  status: string;
  attempts: number;
  last_error: string | null;
  vendor_message_id: string | null;
}

describe.each(databases)('notifications on %s', (kind) => {
  let smtp: SmtpCatcher;
  let stack: TestStack;
  let vendors: NotifyVendors;
  let receiver: Server;
  let receiverUrl: string;
  const events: Array<{ event: string; status: string; workflow: string; run: number; body: any }> = [];

  beforeAll(async () => {
    smtp = await startSmtpCatcher();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const payload = JSON.parse(body);
        events.push({
          event: payload.event,
          status: payload.status,
          workflow: payload.workflow,
          run: payload.run?.number,
          body: payload,
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    stack = await startStack(kind, {
      listen: true,
      config: { mail: { url: smtp.url, from: 'Signoff <signoff@example.com>' } },
    });
    vendors = await startNotifyVendors(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await vendors?.close();
    await smtp?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  async function apply(yaml: string): Promise<void> {
    const { status, body } = await api(stack, 'POST', '/api/workflows', yaml);
    expect(status, JSON.stringify(body)).toBe(201);
  }
  async function start(workflow: string, params: Record<string, string> = {}): Promise<number> {
    const { status, body } = await api(stack, 'POST', `/api/workflows/${workflow}/runs`, { params });
    expect(status, JSON.stringify(body)).toBe(201);
    return body.id;
  }
  async function log(runId: number): Promise<Row[]> {
    return (await api(stack, 'GET', `/api/runs/${runId}/notifications`)).body.notifications;
  }
  /** Waits until the run has ended and every one of its messages has reached a final status. */
  async function settled(runId: number, count: number): Promise<Row[]> {
    await waitForRun(stack, runId);
    return waitFor(
      async () => {
        const rows = await log(runId);
        return rows.length >= count && rows.every((row) => !['pending', 'sending'].includes(row.status))
          ? rows
          : undefined;
      },
      `${count} messages of run ${runId} to settle`,
      30_000,
    );
  }

  it('sends through every channel, signed where the channel signs, with @mentions, and logs each delivery', async () => {
    const v = vendors;
    await apply(`
name: release
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec: { script: "echo built" }
notify:
  - { on: [passed], channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.deploys}, mention: [{ email: zhang.wei@example.com }] }
  - { on: [passed], channel: feishu_app, app: ${v.apps.feishu}, to: [{ email: li.na@example.com }] }
  - { on: [passed], channel: feishu_webhook, url: "${v.hooks.feishuSigned.url}", secret: "${v.hooks.feishuSigned.secret}", mention_all: true }
  - { on: [passed], channel: lark_webhook, url: "${v.hooks.larkPlain}" }
  - { on: [passed], channel: dingtalk_robot, url: "${v.hooks.dingtalk.url}", secret: "${v.hooks.dingtalk.secret}", mention: [{ mobile: "13800000002" }] }
  - { on: [passed], channel: dingtalk_app, app: ${v.apps.dingtalk}, to: [{ email: zhang.wei@example.com }] }
  - { on: [passed], channel: wecom_robot, url: "${v.hooks.wecom}", mention: [{ id: ZhangWei }, { mobile: "+86 13800000001" }] }
  - { on: [passed], channel: wecom_app, app: ${v.apps.wecom}, to: [{ id: ZhangWei }] }
  - { on: [passed], channel: mail, to: [ops@example.com] }
`);
    const runId = await start('release');
    const rows = await settled(runId, 10);
    expect(rows.map((row) => [row.channel, row.status])).toEqual(
      rows.map((row) => [row.channel, 'delivered']),
    );
    expect(rows).toHaveLength(10);

    // Feishu app bot: an interactive card to the group with the mention resolved to an open_id, and a
    // direct message by email; both carry the uuid that makes a retry harmless.
    const zhangWei = v.feishu.seed.users.find((user) => user.email === 'zhang.wei@example.com')!;
    const toChat = v.feishu.messages.find((m) => m.receive_id === v.chats.deploys)!;
    expect(toChat.msg_type).toBe('interactive');
    expect(toChat.content).toContain(zhangWei.open_id);
    expect(toChat.uuid).toMatch(/^[0-9a-f]{40}$/);
    const card = JSON.parse(toChat.content);
    expect(card.config.update_multi).toBe(true);
    expect(JSON.stringify(card)).toContain('release');
    expect(JSON.stringify(card)).toContain(`http://signoff.test/runs/${runId}`);
    const direct = v.feishu.messages.find((m) => m.receive_id_type === 'email')!;
    expect(direct.receive_id).toBe('li.na@example.com');
    expect(rows.find((row) => row.target.includes('li.na'))!.vendor_message_id).toBe(direct.message_id);

    // Custom bots: the signed one accepted our signature (the fake checks it), the plain one too.
    expect(v.feishu.hookMessages).toHaveLength(1);
    expect(v.feishu.hookMessages[0]!.msg_type).toBe('interactive');
    expect(JSON.stringify(v.feishu.hookMessages[0]!.body)).toContain('id=all');
    expect(v.lark.hookMessages).toHaveLength(1);

    // DingTalk robot: markdown that names the mobile and lists it in `at`; work notification by email.
    const robot = v.dingtalk.robotMessages.at(-1)!.body as any;
    expect(robot.msgtype).toBe('markdown');
    expect(robot.at.atMobiles).toEqual(['13800000002']);
    expect(robot.markdown.text).toContain('@13800000002');
    const notice = v.dingtalk.workNotifications.at(-1)!;
    expect(notice.userIds).toEqual(['zhangwei']);

    // WeCom robot: the markdown (with the userid mention), then the text that @s the mobile.
    const weRobot = v.wecom.robotMessages.slice(-2);
    expect(weRobot.map((m) => m.msgtype).sort()).toEqual(['markdown', 'text']);
    const markdown = weRobot.find((m) => m.msgtype === 'markdown')!.body as any;
    expect(markdown.markdown.content).toContain('<@ZhangWei>');
    const text = weRobot.find((m) => m.msgtype === 'text')!.body as any;
    expect(text.text.mentioned_mobile_list).toEqual(['+8613800000001']);
    expect(v.wecom.messages.at(-1)!.touser).toEqual(['ZhangWei']);

    // Mail: HTML and text, to the address.
    const mail = smtp.mails.at(-1)!;
    expect(mail.to).toEqual(['ops@example.com']);
    expect(mail.data).toContain('text/html');
    expect(mail.data).toContain('text/plain');

    // The delivery log names where each went without the keys in the webhook URLs.
    const listed =
      JSON.stringify(rows) + JSON.stringify((await api(stack, 'GET', '/api/notifications')).body);
    for (const secret of v.secrets) expect(listed).not.toContain(secret);
    for (const secret of v.secrets) expect(stack.logs.join('')).not.toContain(secret);
    expect(rows.find((row) => row.channel === 'dingtalk_robot')!.target).toContain('/robot/send');
  });

  it('writes the default texts in zh-CN or en, per rule', async () => {
    const v = vendors;
    await apply(`
name: lang
stages:
  - name: s
    jobs:
      - { name: j, type: shell, spec: { script: "true" } }
notify:
  - { on: [passed], channel: wecom_robot, url: "${v.hooks.wecom}", language: zh-CN }
  - { on: [passed], channel: wecom_robot, url: "${v.hooks.wecom}", language: en }
`);
    const before = v.wecom.robotMessages.length;
    await settled(await start('lang'), 2);
    const texts = v.wecom.robotMessages.slice(before).map((m) => (m.body as any).markdown.content as string);
    expect(texts.some((t) => t.includes(statusText('zh-CN', 'passed')))).toBe(true);
    expect(texts.some((t) => t.includes(statusText('en', 'passed')))).toBe(true);
    expect(statusText('zh-CN', 'passed')).not.toBe(statusText('en', 'passed'));
  });

  it('fires each trigger once: created, running, passed, failed, changed, wait_for_approval, rejected, cancelled, timeout, and job-level rules', async () => {
    await apply(`
name: trig
params:
  - { name: outcome, default: pass }
stages:
  - name: check
    jobs:
      - name: test
        type: shell
        spec: { script: "test {{ params.outcome }} = pass" }
        notify:
          - { on: [failed], channel: webhook, url: "${receiverUrl}/job" }
notify:
  - { on: [created, running, passed, failed, changed], channel: webhook, url: "${receiverUrl}/run" }
`);
    const eventsOf = (run: number) =>
      events
        .filter((e) => e.workflow === 'trig' && e.run === run)
        .map((e) => e.event)
        .sort();
    const first = await start('trig');
    await settled(first, 3);
    expect(eventsOf(1)).toEqual(['created', 'passed', 'running']);
    const second = await start('trig', { outcome: 'fail' });
    await settled(second, 5);
    expect(eventsOf(2)).toEqual(['changed', 'created', 'failed', 'failed', 'running']);
    const changed = events.find((e) => e.workflow === 'trig' && e.run === 2 && e.event === 'changed')!;
    expect(changed.body.previous).toBe('passed');
    const jobLevel = events.find((e) => e.workflow === 'trig' && e.run === 2 && e.body.job?.name === 'test')!;
    expect(jobLevel.event).toBe('failed');
    // Same outcome as the run before: no `changed`.
    await settled(await start('trig', { outcome: 'fail' }), 4);
    expect(eventsOf(3)).toEqual(['created', 'failed', 'failed', 'running']);

    await apply(`
name: gate
stages:
  - name: ask
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [admin] }
notify:
  - { on: [wait_for_approval, rejected, cancelled, timeout], channel: webhook, url: "${receiverUrl}/gate" }
`);
    const gateEvents = (run: number) =>
      events.filter((e) => e.workflow === 'gate' && e.run === run).map((e) => e.event);
    const waitingFor = async (run: number) =>
      waitFor(async () => gateEvents(run).includes('wait_for_approval'), `run ${run} to wait`);

    const rejected = await start('gate');
    await waitingFor(1);
    const waiting = events.find((e) => e.workflow === 'gate' && e.run === 1)!;
    expect(waiting.body.approval.waiting_for).toEqual(['admin']);
    expect(waiting.body.run.url).toBe(`http://signoff.test/runs/${rejected}`);
    await api(stack, 'POST', `/api/runs/${rejected}/jobs/approve/decision`, { decision: 'reject' });
    await settled(rejected, 2);
    expect(gateEvents(1)).toEqual(['wait_for_approval', 'rejected']);

    const cancelled = await start('gate');
    await waitingFor(2);
    await api(stack, 'POST', `/api/runs/${cancelled}/cancel`);
    await settled(cancelled, 2);
    expect(gateEvents(2)).toEqual(['wait_for_approval', 'cancelled']);

    const timedOut = await start('gate');
    await waitingFor(3);
    await stack.signoff.db.query(
      `update approvals set deadline = now() - interval '1 second' where run_id = $1`,
      [timedOut],
    );
    const [approval] = await stack.signoff.db.query<{ id: number }>(
      'select id from approvals where run_id = $1',
      [timedOut],
    );
    await stack.signoff.engine.expireApproval(approval!.id);
    await settled(timedOut, 2);
    expect(gateEvents(3)).toEqual(['wait_for_approval', 'timeout']);
  });

  it('updates the approval card in the Feishu chat in place once the decision is taken', async () => {
    const v = vendors;
    await apply(`
name: carded
stages:
  - name: ask
    jobs:
      - name: approve
        type: approval
        spec: { type: native, approvers: [admin] }
notify:
  - { on: [wait_for_approval], channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.oncall} }
`);
    const runId = await start('carded');
    const sent = await waitFor(
      async () => (await log(runId)).find((row) => row.status === 'delivered'),
      'the card',
    );
    const message = v.feishu.messages.find((m) => m.message_id === sent.vendor_message_id)!;
    const waitingCard = message.content;
    await api(stack, 'POST', `/api/runs/${runId}/jobs/approve/decision`, {
      decision: 'approve',
      comment: 'ship it',
    });
    const rows = await settled(runId, 2);
    const update = rows.find((row) => row.action === 'update')!;
    expect(update).toMatchObject({
      event: 'decided',
      status: 'delivered',
      vendor_message_id: message.message_id,
    });
    expect(message.updates).toEqual([waitingCard]);
    expect(message.content).not.toBe(waitingCard);
    expect(message.content).toContain('ship it');
    // Still one message in the chat: the card changed, nothing new was posted.
    expect(v.feishu.messages.filter((m) => m.uuid === message.uuid)).toHaveLength(1);
  });

  it('tells the chat who must decide a Feishu approval, and updates that card when Feishu says it is decided', async () => {
    const v = vendors;
    const li = v.feishu.seed.users.find((user) => user.email === 'li.na@example.com')!;
    await apply(`
name: feishu-gate
stages:
  - name: ask
    jobs:
      - name: approve
        type: approval
        spec:
          type: feishu
          app: ${v.apps.feishu}
          initiator: { email: zhang.wei@example.com }
          nodes: [{ type: OR, approvers: [{ email: li.na@example.com }] }]
notify:
  - { on: [wait_for_approval], channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.deploys}, language: zh-CN }
`);
    const runId = await start('feishu-gate');
    const sent = await waitFor(
      async () => (await log(runId)).find((row) => row.status === 'delivered'),
      'the approval card',
    );
    const message = v.feishu.messages.find((m) => m.message_id === sent.vendor_message_id)!;
    expect(message.content).toContain(li.name);
    const [approval] = await stack.signoff.db.query<{ id: number; vendor_instance_id: string }>(
      'select id, vendor_instance_id from approvals where run_id = $1',
      [runId],
    );
    // 李娜 approves in Feishu; this app polls (no callbacks), so the next reconcile poll sees it.
    v.feishu.decide(approval!.vendor_instance_id, 'APPROVED', { by: li.open_id, comment: '同意发布' });
    await stack.signoff.db.query('update approvals set next_poll_at = now() where id = $1', [approval!.id]);
    await stack.signoff.engine.pollApprovals();
    const rows = await settled(runId, 2);
    expect(rows.find((row) => row.action === 'update')).toMatchObject({
      status: 'delivered',
      event: 'decided',
    });
    expect(message.updates).toHaveLength(1);
    expect(message.content).toContain('同意发布');
  });

  it('retries a vendor 5xx and delivers once; honours a rate-limit reply; stops at once when the bot left the chat', async () => {
    const v = vendors;
    await apply(`
name: flaky
stages:
  - name: s
    jobs:
      - name: tell-people
        type: notification
        spec: { channel: dingtalk_app, app: ${v.apps.dingtalk}, to: [{ id: zhangwei }] }
`);
    const noticesBefore = v.dingtalk.workNotifications.length;
    v.dingtalk.faults.failNext('server_error');
    const flaky = await waitForRun(stack, await start('flaky'));
    expect(flaky.status).toBe('passed');
    expect(job(flaky, 'tell-people').attempts).toBe(2);
    expect(v.dingtalk.workNotifications.length - noticesBefore).toBe(1);

    await apply(`
name: limited
stages:
  - name: s
    jobs:
      - name: tell-chat
        type: notification
        spec: { channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.deploys} }
`);
    const chatBefore = v.feishu.messages.length;
    v.feishu.faults.failNext('rate_limit');
    const limited = await waitForRun(stack, await start('limited'));
    expect(limited.status).toBe('passed');
    expect(job(limited, 'tell-chat').attempts).toBe(2);
    expect(v.feishu.messages.length - chatBefore).toBe(1);

    await apply(`
name: botless
stages:
  - name: s
    jobs:
      - name: tell-chat
        type: notification
        spec: { channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.botless} }
`);
    const botless = await waitForRun(stack, await start('botless'));
    expect(botless.status).toBe('failed');
    expect(job(botless, 'tell-chat').attempts).toBe(1);
    expect(job(botless, 'tell-chat').reason).toContain('230002');
    expect(job(botless, 'tell-chat').reason).toMatch(/Add the app.s bot to the group/);

    // A webhook URL from a secret the server does not have: a fix for the operator, not a retry.
    await apply(`
name: unset
stages:
  - name: s
    jobs:
      - name: tell
        type: notification
        spec: { channel: wecom_robot, url: "{{ secrets.not_set_anywhere }}" }
`);
    const unset = await waitForRun(stack, await start('unset'));
    expect(unset.status).toBe('failed');
    expect(job(unset, 'tell').attempts).toBe(1);
    expect(job(unset, 'tell').reason).toContain('SIGNOFF_SECRET_<NAME>');
  });

  it('delivers a message whose answer was lost in a crash once, after the restart (Feishu uuid)', async () => {
    const v = vendors;
    await apply(`
name: crashy
stages:
  - name: s
    jobs:
      - name: tell
        type: notification
        spec: { channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.oncall} }
`);
    const before = v.feishu.messages.length;
    v.feishu.faults.failNext('answer_lost');
    const runId = await start('crashy');
    // The vendor has the message; we never heard back, and the server goes down mid-request.
    await waitFor(async () => v.feishu.messages.length > before, 'the vendor to receive the message');
    await stack.restart();
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('passed');
    expect(v.feishu.messages.length - before).toBe(1);
    const [row] = await log(runId);
    expect(row!.attempts).toBeGreaterThanOrEqual(2);
    expect(row!.vendor_message_id).toBe(v.feishu.messages.at(-1)!.message_id);
  });

  /**
   * A run whose one job sends to the DingTalk robot while the robot's minute is full (20 sends, the oldest
   * `oldestAgoMs` ago): its message is stored and waits for a slot. Returns the run, the waiting row, the
   * robot's rate key and how many messages the robot had before.
   */
  async function robotMessageHeldBack(workflow: string, oldestAgoMs: number) {
    const v = vendors;
    await apply(`
name: ${workflow}
stages:
  - name: s
    jobs:
      - name: tell
        type: notification
        spec: { channel: dingtalk_robot, url: "${v.hooks.dingtalk.url}", secret: "${v.hooks.dingtalk.secret}" }
`);
    const key = `dingtalk-robot:${digest(new URL(v.hooks.dingtalk.url).searchParams.get('access_token')!)}`;
    const now = Date.now();
    for (let i = 0; i < 20; i++)
      await stack.signoff.db.query('insert into rate_log (key, at) values ($1, $2)', [
        key,
        now - oldestAgoMs + i,
      ]);
    const before = v.dingtalk.robotMessages.length;
    const runId = await start(workflow);
    const waiting = await waitFor(
      async () => (await log(runId)).find((row) => row.status === 'pending'),
      'the stored message',
    );
    return { runId, waiting, key, before };
  }

  it('keeps a stored message across a restart before it could be sent, and sends it once (DingTalk robot)', async () => {
    const { runId, before } = await robotMessageHeldBack('queued', 58_000);
    await stack.restart();
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('passed');
    expect(vendors.dingtalk.robotMessages.length - before).toBe(1);
    const [row] = await log(runId);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('sends a due message nobody took up (its sender stopped, its queue job late) at the next sweep', async () => {
    const { runId, waiting, key, before } = await robotMessageHeldBack('orphan', 30_000);
    // Say its sender stopped: it has been due for 20 s and nobody took it up (its queue job comes due only
    // in half a minute); the robot's minute is over.
    await stack.signoff.db.query(
      `update notifications set next_attempt_at = now() - interval '20 seconds' where id = $1`,
      [waiting.id],
    );
    await stack.signoff.db.query('delete from rate_log where key = $1', [key]);
    expect(vendors.dingtalk.robotMessages.length - before).toBe(0);
    await stack.signoff.engine.recover(false);
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('passed');
    expect(vendors.dingtalk.robotMessages.length - before).toBe(1);
    expect((await log(runId))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('prints user text literally: templates, HTML and markdown in a param stay data, escaped per format', async () => {
    const v = vendors;
    const commit = '{{ 7 * 6 }} <script>alert(1)</script> **bold** [x](http://evil.example) `tick`';
    await apply(`
name: literal
params:
  - { name: commit }
stages:
  - name: s
    jobs:
      - { name: j, type: shell, spec: { script: "true" } }
notify:
  - { on: [passed], channel: dingtalk_robot, url: "${v.hooks.dingtalk.url}", secret: "${v.hooks.dingtalk.secret}", content: "Commit: {{ params.commit }}" }
  - { on: [passed], channel: feishu_app, app: ${v.apps.feishu}, chat: ${v.chats.deploys}, content: "**Commit**: {{ params.commit }}" }
  - { on: [passed], channel: mail, to: [dev@example.com], content: "Commit: {{ params.commit }}" }
`);
    const mailsBefore = smtp.mails.length;
    const runId = await start('literal', { commit });
    await settled(runId, 3);
    const robot = v.dingtalk.robotMessages.at(-1)!.body as any as Record<string, any>;
    const robotText: string = robot.markdown?.text ?? robot.actionCard?.text;
    // DingTalk markdown has no escapes: syntax characters become their full-width forms, which read the
    // same (NFKC folds them back to the very text of the param) and which DingTalk does not parse.
    expect(robotText.normalize('NFKC')).toContain(`Commit: ${commit}`);
    expect(robotText).not.toContain('42');
    expect(robotText).not.toContain('<script>');
    expect(robotText).not.toContain('**bold**');
    expect(robotText).not.toContain('[x](http://evil.example)');

    const card = v.feishu.messages.at(-1)!.content;
    // The author's own markup stays markup; the value's does not.
    expect(card).toContain('**Commit**');
    expect(card).not.toContain('<script>');
    expect(card).not.toContain('**bold**');

    // The HTML part escapes it; the plain-text part may (and does) show it as written.
    const raw = smtp.mails.slice(mailsBefore).at(-1)!.data;
    const html = raw
      .slice(raw.indexOf('Content-Type: text/html'))
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '=');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('shows the delivery log on the CLI-facing API: failures with their reason and attempts', async () => {
    const listed = await api(stack, 'GET', '/api/notifications?status=failed');
    expect(listed.status).toBe(200);
    const failed: Row[] = listed.body.notifications;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((row) => row.status === 'failed' && row.last_error)).toBe(true);
    expect((await api(stack, 'GET', '/api/runs/999999/notifications')).status).toBe(404);
  });
});

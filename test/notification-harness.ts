// The vendor side of the notification tests: the Feishu, Lark, DingTalk and WeCom fakes each served on a
// loopback port (Signoff reaches them over real HTTP), an IM app registered for each through the API, the
// custom bots / robots the fakes know, and a real SMTP server that keeps what it receives.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createDingTalkFake, type DingTalkFake } from '../src/providers/dingtalk/fake.js';
import { type DingTalkSeed, dingTalkDemoSeed } from '../src/providers/dingtalk/seed.js';
import { createFeishuFake, type FeishuFake } from '../src/providers/feishu/fake.js';
import { feishuSeed, seedAppId, seedChatId } from '../src/providers/feishu/seed.js';
import { createWeComFake, type WeComFake } from '../src/providers/wecom/fake.js';
import { type WeComSeedCorp, wecomSandboxSeed } from '../src/providers/wecom/seed.js';
import type { TestStack } from './stack.js';
import { registerApp, type Served, serveFetch } from './vendor-harness.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface NotifyVendors {
  feishu: FeishuFake;
  lark: FeishuFake;
  dingtalk: DingTalkFake;
  wecom: WeComFake;
  /** Base URLs the fakes listen on. */
  urls: { feishu: string; lark: string; dingtalk: string; wecom: string };
  /** Names of the IM apps registered for them. */
  apps: { feishu: string; lark: string; dingtalk: string; wecom: string };
  chats: { deploys: string; oncall: string; botless: string };
  /** Webhook URLs of the seeded custom bots and robots. */
  hooks: {
    feishuSigned: { url: string; secret: string };
    feishuPlain: string;
    larkPlain: string;
    dingtalk: { url: string; secret: string };
    wecom: string;
  };
  /** Every credential registered: none may appear in a log line or an API answer. */
  secrets: string[];
  close(): Promise<void>;
}

export async function startNotifyVendors(stack: TestStack): Promise<NotifyVendors> {
  const served: Served[] = [];
  const secrets: string[] = [];
  const serveFake = async (fetch: (request: Request) => Response | Promise<Response>) => {
    const one = await serveFetch(fetch);
    served.push(one);
    return one.url;
  };

  // Feishu and Lark: one self-built app each (poll mode: notifications need no callbacks).
  const feishuApp = async (platform: 'feishu' | 'lark') => {
    const credentials = {
      app_id: seedAppId(`notify-${platform}-${hex(3)}`),
      app_secret: `secret-${hex(12)}`,
    };
    secrets.push(credentials.app_secret);
    const fake = createFeishuFake({
      apps: [credentials],
      seed: feishuSeed({ extraUsers: 0, extraChats: 0 }),
    });
    const url = await serveFake((request) => fake.app.fetch(request));
    const name = `${platform}-bot`;
    await registerApp(stack, { type: platform, name, ...credentials, event_mode: 'poll', api_base: url });
    return { fake, url, name };
  };
  const feishu = await feishuApp('feishu');
  const lark = await feishuApp('lark');

  const dingSeed: DingTalkSeed = structuredClone(dingTalkDemoSeed);
  dingSeed.app = { ...dingSeed.app, appKey: `ding${hex(8)}`, appSecret: `secret-${hex(16)}` };
  secrets.push(dingSeed.app.appSecret);
  const dingtalk = createDingTalkFake({ seed: dingSeed });
  const dingUrl = await serveFake((request) => dingtalk.app.fetch(request));
  await registerApp(stack, {
    type: 'dingtalk',
    name: 'dingtalk-app',
    app_key: dingSeed.app.appKey,
    agent_id: String(dingSeed.app.agentId),
    app_secret: dingSeed.app.appSecret,
    event_mode: 'poll',
    api_base: dingUrl,
    oapi_base: dingUrl,
  });

  const weSeed: WeComSeedCorp = structuredClone(wecomSandboxSeed);
  weSeed.apps = [{ ...weSeed.apps[0]!, secret: `secret-${hex(16)}` }];
  secrets.push(weSeed.apps[0]!.secret);
  const wecom = createWeComFake({ seed: weSeed });
  const weUrl = await serveFake((request) => wecom.app.fetch(request));
  await registerApp(stack, {
    type: 'wecom',
    name: 'wecom-app',
    corp_id: weSeed.corp_id,
    agent_id: weSeed.apps[0]!.agent_id,
    secret: weSeed.apps[0]!.secret,
    event_mode: 'poll',
    api_base: weUrl,
  });

  const feishuHook = feishu.fake.seed.hooks.find((hook) => hook.secret)!;
  const feishuPlainHook = feishu.fake.seed.hooks.find((hook) => !hook.secret)!;
  const larkPlainHook = lark.fake.seed.hooks.find((hook) => !hook.secret)!;
  const robot = dingSeed.robots.find((item) => item.secret)!;
  const weRobot = weSeed.robots![0]!;
  // Custom bot ids are keys too: whoever has the URL can post.
  secrets.push(
    feishuHook.secret!,
    feishuHook.hook_id,
    larkPlainHook.hook_id,
    robot.secret!,
    robot.accessToken,
    weRobot,
  );

  return {
    feishu: feishu.fake,
    lark: lark.fake,
    dingtalk,
    wecom,
    urls: { feishu: feishu.url, lark: lark.url, dingtalk: dingUrl, wecom: weUrl },
    apps: { feishu: feishu.name, lark: lark.name, dingtalk: 'dingtalk-app', wecom: 'wecom-app' },
    chats: { deploys: seedChatId('deploys'), oncall: seedChatId('oncall'), botless: seedChatId('random') },
    hooks: {
      feishuSigned: {
        url: `${feishu.url}/open-apis/bot/v2/hook/${feishuHook.hook_id}`,
        secret: feishuHook.secret!,
      },
      feishuPlain: `${feishu.url}/open-apis/bot/v2/hook/${feishuPlainHook.hook_id}`,
      larkPlain: `${lark.url}/open-apis/bot/v2/hook/${larkPlainHook.hook_id}`,
      dingtalk: { url: `${dingUrl}/robot/send?access_token=${robot.accessToken}`, secret: robot.secret! },
      wecom: `${weUrl}/cgi-bin/webhook/send?key=${weRobot}`,
    },
    secrets,
    async close() {
      for (const one of served) await one.close();
    },
  };
}

export interface SmtpCatcher {
  url: string;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every mail it receives. */
export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const mails: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk) => (data += chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}

// Token requests per app while 10,000 API calls run concurrently over one simulated hour (and, to show the
// refresh, over two). Each platform's real client talks to the platform's fake in-process, on a fake clock:
// calls go in waves spread evenly over the span (the clock is moved to each wave's time), and the shared
// rate limiter's waits move the same clock instead of sleeping, so an hour takes a few seconds.
//
// The minimum: one token per token lifetime the calls span, i.e. floor(span / 7200 s) + 1, since the first
// call needs one and the last wave runs at the very end of the span. A request is "wasted" when its answer
// did not extend how long the app could use a token (the same token back with no later expiry). WeCom
// does that to a refresh made before expiry (它在有效期内重复获取返回相同结果), so refreshing 5 minutes early
// there costs one such request per lifetime; Feishu issues a new token once less than 30 minutes remain and
// DingTalk renews the same one, so for them an early refresh is never wasted.
//
// Lark uses the Feishu client and token code path (only the host differs), so it is not measured apart.
import { performance } from 'node:perf_hooks';
import { memoryTokenStore } from '../src/providers/access-token.js';
import { createDingTalkFake } from '../src/providers/dingtalk/fake.js';
import { type FakeClock, fakeClock } from '../src/providers/fake-kit.js';
import { feishuTokenPath } from '../src/providers/feishu/client.js';
import { createFeishuFake } from '../src/providers/feishu/fake.js';
import { feishuSeed, seedAppId } from '../src/providers/feishu/seed.js';
import type { Fetch } from '../src/providers/http.js';
import { memoryRateLimiter } from '../src/providers/rate-limiter.js';
import { providerFor } from '../src/providers/registry.js';
import type { ImAppConfig, ImClient } from '../src/providers/types.js';
import { createWeComFake } from '../src/providers/wecom/fake.js';
import { wecomSandboxSeed } from '../src/providers/wecom/seed.js';
import type { Benchmark, Figure } from './report.js';

const calls = 10_000;
const waves = 100;
const tokenLifetimeSeconds = 7200;
const spans = [
  { label: '1 h', seconds: 3600 },
  { label: '2 h', seconds: 7200 },
];
const start = Date.UTC(2026, 0, 5, 1, 0, 0);

type Platform = 'feishu' | 'dingtalk' | 'wecom';
const platforms: Platform[] = ['feishu', 'dingtalk', 'wecom'];

/** What every token answer says, whatever the vendor calls its fields. */
interface TokenAnswer {
  token: string;
  expiresAt: number;
}

interface Setup {
  client: ImClient;
  /** A mobile number the fake knows: `findUsers({ mobile })` is a lookup plus a user read. */
  mobile: string;
  /** Token requests as the fake counted them. */
  tokenRequests(): number;
  /** Every other request the fake served. */
  apiRequests(): number;
  answers: TokenAnswer[];
}

function isTokenRequest(url: URL): boolean {
  return (
    url.pathname.endsWith(feishuTokenPath) ||
    url.pathname.endsWith('/v1.0/oauth2/accessToken') ||
    url.pathname.endsWith('/gettoken') ||
    url.pathname.endsWith('/cgi-bin/gettoken')
  );
}

/** Reads each token answer on its way back to the client (on a clone: the client reads the original). */
function watchTokens(fetchImpl: Fetch, clock: FakeClock, answers: TokenAnswer[]): Fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (isTokenRequest(url)) {
      const body = (await response.clone().json()) as Record<string, unknown>;
      const token = body.tenant_access_token ?? body.accessToken ?? body.access_token;
      const seconds = body.expire ?? body.expireIn ?? body.expires_in;
      if (typeof token === 'string' && typeof seconds === 'number') {
        answers.push({ token, expiresAt: clock.now() + seconds * 1000 });
      }
    }
    return response;
  };
}

/**
 * A limiter whose waits move the fake clock instead of sleeping. Sleepers are woken in the order their
 * waits end, and only once everything runnable has run (setImmediate), so waits that began at the same
 * instant share one move of the clock, as they would share real time.
 */
function clockLimiter(clock: FakeClock) {
  const sleepers: { until: number; wake: () => void }[] = [];
  let scheduled = false;
  const tick = () => {
    scheduled = false;
    if (sleepers.length === 0) return;
    const next = Math.min(...sleepers.map((sleeper) => sleeper.until));
    if (next > clock.now()) clock.advance(next - clock.now());
    for (let i = sleepers.length - 1; i >= 0; i--) {
      if (sleepers[i]!.until <= clock.now()) sleepers.splice(i, 1)[0]!.wake();
    }
    schedule();
  };
  const schedule = () => {
    if (!scheduled && sleepers.length > 0) {
      scheduled = true;
      setImmediate(tick);
    }
  };
  return memoryRateLimiter(
    clock.now,
    (ms) =>
      new Promise<void>((wake) => {
        sleepers.push({ until: clock.now() + ms, wake });
        schedule();
      }),
  );
}

function setup(platform: Platform, clock: FakeClock): Setup {
  const answers: TokenAnswer[] = [];
  const deps = (fakeFetch: Fetch) => ({
    fetch: watchTokens(fakeFetch, clock, answers),
    now: clock.now,
    tokens: memoryTokenStore(),
    limiter: clockLimiter(clock),
  });
  const create = (config: ImAppConfig, fakeFetch: Fetch) =>
    providerFor(config.type).createClient(config, deps(fakeFetch));

  if (platform === 'feishu') {
    const app = { app_id: seedAppId('bench-tokens'), app_secret: 'bench-tokens-app-secret-0001' };
    const fake = createFeishuFake({ clock, apps: [app], seed: feishuSeed() });
    const isToken = (path: string) => path.endsWith(feishuTokenPath);
    return {
      client: create({ type: 'feishu', ...app, api_base: 'https://open.feishu.cn' }, fake.fetch),
      mobile: fake.seed.users.find((user) => user.mobile)!.mobile,
      tokenRequests: () => fake.requests.filter((request) => isToken(request.path)).length,
      apiRequests: () => fake.requests.filter((request) => !isToken(request.path)).length,
      answers,
    };
  }
  if (platform === 'dingtalk') {
    // The fake's own QPS check counts *wall-clock* seconds (so a frozen fake clock cannot jam it); here the
    // client's limiter keeps DingTalk's 20/s on the fake clock instead, which the wall clock cannot follow.
    const fake = createDingTalkFake({ clock, qpsLimit: 0 });
    const { app } = fake.seed;
    const tokenKeys = ['POST /v1.0/oauth2/accessToken', 'GET /gettoken'];
    const count = (token: boolean) =>
      [...fake.calls].reduce((sum, [key, n]) => (tokenKeys.includes(key) === token ? sum + n : sum), 0);
    return {
      client: create(
        {
          type: 'dingtalk',
          app_key: app.appKey,
          app_secret: app.appSecret,
          aes_key: app.aesKey,
          token: app.token,
          api_base: 'https://api.dingtalk.com',
          oapi_base: 'https://oapi.dingtalk.com',
        },
        fake.fetch,
      ),
      mobile: fake.seed.users.find((user) => user.mobile)!.mobile!,
      tokenRequests: () => count(true),
      apiRequests: () => count(false),
      answers,
    };
  }
  const fake = createWeComFake({ clock });
  const app = wecomSandboxSeed.apps[0]!;
  return {
    client: create(
      {
        type: 'wecom',
        corp_id: wecomSandboxSeed.corp_id,
        agent_id: app.agent_id,
        secret: app.secret,
        api_base: 'https://qyapi.weixin.qq.com',
      },
      fake.fetch,
    ),
    mobile: fake.users().find((user) => user.mobile)!.mobile!,
    tokenRequests: () => fake.stats.tokenRequests,
    apiRequests: () => Object.values(fake.stats.calls).reduce((sum, n) => sum + n, 0),
    answers,
  };
}

interface Outcome {
  tokenRequests: number;
  minimum: number;
  /** Answers that did not let the app use a token any longer than it already could. */
  wasted: number;
  distinctTokens: number;
  apiRequests: number;
  /** How far the fake clock went: the limiter may stretch the last wave past the span. */
  simulatedSeconds: number;
  wallMs: number;
}

async function measure(platform: Platform, spanSeconds: number): Promise<Outcome> {
  const clock = fakeClock(start);
  const { client, mobile, tokenRequests, apiRequests, answers } = setup(platform, clock);
  const perWave = calls / waves;
  const began = performance.now();
  for (let wave = 0; wave < waves; wave++) {
    // Evenly from the start to the very end of the span (the last wave runs at span end).
    const at = start + Math.round((wave * spanSeconds * 1000) / (waves - 1));
    if (at > clock.now()) clock.advance(at - clock.now());
    const found = await Promise.all(Array.from({ length: perWave }, () => client.findUsers({ mobile })));
    if (found.some((users) => users.length !== 1)) {
      throw new Error(`${platform}: findUsers({ mobile: ${mobile} }) did not find exactly one user`);
    }
  }
  const wallMs = performance.now() - began;

  let wasted = 0;
  let best: TokenAnswer | undefined;
  for (const answer of answers) {
    if (best && answer.token === best.token && answer.expiresAt <= best.expiresAt + 1000) wasted++;
    if (!best || answer.token !== best.token || answer.expiresAt > best.expiresAt) best = answer;
  }
  if (answers.length !== tokenRequests()) {
    throw new Error(`${platform}: ${answers.length} token answers seen, the fake counted ${tokenRequests()}`);
  }
  return {
    tokenRequests: tokenRequests(),
    minimum: Math.floor(spanSeconds / tokenLifetimeSeconds) + 1,
    wasted,
    distinctTokens: new Set(answers.map((answer) => answer.token)).size,
    apiRequests: apiRequests(),
    simulatedSeconds: (clock.now() - start) / 1000,
    wallMs,
  };
}

export const benchmark: Benchmark = {
  name: 'token-requests',
  title: `Token requests while ${calls.toLocaleString('en')} API calls (findUsers by mobile) run in ${waves} concurrent waves over a simulated span, per app (fakes, fake clock; Lark = Feishu path)`,
  async run({ progress }) {
    const figures: Figure[] = [];
    let wallMs = 0;
    for (const span of spans) {
      for (const platform of platforms) {
        const outcome = await measure(platform, span.seconds);
        wallMs += outcome.wallMs;
        progress(
          `${platform}, ${span.label}: ${outcome.tokenRequests} token request(s) (${outcome.distinctTokens} distinct token(s), ${outcome.wasted} wasted), ` +
            `${outcome.apiRequests} vendor API requests, fake clock ran ${outcome.simulatedSeconds.toFixed(0)} s, ${outcome.wallMs.toFixed(0)} ms real`,
        );
        if (outcome.wasted > 0 && platform === 'wecom') {
          progress(
            "wecom: WeCom answers a token request with the token it already issued (and its remaining lifetime) while that one is valid, so the client's refresh 5 minutes early brings nothing new; the next request after expiry gets the new token",
          );
        }
        const prefix = `${platform}, ${span.label}`;
        figures.push(
          {
            name: `${prefix}: token requests (minimum ${outcome.minimum})`,
            value: outcome.tokenRequests,
            unit: '',
            digits: 0,
            goal: { op: '<', value: outcome.minimum + 1 },
          },
          {
            name: `${prefix}: wasted (same token, no later expiry)`,
            value: outcome.wasted,
            unit: '',
            digits: 0,
          },
          { name: `${prefix}: vendor API requests`, value: outcome.apiRequests, unit: '', digits: 0 },
        );
      }
    }
    figures.push({ name: 'real time for all runs', value: wallMs / 1000, unit: 's' });
    return figures;
  },
};

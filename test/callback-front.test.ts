// The lean node:http front that `signoff serve` puts before Hono for `/callbacks/*` (src/api/callback-front.ts)
// answers exactly what the Hono route answers: every refusal compared byte for byte between the two doors
// (a real socket to the listening server, and app.request in-process), valid callbacks accepted and
// recorded once whichever door they come through, body limits, and everything it does not recognise
// left to Hono.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallbackAnswer,
  callbackUrl,
  dingTalkApprovalEvent,
  dingTalkCallback,
  feishuApprovalEvent,
  feishuCallback,
  type RawCallback,
  sandboxCredentials,
  sendCallback,
  weComApprovalChange,
  weComCallback,
} from './callback-requests.js';
import { startStack, type TestStack } from './stack.js';

const hex = (bytes = 6) => randomBytes(bytes).toString('hex');
const oneMegabyte = 1024 * 1024;

interface Wire {
  /** Flat raw header list, sent as is (repeats and all). */
  headers?: string[];
  /** Sent as the request target instead of the callback's path and query. */
  target?: string;
  /** Chunked instead of a content-length. */
  chunked?: boolean;
  /** Declares this content-length but sends only the first KB, then waits for the answer. */
  declareOnly?: number;
}

/** Sends a callback over a real socket to the front and reads the whole answer. */
function overSocket(base: string, callback: RawCallback, wire: Wire = {}): Promise<CallbackAnswer> {
  const url = new URL(base);
  const body = Buffer.from(callback.body);
  const given = wire.headers ?? callback.headers.flat();
  // A raw header list gets no Host from node: add the real one unless the case brings its own.
  const headers = given.some((value, index) => index % 2 === 0 && value.toLowerCase() === 'host')
    ? given
    : ['host', url.host, ...given];
  const framing = wire.chunked
    ? ['transfer-encoding', 'chunked']
    : callback.method === 'GET' || callback.method === 'HEAD'
      ? []
      : ['content-length', String(wire.declareOnly ?? body.length)];
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: callback.method,
        path: wire.target ?? callbackUrl(callback),
        headers: [...headers, ...framing],
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString(),
          });
          if (wire.declareOnly !== undefined) outgoing.destroy();
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', (error) => {
      if (wire.declareOnly === undefined) reject(error);
    });
    if (wire.declareOnly !== undefined) outgoing.write(body.subarray(0, 1024));
    else if (wire.chunked) {
      for (let offset = 0; offset < body.length; offset += 64 * 1024)
        outgoing.write(body.subarray(offset, offset + 64 * 1024));
      outgoing.end();
    } else outgoing.end(callback.method === 'GET' || callback.method === 'HEAD' ? undefined : body);
  });
}

const feishuEvent = () =>
  feishuCallback({ type: 'feishu', plaintext: feishuApprovalEvent('feishu', { eventId: `evt_${hex(12)}` }) });
const dingtalkEvent = () =>
  dingTalkCallback({ plaintext: dingTalkApprovalEvent({ processInstanceId: `pi-${hex(12)}` }) });
const wecomEvent = () =>
  weComCallback({
    plaintext: weComApprovalChange({
      spNo: `2026${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`,
    }),
  });
const builders = { feishu: feishuEvent, dingtalk: dingtalkEvent, wecom: wecomEvent };

const withHeader = (callback: RawCallback, name: string, value: string): RawCallback => ({
  ...callback,
  headers: callback.headers.map(([key, old]) => [key, key === name ? value : old] as [string, string]),
});
const withQuery = (callback: RawCallback, name: string, value: string): RawCallback => ({
  ...callback,
  query: callback.query.map(([key, old]) => [key, key === name ? value : old] as [string, string]),
});

describe('the callback front (PGlite, over a socket)', () => {
  let stack: TestStack;
  let base: string;
  const viaHono = (callback: RawCallback) => sendCallback(stack.signoff.app, callback);
  const viaHonoRaw = async (
    target: string,
    init: { method: string; headers: Headers | Array<[string, string]>; body: string | Uint8Array },
  ): Promise<CallbackAnswer> => {
    const response = await stack.signoff.app.request(target, init);
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  };
  const headerList = (flat: string[]) => {
    const headers = new Headers();
    for (let index = 0; index < flat.length; index += 2) headers.append(flat[index]!, flat[index + 1]!);
    return headers;
  };
  const counts = async () =>
    stack.signoff.db.query<{ id: string; events: number; replays: number }>(
      `select a.id,
         (select count(*)::int from im_events e where e.im_app_id = a.id) as events,
         (select count(*)::int from im_callback_replays r where r.im_app_id = a.id) as replays
       from im_apps a order by a.id`,
    );

  beforeAll(async () => {
    stack = await startStack('pglite', { sandbox: true, listen: true });
    base = stack.signoff.url!;
  });
  afterAll(async () => stack?.close());

  it.each(['feishu', 'dingtalk', 'wecom'] as const)(
    '%s: accepts a valid event once, whichever door it comes through, with the same reply',
    async (type) => {
      const before = await counts();
      const first = builders[type]();
      const socketAnswer = await overSocket(base, first);
      const honoAnswer = await viaHono(builders[type]());
      expect(socketAnswer.status, socketAnswer.text).toBe(200);
      expect(socketAnswer.status).toBe(honoAnswer.status);
      expect(socketAnswer.contentType).toBe(honoAnswer.contentType);
      // DingTalk seals its "success" with a fresh nonce each time; the others answer a constant.
      if (type === 'dingtalk')
        expect(Object.keys(JSON.parse(socketAnswer.text)).sort()).toEqual(
          Object.keys(JSON.parse(honoAnswer.text)).sort(),
        );
      else expect(socketAnswer.text).toBe(honoAnswer.text);
      // The same request again is a replay through either door, refused the same way.
      const replayOverSocket = await overSocket(base, first);
      const replayViaHono = await viaHono(first);
      expect(replayOverSocket.status).toBe(409);
      expect(replayOverSocket).toEqual(replayViaHono);
      const after = await counts();
      const id = sandboxCredentials(type).id;
      const of = (rows: typeof before) => rows.find((row) => row.id === id)!;
      expect(of(after).events - of(before).events).toBe(2);
    },
  );

  it('reads the body as the Hono route does: a leading byte-order mark is dropped', async () => {
    // Feishu signs the body text: it verifies only if the BOM is dropped, as Request.text() drops it.
    const bom = (callback: RawCallback) =>
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(callback.body)]);
    const overSocketFirst = feishuEvent();
    expect((await overSocket(base, { ...overSocketFirst, body: bom(overSocketFirst) })).status).toBe(200);
    expect((await viaHono({ ...overSocketFirst, body: bom(overSocketFirst) })).status).toBe(409);
    const viaHonoFirst = feishuEvent();
    expect((await viaHono({ ...viaHonoFirst, body: bom(viaHonoFirst) })).status).toBe(200);
    expect((await overSocket(base, { ...viaHonoFirst, body: bom(viaHonoFirst) })).status).toBe(409);
  });

  it('refuses every forged or malformed callback exactly as the Hono route does, changing nothing', async () => {
    const before = await counts();
    const feishu = feishuEvent();
    const dingtalk = dingtalkEvent();
    const wecom = wecomEvent();
    const cases: Array<[string, RawCallback, Wire?]> = [
      ['feishu: wrong signature', withHeader(feishu, 'x-lark-signature', '0'.repeat(64))],
      ['feishu: no body', { ...feishu, body: '' }],
      ['feishu: invalid UTF-8', { ...feishu, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }],
      ['feishu: not JSON', { ...feishu, body: 'encrypt=1' }],
      ['feishu: stale timestamp', withHeader(feishu, 'x-lark-request-timestamp', '1000000000')],
      [
        'feishu: the signature header twice (joined, then refused)',
        feishu,
        {
          headers: [
            ...feishu.headers.flat(),
            'X-Lark-Signature',
            feishu.headers.find(([key]) => key === 'x-lark-signature')![1],
          ],
        },
      ],
      ['feishu: unknown app id', { ...feishu, path: '/callbacks/feishu/ima_nope' }],
      ['feishu: another type at this id', { ...feishu, path: '/callbacks/dingtalk/ima_sandbox_feishu' }],
      ['feishu: an unknown type', { ...feishu, path: '/callbacks/slack/ima_sandbox_feishu' }],
      ['feishu: trailing slash', { ...feishu, path: `${feishu.path}/` }],
      ['feishu: one segment', { ...feishu, path: '/callbacks/feishu' }],
      ['feishu: PUT', { ...feishu, method: 'PUT' }],
      ['feishu: HEAD', { ...feishu, method: 'HEAD', body: '' }],
      ['feishu: GET', { ...feishu, method: 'GET', body: '' }],
      ['dingtalk: wrong msg_signature', withQuery(dingtalk, 'msg_signature', 'f'.repeat(40))],
      ['dingtalk: no query', { ...dingtalk, query: [] }],
      ['dingtalk: the nonce twice', { ...dingtalk, query: [...dingtalk.query, ['nonce', 'other']] }],
      [
        'dingtalk: odd query encoding',
        { ...dingtalk, query: [], rawQuery: 'timestamp=1+2&nonce=%zz&msg_signature=%41' },
      ],
      ['dingtalk: truncated body', { ...dingtalk, body: String(dingtalk.body).slice(0, 40) }],
      [
        'dingtalk: percent-encoded app id (Hono decodes it; signature still wrong)',
        withQuery(dingtalk, 'msg_signature', 'e'.repeat(40)),
        {
          target: `/callbacks/dingtalk/ima%5Fsandbox%5Fdingtalk?${new URLSearchParams(withQuery(dingtalk, 'msg_signature', 'e'.repeat(40)).query)}`,
        },
      ],
      ['wecom: wrong msg_signature', withQuery(wecom, 'msg_signature', 'a'.repeat(40))],
      ['wecom: XML without Encrypt', { ...wecom, body: '<xml><ToUserName>x</ToUserName></xml>' }],
      [
        'wecom: GET verification with a bad echostr',
        { ...wecom, method: 'GET', body: '', query: [...wecom.query, ['echostr', 'bm9wZQ==']] },
      ],
    ];
    for (const [label, callback, wire] of cases) {
      const socketAnswer = await overSocket(base, callback, wire);
      const honoAnswer =
        wire?.target || wire?.headers
          ? await viaHonoRaw(wire.target ?? callbackUrl(callback), {
              method: callback.method,
              headers: wire.headers ? headerList(wire.headers) : callback.headers,
              body: callback.body,
            })
          : await viaHono(callback);
      expect(socketAnswer, label).toEqual(honoAnswer);
      expect(socketAnswer.status, `${label}: ${socketAnswer.text}`).toBeGreaterThanOrEqual(400);
      expect(socketAnswer.status, label).toBeLessThan(500);
    }
    expect(await counts()).toEqual(before);
  });

  it('answers 413 for a body over 1 MB, declared or streamed, and reads one of exactly 1 MB', async () => {
    const callback = dingtalkEvent();
    const padded = (size: number) => {
      const text = String(callback.body);
      return `${text.slice(0, -1)},"padding":"${'A'.repeat(size - text.length - 13)}"}`;
    };
    const over = padded(oneMegabyte + 1);
    expect(Buffer.byteLength(over)).toBe(oneMegabyte + 1);
    const expected = await viaHono({ ...callback, body: over });
    expect(expected.status).toBe(413);
    const declared = await overSocket(base, { ...callback, body: over }, { declareOnly: oneMegabyte + 1 });
    expect(declared).toEqual(expected);
    const streamed = await overSocket(base, { ...callback, body: over }, { chunked: true });
    expect(streamed).toEqual(expected);
    // Exactly 1 MB passes the limit; DingTalk signs only the ciphertext, so it is the genuine event.
    const exact = padded(oneMegabyte);
    expect(Buffer.byteLength(exact)).toBe(oneMegabyte);
    const accepted = await overSocket(base, { ...callback, body: exact }, { chunked: true });
    expect(accepted.status, accepted.text.slice(0, 200)).toBe(200);
  });

  it('lets exactly one of twenty simultaneous copies through', async () => {
    const callback = wecomEvent();
    const answers = await Promise.all(Array.from({ length: 20 }, () => overSocket(base, callback)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(19);
  });

  it('leaves a Host it cannot vouch for, and every other route, to Hono', async () => {
    const before = await counts();
    const callback = feishuEvent();
    const badHost = await overSocket(base, callback, {
      headers: [...callback.headers.flat(), 'host', 'bad host'],
    });
    expect(badHost.status).toBe(400);
    expect(await counts()).toEqual(before);
    const health = await overSocket(base, {
      method: 'GET',
      path: '/healthz',
      query: [],
      headers: [],
      body: '',
    });
    expect(health.status).toBe(200);
  });
});

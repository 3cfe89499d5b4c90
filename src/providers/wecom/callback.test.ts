import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import type { CallbackRequest, ImAppConfig } from '../types.js';
import {
  CALLBACK_NOT_CONFIGURED,
  handleWeComCallback,
  type WeComApprovalEvent,
  type WeComOtherEvent,
} from './callback.js';
import { createWeComCrypto } from './crypto.js';

// platforms.md §7.2, W1 (GET) and W2 (POST), vendor-published.
const W = {
  token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  encoding_aes_key: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  corp_id: 'ww1436e0e65a779aee',
};
const W1 = {
  timestamp: '1476416373',
  nonce: '47744683',
  msg_signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
  echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
};
const W2 = {
  timestamp: '1476422779',
  nonce: '1597212914',
  msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
  encrypt:
    'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
};

const config: ImAppConfig = {
  type: 'wecom',
  corp_id: W.corp_id,
  agent_id: '1000002',
  secret: 'unused',
  token: W.token,
  encoding_aes_key: W.encoding_aes_key,
  api_base: 'https://qyapi.weixin.qq.com',
};

const at = (timestamp: string, skewSeconds = 0) => ({ now: () => (Number(timestamp) + skewSeconds) * 1000 });
const envelope = (encrypt: string) =>
  `<xml><ToUserName><![CDATA[${W.corp_id}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;

function get(query: Record<string, string>): CallbackRequest {
  return { method: 'GET', query, headers: {}, body: '' };
}
function post(query: Record<string, string>, body: string): CallbackRequest {
  return { method: 'POST', query, headers: { 'content-type': 'text/xml' }, body };
}

function refused(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.status).toBeGreaterThanOrEqual(400);
    expect(appError.status).toBeLessThan(500);
    for (const secret of [W.token, W.encoding_aes_key]) expect(appError.message).not.toContain(secret);
    return appError;
  }
  throw new Error('expected the callback to be refused');
}

/** Seals a plaintext the way WeCom does, for the current test clock. */
function sealed(
  plaintext: string,
  timestamp = '1700000000',
  overrides: { corpId?: string; nonce?: string } = {},
) {
  const crypto = createWeComCrypto({
    token: W.token,
    encodingAesKey: W.encoding_aes_key,
    corpId: overrides.corpId ?? W.corp_id,
  });
  const out = crypto.encrypt(plaintext, { timestamp, nonce: overrides.nonce ?? 'n0nce123' });
  return {
    query: { msg_signature: out.signature, timestamp: out.timestamp, nonce: out.nonce },
    body: envelope(out.encrypt),
  };
}

const approvalXml = (change = 2, spStatus = 2) =>
  `<xml><ToUserName><![CDATA[${W.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[sys_approval_change]]></Event>
<AgentID>3010040</AgentID>
<ApprovalInfo>
  <SpNo>201910220035</SpNo><SpName><![CDATA[部署审批]]></SpName><SpStatus>${spStatus}</SpStatus>
  <TemplateId><![CDATA[3TkaH5KFbrG9heEQWLJjhgpFNDqScHoH3XcHb85B]]></TemplateId><ApplyTime>1699999000</ApplyTime>
  <Applyer><UserId><![CDATA[WangXiaoMing]]></UserId><Party><![CDATA[1]]></Party></Applyer>
  <SpRecord><SpStatus>2</SpStatus><ApproverAttr>2</ApproverAttr>
    <Details><Approver><UserId><![CDATA[LiuXiaoGang]]></UserId></Approver><Speech><![CDATA[同意 & <ok>]]></Speech>
      <SpStatus>2</SpStatus><SpTime>1699999500</SpTime></Details>
    <Details><Approver><UserId><![CDATA[ChenDaGuo]]></UserId></Approver><Speech></Speech>
      <SpStatus>2</SpStatus><SpTime>1699999600</SpTime></Details></SpRecord>
  <SpRecord><SpStatus>1</SpStatus><ApproverAttr>1</ApproverAttr>
    <Details><Approver><UserId><![CDATA[WuJunJie]]></UserId></Approver><Speech/><SpStatus>1</SpStatus><SpTime>0</SpTime></Details></SpRecord>
  <Notifyer><UserId><![CDATA[ChenDaGuo]]></UserId></Notifyer>
  <StatuChangeEvent>${change}</StatuChangeEvent>
</ApprovalInfo></xml>`;

describe('WeCom callback: URL verification (GET)', () => {
  it('answers the decrypted echostr of the vendor vector W1 as bare text', () => {
    const result = handleWeComCallback(config, get({ ...W1 }), at(W1.timestamp));
    expect(result).toEqual({
      status: 200,
      content_type: 'text/plain',
      body: '1288432023552776189',
      verification: true,
      replay_key: `${W1.timestamp}:${W1.nonce}`,
    });
    // A `+` that form decoding turned into a space still verifies.
    expect(
      handleWeComCallback(config, get({ ...W1, echostr: W1.echostr.replaceAll('+', ' ') }), at(W1.timestamp))
        .body,
    ).toBe('1288432023552776189');
  });

  it('refuses until Token and EncodingAESKey are entered, saying where to find them', () => {
    const { token: _token, ...withoutToken } = config as Extract<ImAppConfig, { type: 'wecom' }>;
    for (const incomplete of [withoutToken, { ...config, encoding_aes_key: undefined }] as ImAppConfig[]) {
      const error = refused(() => handleWeComCallback(incomplete, get({ ...W1 }), at(W1.timestamp)));
      expect(error.code).toBe('conflict');
      expect(error.message).toBe(CALLBACK_NOT_CONFIGURED);
      expect(error.message).toContain(
        '应用管理 → 接收消息 → 设置API接收 (Receive Messages → Set API Receive)',
      );
    }
  });

  it('refuses stale or future timestamps, a missing or wrong signature, a missing echostr', () => {
    expect(handleWeComCallback(config, get({ ...W1 }), at(W1.timestamp, 300)).verification).toBe(true);
    expect(
      refused(() => handleWeComCallback(config, get({ ...W1 }), at(W1.timestamp, 301))).message,
    ).toContain('timestamp');
    expect(
      refused(() => handleWeComCallback(config, get({ ...W1 }), at(W1.timestamp, -301))).message,
    ).toContain('timestamp');
    const { msg_signature: _signature, ...unsigned } = W1;
    refused(() => handleWeComCallback(config, get(unsigned), at(W1.timestamp)));
    const wrong = refused(() =>
      handleWeComCallback(config, get({ ...W1, msg_signature: '0'.repeat(40) }), at(W1.timestamp)),
    );
    expect(wrong.message).toContain('signature');
    const { echostr: _echostr, ...noEcho } = W1;
    refused(() => handleWeComCallback(config, get(noEcho), at(W1.timestamp)));
    refused(() => handleWeComCallback(config, get({ ...W1, timestamp: '14764x6373' }), at(W1.timestamp)));
    refused(() => handleWeComCallback(config, { ...get({ ...W1 }), method: 'PUT' }, at(W1.timestamp)));
  });

  it('refuses a payload sealed for another corp (receiver id)', () => {
    const error = refused(() =>
      handleWeComCallback({ ...config, corp_id: 'wwsomeoneelse' }, get({ ...W1 }), at(W1.timestamp)),
    );
    expect(error.message).toContain('corp id');
  });
});

describe('WeCom callback: events (POST)', () => {
  it('decrypts the vendor vector W2 and records it as a text message keyed by MsgId', () => {
    const query = { msg_signature: W2.msg_signature, timestamp: W2.timestamp, nonce: W2.nonce };
    const result = handleWeComCallback(config, post(query, envelope(W2.encrypt)), at(W2.timestamp));
    expect(result).toMatchObject({
      status: 200,
      content_type: 'text/plain',
      body: 'success',
      replay_key: `${W2.timestamp}:${W2.nonce}`,
    });
    expect(result.verification).toBeUndefined();
    expect(result.event?.type).toBe('text');
    expect(result.event?.dedup_key).toBe('wecom:msg:1456453720');
    const payload = result.event?.payload as WeComOtherEvent;
    expect(payload).toMatchObject({ msg_type: 'text', create_time: 1476422779 });
    expect(payload.fields).toMatchObject({ Content: '你好', FromUserName: 'ChenJiaShun' });
  });

  it('reads sys_approval_change into the getapprovaldetail shape, repeated elements as arrays', () => {
    const { query, body } = sealed(approvalXml());
    const result = handleWeComCallback(config, post(query, body), at('1700000000'));
    expect(result.event?.type).toBe('sys_approval_change');
    expect(result.event?.dedup_key).toBe('wecom:sys_approval_change:201910220035:2:1700000000');
    const payload = result.event?.payload as WeComApprovalEvent;
    expect(payload).toMatchObject({ create_time: 1700000000, agent_id: '3010040', statu_change_event: 2 });
    expect(payload.info).toMatchObject({
      sp_no: '201910220035',
      sp_name: '部署审批',
      sp_status: 2,
      template_id: '3TkaH5KFbrG9heEQWLJjhgpFNDqScHoH3XcHb85B',
      apply_time: 1699999000,
      applyer: { userid: 'WangXiaoMing', partyid: '1' },
      notifyer: [{ userid: 'ChenDaGuo' }],
    });
    expect(payload.info.sp_record).toHaveLength(2);
    expect(payload.info.sp_record[0]).toEqual({
      sp_status: 2,
      approverattr: 2,
      details: [
        { approver: { userid: 'LiuXiaoGang' }, speech: '同意 & <ok>', sp_status: 2, sptime: 1699999500 },
        { approver: { userid: 'ChenDaGuo' }, speech: '', sp_status: 2, sptime: 1699999600 },
      ],
    });
    expect(payload.info.sp_record[1]!.details).toHaveLength(1);
    expect(payload.process_list).toBeUndefined();
  });

  it('gives the same dedup key to a redelivery and a new one to the next change', () => {
    const once = sealed(approvalXml());
    const first = handleWeComCallback(config, post(once.query, once.body), at('1700000000'));
    const again = sealed(approvalXml(), '1700000001', { nonce: 'other' });
    const second = handleWeComCallback(config, post(again.query, again.body), at('1700000000'));
    expect(second.event?.dedup_key).toBe(first.event?.dedup_key);
    expect(second.replay_key).not.toBe(first.replay_key);
    const next = sealed(approvalXml(3, 3));
    expect(handleWeComCallback(config, post(next.query, next.body), at('1700000000')).event?.dedup_key).toBe(
      'wecom:sys_approval_change:201910220035:3:1700000000',
    );
  });

  it('accepts the newer ProcessList/NodeList flow', () => {
    const xml = approvalXml().replace(
      '<StatuChangeEvent>',
      `<ProcessList><NodeList><NodeType>1</NodeType><SpStatus>2</SpStatus><ApvRel>1</ApvRel>
        <SubNodeList><UserInfo><UserId><![CDATA[a]]></UserId></UserInfo><Speech><![CDATA[ok]]></Speech><SpYj>2</SpYj><Sptime>1699999500</Sptime></SubNodeList>
        <SubNodeList><UserInfo><UserId><![CDATA[b]]></UserId></UserInfo><SpYj>1</SpYj><Sptime>0</Sptime></SubNodeList>
      </NodeList><NodeList><NodeType>2</NodeType><SpStatus>1</SpStatus><ApvRel>2</ApvRel></NodeList></ProcessList><StatuChangeEvent>`,
    );
    const { query, body } = sealed(xml);
    const payload = handleWeComCallback(config, post(query, body), at('1700000000')).event
      ?.payload as WeComApprovalEvent;
    expect(payload.process_list).toEqual([
      {
        node_type: 1,
        sp_status: 2,
        apv_rel: 1,
        sub_nodes: [
          { userid: 'a', speech: 'ok', sp_yj: 2, sptime: 1699999500 },
          { userid: 'b', speech: '', sp_yj: 1, sptime: 0 },
        ],
      },
      { node_type: 2, sp_status: 1, apv_rel: 2, sub_nodes: [] },
    ]);
  });

  it('records other events with a content-derived dedup key', () => {
    const xml = `<xml><ToUserName><![CDATA[${W.corp_id}]]></ToUserName><FromUserName><![CDATA[LiNa]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><AgentID>1000002</AgentID></xml>`;
    const { query, body } = sealed(xml);
    const result = handleWeComCallback(config, post(query, body), at('1700000000'));
    expect(result.event?.type).toBe('enter_agent');
    expect(result.event?.dedup_key).toMatch(/^wecom:enter_agent:[0-9a-f]{64}$/);
  });

  it('refuses DOCTYPE and entity tricks outside and inside the encryption', () => {
    const { query, body } = sealed(approvalXml());
    const doctype = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${body}`;
    expect(
      refused(() => handleWeComCallback(config, post(query, doctype), at('1700000000'))).message,
    ).toContain('DOCTYPE');
    const inner = sealed(`<!DOCTYPE xml [<!ENTITY x "boom">]><xml><Content>&x;</Content></xml>`);
    refused(() => handleWeComCallback(config, post(inner.query, inner.body), at('1700000000')));
    const entity = sealed(`<xml><MsgType>text</MsgType><Content>&x;</Content></xml>`);
    expect(
      refused(() => handleWeComCallback(config, post(entity.query, entity.body), at('1700000000'))).message,
    ).toContain('entity');
  });

  it('refuses a wrong receiver, a body without Encrypt, an event for another corp and incomplete approval events', () => {
    const other = sealed(approvalXml(), '1700000000', { corpId: 'wwsomeoneelse' });
    refused(() => handleWeComCallback(config, post(other.query, other.body), at('1700000000')));
    const { query } = sealed(approvalXml());
    refused(() =>
      handleWeComCallback(config, post(query, '<xml><ToUserName>x</ToUserName></xml>'), at('1700000000')),
    );
    refused(() => handleWeComCallback(config, post(query, 'not xml'), at('1700000000')));
    const misaddressed = sealed(approvalXml().replace(`<![CDATA[${W.corp_id}]]>`, '<![CDATA[wwelse]]>'));
    refused(() => handleWeComCallback(config, post(misaddressed.query, misaddressed.body), at('1700000000')));
    const incomplete = sealed(approvalXml().replace(/<SpNo>\d+<\/SpNo>/, ''));
    refused(() => handleWeComCallback(config, post(incomplete.query, incomplete.body), at('1700000000')));
  });
});

describe('WeCom callback: fuzz', () => {
  // Deterministic PRNG, so a failure reproduces.
  let seed = 0x5eed;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const pick = (text: string) => Math.floor(random() * text.length);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=<>![]& \n';
  const mutateOnce = (text: string): string => {
    const i = pick(text);
    const kind = random();
    if (kind < 0.4)
      return `${text.slice(0, i)}${alphabet[Math.floor(random() * alphabet.length)]}${text.slice(i + 1)}`;
    if (kind < 0.6) return `${text.slice(0, i)}${text.slice(i + 1)}`;
    if (kind < 0.8)
      return `${text.slice(0, i)}${alphabet[Math.floor(random() * alphabet.length)]}${text.slice(i)}`;
    return text.slice(0, i);
  };

  it('accepts none of 5,000 mutations of the signed parts of a valid event', () => {
    const valid = sealed(approvalXml());
    const encrypt = valid.body.match(/<Encrypt><!\[CDATA\[([^\]]+)\]\]>/)![1]!;
    expect(handleWeComCallback(config, post(valid.query, valid.body), at('1700000000')).event).toBeDefined();
    let tried = 0;
    while (tried < 5000) {
      const part = Math.floor(random() * 4);
      const query = { ...valid.query };
      let body = valid.body;
      if (part === 0) query.msg_signature = mutateOnce(query.msg_signature);
      else if (part === 1) query.timestamp = mutateOnce(query.timestamp);
      else if (part === 2) query.nonce = mutateOnce(query.nonce);
      else body = envelope(mutateOnce(encrypt));
      if (body === valid.body && JSON.stringify(query) === JSON.stringify(valid.query)) continue;
      tried++;
      refused(() => handleWeComCallback(config, post(query, body), at('1700000000')));
    }
  });

  it('answers 5,000 random corruptions of the whole request with a 4xx or a faithful read, never a crash', () => {
    const valid = sealed(approvalXml());
    for (let i = 0; i < 5000; i++) {
      let body = valid.body;
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) body = mutateOnce(body);
      try {
        const result = handleWeComCallback(config, post(valid.query, body), at('1700000000'));
        // Only layout outside the signed <Encrypt> may change and still be read — as the same event.
        expect(result.event?.dedup_key).toBe('wecom:sys_approval_change:201910220035:2:1700000000');
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).status).toBeLessThan(500);
      }
    }
  });
});

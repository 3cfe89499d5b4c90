import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { createWeComCrypto, extractWeComEncrypt } from './crypto.js';

// reference/platforms.md §7.2, "wecom" (all vendor-published).
const vectors = [
  {
    id: 'W1',
    kind: 'get',
    token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
    encoding_aes_key: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
    receiveid: 'ww1436e0e65a779aee',
    timestamp: '1476416373',
    nonce: '47744683',
    msg_signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
    encrypt: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==',
    message: '1288432023552776189',
  },
  {
    id: 'W2',
    kind: 'post',
    token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
    encoding_aes_key: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
    receiveid: 'ww1436e0e65a779aee',
    timestamp: '1476422779',
    nonce: '1597212914',
    msg_signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
    encrypt:
      'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
    message:
      '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
  },
  {
    id: 'W3',
    kind: 'get',
    token: 'QDG6eK',
    encoding_aes_key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    receiveid: 'wx5823bf96d3bd56c7',
    timestamp: '1409659589',
    nonce: '263014780',
    msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    encrypt: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    message: '1616140317555161061',
  },
  {
    id: 'W4',
    kind: 'post',
    token: 'QDG6eK',
    encoding_aes_key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    receiveid: 'wx5823bf96d3bd56c7',
    timestamp: '1409659813',
    nonce: '1372623149',
    msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
    message:
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
  },
] as const;

type Vector = (typeof vectors)[number];

function cryptoFor(v: Vector, overrides: { token?: string; corpId?: string } = {}) {
  return createWeComCrypto({
    token: overrides.token ?? v.token,
    encodingAesKey: v.encoding_aes_key,
    corpId: overrides.corpId ?? v.receiveid,
  });
}

/** The 16-byte random prefix the vendor used, read with an independent decrypt (to re-encrypt byte for byte). */
function randomPrefixOf(v: Vector): Buffer {
  const key = Buffer.from(`${v.encoding_aes_key}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(Buffer.from(v.encrypt, 'base64')), decipher.final()]).subarray(0, 16);
}

function pushBody(v: Vector, encrypt: string = v.encrypt): string {
  return `<xml><ToUserName><![CDATA[${v.receiveid}]]></ToUserName><AgentID><![CDATA[218]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
}

function expectBadRequest(run: () => unknown, v: Vector): AppError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('bad_request');
  for (const secret of [v.token, v.encoding_aes_key, v.message]) expect(error.message).not.toContain(secret);
  return error;
}

/** One character changed (§7.4): the last one, replaced by another character of the same alphabet. */
function mutate(value: string): string {
  const last = value.at(-1);
  return `${value.slice(0, -1)}${last === 'A' ? 'B' : last === '0' ? '1' : last === '=' ? '=' : 'A'}`;
}

describe('WeCom vectors (platforms.md §7.2)', () => {
  describe.each(vectors)('$id', (v) => {
    const wecom = cryptoFor(v);

    it(`${v.id}: signature`, () => {
      expect(wecom.signature(v.timestamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
      expect(wecom.verify(v.msg_signature, v.timestamp, v.nonce, v.encrypt)).toBe(true);
    });

    it(`${v.id}: decrypt gives the message and the receive id`, () => {
      expect(wecom.decrypt(v.encrypt)).toEqual({ message: v.message, receiverId: v.receiveid });
    });

    if (v.kind === 'get') {
      it(`${v.id}: verifyUrl answers the echostr plaintext`, () => {
        const request = {
          msgSignature: v.msg_signature,
          timestamp: v.timestamp,
          nonce: v.nonce,
          echostr: v.encrypt,
        };
        expect(wecom.verifyUrl(request)).toBe(v.message);
        // A `+` in echostr that form decoding turned into a space still verifies.
        expect(wecom.verifyUrl({ ...request, echostr: v.encrypt.replaceAll('+', ' ') })).toBe(v.message);
      });
    } else {
      it(`${v.id}: decryptMessage reads <Encrypt> from the XML body`, () => {
        const request = {
          msgSignature: v.msg_signature,
          timestamp: v.timestamp,
          nonce: v.nonce,
          body: pushBody(v),
        };
        expect(wecom.decryptMessage(request)).toBe(v.message);
      });
    }

    it(`${v.id}: re-encrypting with the vendor's random prefix reproduces the ciphertext`, () => {
      const sealed = wecom.encrypt(v.message, {
        random: randomPrefixOf(v),
        timestamp: v.timestamp,
        nonce: v.nonce,
      });
      expect(sealed).toEqual({
        encrypt: v.encrypt,
        signature: v.msg_signature,
        timestamp: v.timestamp,
        nonce: v.nonce,
      });
    });

    it(`${v.id}: a one-character change to any input fails`, () => {
      const { msg_signature: sig, timestamp, nonce, encrypt } = v;
      expect(wecom.verify(mutate(sig), timestamp, nonce, encrypt)).toBe(false);
      expect(wecom.verify(sig, mutate(timestamp), nonce, encrypt)).toBe(false);
      expect(wecom.verify(sig, timestamp, mutate(nonce), encrypt)).toBe(false);
      expect(wecom.verify(sig, timestamp, nonce, `${encrypt.slice(0, 5)}x${encrypt.slice(6)}`)).toBe(false);
      expect(cryptoFor(v, { token: mutate(v.token) }).verify(sig, timestamp, nonce, encrypt)).toBe(false);
      const error = expectBadRequest(() => cryptoFor(v, { corpId: mutate(v.receiveid) }).decrypt(encrypt), v);
      expect(error.message).toBe('encrypted payload is for a different corp id than the one configured');
      const request = { msgSignature: mutate(sig), timestamp, nonce };
      if (v.kind === 'get') expectBadRequest(() => wecom.verifyUrl({ ...request, echostr: encrypt }), v);
      else expectBadRequest(() => wecom.decryptMessage({ ...request, body: pushBody(v) }), v);
    });
  });

  it('W1/W3: the two credential sets do not mix (Sample.py trap)', () => {
    const [w1, , w3] = vectors;
    const w1Crypto = cryptoFor(w1);
    expect(w1Crypto.verify(w3.msg_signature, w3.timestamp, w3.nonce, w3.encrypt)).toBe(false);
    expectBadRequest(() => w1Crypto.decrypt(w3.encrypt), w3);
    expectBadRequest(
      () =>
        w1Crypto.verifyUrl({
          msgSignature: w3.msg_signature,
          timestamp: w3.timestamp,
          nonce: w3.nonce,
          echostr: w3.encrypt,
        }),
      w3,
    );
  });
});

describe('WeCom callbacks', () => {
  const [w1, w2] = vectors;
  const wecom = cryptoFor(w1);

  it('encryptReply produces the passive-reply envelope, which decryptMessage reads back', () => {
    const reply = wecom.encryptReply('<xml><Content>ok</Content></xml>', {
      timestamp: '1700000000',
      nonce: 'abc123',
    });
    const match =
      /^<xml><Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]><\/Encrypt><MsgSignature><!\[CDATA\[([0-9a-f]{40})\]\]><\/MsgSignature><TimeStamp>1700000000<\/TimeStamp><Nonce><!\[CDATA\[abc123\]\]><\/Nonce><\/xml>$/.exec(
        reply,
      );
    expect(match).not.toBeNull();
    const request = { msgSignature: match?.[2], timestamp: '1700000000', nonce: 'abc123', body: reply };
    expect(wecom.decryptMessage(request)).toBe('<xml><Content>ok</Content></xml>');
  });

  it('encryptReply reproduces a vendor ciphertext with the vendor random prefix', () => {
    const reply = wecom.encryptReply(w2.message, {
      random: randomPrefixOf(w2),
      timestamp: w2.timestamp,
      nonce: w2.nonce,
    });
    expect(reply).toContain(`<Encrypt><![CDATA[${w2.encrypt}]]></Encrypt>`);
    expect(reply).toContain(`<MsgSignature><![CDATA[${w2.msg_signature}]]></MsgSignature>`);
  });

  it('encryptReply stamps seconds from the injected clock and a random nonce', () => {
    const clocked = createWeComCrypto({
      token: w1.token,
      encodingAesKey: w1.encoding_aes_key,
      corpId: w1.receiveid,
      now: () => 1_700_000_000_999,
    });
    expect(clocked.encryptReply('x')).toMatch(
      /<TimeStamp>1700000000<\/TimeStamp><Nonce><!\[CDATA\[[A-Za-z0-9]{16}\]\]>/,
    );
  });

  it('encryptReply refuses a nonce or timestamp that would break the XML', () => {
    expectBadRequest(() => wecom.encryptReply('x', { nonce: 'a]]>b' }), w1);
    expectBadRequest(() => wecom.encryptReply('x', { timestamp: '<1>' }), w1);
  });

  it('extractWeComEncrypt reads CDATA and plain text, and rejects a body without it', () => {
    expect(extractWeComEncrypt('<xml><Encrypt><![CDATA[abc=]]></Encrypt></xml>')).toBe('abc=');
    expect(extractWeComEncrypt('<xml>\n  <Encrypt>abc=</Encrypt>\n</xml>')).toBe('abc=');
    for (const body of [
      '',
      '<xml></xml>',
      '<xml><Encrypt></Encrypt></xml>',
      '<xml><Encrypt><![CDATA[]]></Encrypt></xml>',
      'not xml',
    ]) {
      expect(expectBadRequest(() => extractWeComEncrypt(body), w1).message).toBe(
        'request body has no <Encrypt> element',
      );
    }
  });

  it('rejects a push whose XML carries no <Encrypt>', () => {
    const request = {
      msgSignature: w2.msg_signature,
      timestamp: w2.timestamp,
      nonce: w2.nonce,
      body: '<xml/>',
    };
    expectBadRequest(() => wecom.decryptMessage(request), w2);
  });

  it('rejects an empty or missing echostr and a missing signature', () => {
    const request = { msgSignature: w1.msg_signature, timestamp: w1.timestamp, nonce: w1.nonce };
    expectBadRequest(() => wecom.verifyUrl({ ...request, echostr: '' }), w1);
    expectBadRequest(() => wecom.verifyUrl({ ...request, msgSignature: undefined, echostr: w1.encrypt }), w1);
  });

  it('rejects a truncated echostr even when it is signed', () => {
    const echostr = Buffer.from(w1.encrypt, 'base64').subarray(0, 32).toString('base64');
    const signed = {
      msgSignature: wecom.signature(w1.timestamp, w1.nonce, echostr),
      timestamp: w1.timestamp,
      nonce: w1.nonce,
    };
    expectBadRequest(() => wecom.verifyUrl({ ...signed, echostr }), w1);
  });

  it('rejects a non-base64 echostr even when it is signed', () => {
    const echostr = 'not*base64';
    const signed = {
      msgSignature: wecom.signature(w1.timestamp, w1.nonce, echostr),
      timestamp: w1.timestamp,
      nonce: w1.nonce,
    };
    expect(expectBadRequest(() => wecom.verifyUrl({ ...signed, echostr }), w1).message).toMatch(/base64/);
  });

  it('validates the EncodingAESKey when the crypto is created', () => {
    const error = expectBadRequest(
      () =>
        createWeComCrypto({
          token: w1.token,
          encodingAesKey: w1.encoding_aes_key.slice(1),
          corpId: w1.receiveid,
        }),
      w1,
    );
    expect(error.message).toBe('EncodingAESKey must be exactly 43 characters (got 42)');
  });
});

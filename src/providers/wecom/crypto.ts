// WeCom callback crypto (WXBizMsgCrypt, reference/platforms.md §5.4): GET URL verification, POST XML
// decryption and encrypted passive replies. The cipher itself is shared with DingTalk (../shared/msg-crypt.ts).

import { AppError } from '../../errors.js';
import { createMsgCrypt, type EncryptOptions, type MsgCrypt } from '../shared/msg-crypt.js';

export interface WeComCryptoOptions {
  /** "Token" from the app's receive-message settings. */
  token: string;
  /** "EncodingAESKey" from the same page: 43 base64 characters. */
  encodingAesKey: string;
  /** The receive id every plaintext ends with: the corp id for a self-built app. */
  corpId: string;
  /** Clock in epoch milliseconds (default `Date.now`); reply timestamps are in seconds. */
  now?: () => number;
}

export interface WeComUrlVerification {
  msgSignature: string | undefined;
  timestamp: string;
  nonce: string;
  /** As taken from the query string; a `+` that arrived as a space is restored. */
  echostr: string;
}

export interface WeComEncryptedPush {
  msgSignature: string | undefined;
  timestamp: string;
  nonce: string;
  /** The raw XML request body: `<xml>…<Encrypt><![CDATA[…]]></Encrypt></xml>`. */
  body: string;
}

export interface WeComCrypto extends MsgCrypt {
  /** Checks and decrypts a GET verification; returns the plaintext to answer with (text/plain, nothing else). */
  verifyUrl(request: WeComUrlVerification): string;
  /** Checks and decrypts a POST push; returns the plaintext XML. */
  decryptMessage(request: WeComEncryptedPush): string;
  /** Encrypts a passive reply and wraps it in the reply XML envelope. */
  encryptReply(message: string, options?: EncryptOptions): string;
}

const ENCRYPT_ELEMENT = /<Encrypt>\s*(?:<!\[CDATA\[([^\]]*)\]\]>|([^<]*))\s*<\/Encrypt>/;
const REPLY_TOKEN = /^[A-Za-z0-9]+$/;

/** The content of the `<Encrypt>` element of a push body (CDATA or plain text). */
export function extractWeComEncrypt(xml: string): string {
  const match = ENCRYPT_ELEMENT.exec(xml);
  const encrypt = (match?.[1] ?? match?.[2] ?? '').trim();
  if (encrypt.length === 0) throw new AppError('bad_request', 'request body has no <Encrypt> element');
  return encrypt;
}

export function createWeComCrypto(options: WeComCryptoOptions): WeComCrypto {
  const crypt = createMsgCrypt({
    token: options.token,
    encodingAesKey: options.encodingAesKey,
    receiverId: options.corpId,
    labels: { encodingAesKey: 'EncodingAESKey', receiverId: 'corp id' },
    timestampUnit: 'seconds',
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    ...crypt,
    verifyUrl({ msgSignature, timestamp, nonce, echostr }): string {
      // echostr is base64, which never contains a space: a space is a `+` lost to form decoding.
      const encrypt = echostr.replaceAll(' ', '+');
      return crypt.open({ signature: msgSignature, timestamp, nonce, encrypt }).message;
    },
    decryptMessage({ msgSignature, timestamp, nonce, body }): string {
      const encrypt = extractWeComEncrypt(body);
      return crypt.open({ signature: msgSignature, timestamp, nonce, encrypt }).message;
    },
    encryptReply(message: string, encryptOptions: EncryptOptions = {}): string {
      for (const [name, value] of [
        ['timestamp', encryptOptions.timestamp],
        ['nonce', encryptOptions.nonce],
      ] as const) {
        if (value !== undefined && !REPLY_TOKEN.test(value)) {
          throw new AppError('bad_request', `reply ${name} must be letters and digits only`);
        }
      }
      const sealed = crypt.encrypt(message, encryptOptions);
      return (
        `<xml><Encrypt><![CDATA[${sealed.encrypt}]]></Encrypt>` +
        `<MsgSignature><![CDATA[${sealed.signature}]]></MsgSignature>` +
        `<TimeStamp>${sealed.timestamp}</TimeStamp>` +
        `<Nonce><![CDATA[${sealed.nonce}]]></Nonce></xml>`
      );
    },
  };
}

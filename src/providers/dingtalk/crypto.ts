// DingTalk callback crypto (DingCallbackCrypto, reference/platforms.md §4.6) and custom-robot signing (§4.8).
// The callback scheme is byte-for-byte WeCom's WXBizMsgCrypt, so it lives in ../shared/msg-crypt.ts.

import { createHmac } from 'node:crypto';
import { AppError } from '../../errors.js';
import { createMsgCrypt, type EncryptOptions, type MsgCrypt } from '../shared/msg-crypt.js';

export interface DingTalkCryptoOptions {
  /** "Token" from the app's Events and Callbacks page. */
  token: string;
  /** "aes_key" (EncodingAESKey) from the same page: 43 base64 characters. */
  aesKey: string;
  /**
   * The owner key every plaintext ends with: the app key for a self-built app's event subscription, the
   * corp id for the legacy "register callback" API, the suite key for ISV suites.
   */
  ownerKey: string;
  /** Clock in epoch milliseconds (default `Date.now`); reply timestamps are in milliseconds. */
  now?: () => number;
}

/** The JSON body DingTalk expects as the answer to every callback (note the camelCase `timeStamp`). */
export interface DingTalkEncryptedReply {
  msg_signature: string;
  timeStamp: string;
  nonce: string;
  encrypt: string;
}

export interface DingTalkCrypto extends MsgCrypt {
  /** The encrypted "success" acknowledgement (any message if given), ready to send as JSON. */
  successReply(options?: EncryptOptions & { message?: string }): DingTalkEncryptedReply;
}

const REPLY_NONCE_CHARS = 16;

export function createDingTalkCrypto(options: DingTalkCryptoOptions): DingTalkCrypto {
  const crypt = createMsgCrypt({
    token: options.token,
    encodingAesKey: options.aesKey,
    receiverId: options.ownerKey,
    labels: { encodingAesKey: 'aes_key', receiverId: 'owner key (AppKey / CorpId)' },
    timestampUnit: 'milliseconds',
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    ...crypt,
    successReply({ message = 'success', ...encryptOptions } = {}): DingTalkEncryptedReply {
      if (encryptOptions.nonce !== undefined && encryptOptions.nonce.length !== REPLY_NONCE_CHARS) {
        throw new AppError('bad_request', `DingTalk reply nonce must be ${REPLY_NONCE_CHARS} characters`);
      }
      const sealed = crypt.encrypt(message, encryptOptions);
      return {
        msg_signature: sealed.signature,
        timeStamp: sealed.timestamp,
        nonce: sealed.nonce,
        encrypt: sealed.encrypt,
      };
    },
  };
}

/**
 * Custom group robot signature: urlencode(base64(hmac_sha256(key = secret, msg = timestamp + "\n" + secret))),
 * `timestamp` in milliseconds. The result goes into the `sign` query parameter as is.
 */
export function dingTalkRobotSign(secret: string, timestamp: string | number): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
  return encodeURIComponent(digest);
}

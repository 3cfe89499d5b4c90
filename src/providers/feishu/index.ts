// Feishu (飞书): one self-built app, tenant token, HTTP callbacks. Lark is this same provider on
// open.larksuite.com (../lark/index.ts).
import { AppError } from '../../errors.js';
import type { ImProvider } from '../types.js';
import { createFeishuApprovals } from './approvals.js';
import { handleFeishuCallback } from './callback.js';
import { createFeishuClient, type FeishuClient, type FeishuConfig } from './client.js';

export const FEISHU_API_BASE = 'https://open.feishu.cn';
export const LARK_API_BASE = 'https://open.larksuite.com';

/** The provider for `type` ('feishu' or 'lark'): same paths, same crypto, another host and name. */
export function feishuLikeProvider(type: 'feishu' | 'lark'): ImProvider {
  const label = type === 'lark' ? 'Lark' : 'Feishu';
  return {
    type,
    label,
    defaultApiBase: type === 'lark' ? LARK_API_BASE : FEISHU_API_BASE,
    createClient: (config, deps) => {
      if (config.type !== type)
        throw new AppError('internal', `The ${label} provider was given a ${config.type} app.`);
      return createFeishuClient(config, deps, { label });
    },
    approvals: (client, config) => createFeishuApprovals(client as FeishuClient, config as FeishuConfig),
    handleCallback: handleFeishuCallback,
  };
}

export const feishuProvider: ImProvider = feishuLikeProvider('feishu');

export { feishuTimestampWindowMs, handleFeishuCallback } from './callback.js';
export {
  createFeishuClient,
  type FeishuClient,
  type FeishuConfig,
  feishuRootDepartmentId,
} from './client.js';
export { feishuCodes, feishuError } from './codes.js';

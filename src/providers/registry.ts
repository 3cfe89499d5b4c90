// One line per IM provider.
import { AppError } from '../errors.js';
import { dingtalkProvider } from './dingtalk/index.js';
import { feishuProvider } from './feishu/index.js';
import { larkProvider } from './lark/index.js';
import type { ImProvider, ImType } from './types.js';
import { wecomProvider } from './wecom/index.js';

export const providers: Record<ImType, ImProvider> = {
  feishu: feishuProvider,
  lark: larkProvider,
  dingtalk: dingtalkProvider,
  wecom: wecomProvider,
};

export function providerFor(type: string): ImProvider {
  const provider = providers[type as ImType];
  if (!provider)
    throw new AppError('not_found', `Unknown IM platform ${type}; use feishu, lark, dingtalk or wecom.`);
  return provider;
}

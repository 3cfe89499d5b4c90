// WeCom (企业微信): one self-built app per registration; REST client, callback handler and the fake.
import { AppError } from '../../errors.js';
import { imAppFields } from '../im-app-fields.js';
import type { ImProvider } from '../types.js';
import { createWeComApprovals } from './approvals.js';
import { handleWeComCallback } from './callback.js';
import { createWeComClient, type WeComClient } from './client.js';

export const wecomProvider: ImProvider = {
  type: 'wecom',
  label: 'WeCom',
  defaultApiBase: imAppFields.wecom.defaultApiBase,
  createClient(config, deps) {
    if (config.type !== 'wecom')
      throw new AppError('internal', `The WeCom provider was given a ${config.type} app.`);
    return createWeComClient(config, deps);
  },
  approvals(client, config) {
    if (config.type !== 'wecom')
      throw new AppError('internal', `The WeCom provider was given a ${config.type} app.`);
    return createWeComApprovals(client as WeComClient, config);
  },
  handleCallback: handleWeComCallback,
};

export { CALLBACK_NOT_CONFIGURED, handleWeComCallback } from './callback.js';
export { createWeComClient, sendWeComRobot, type WeComClient } from './client.js';
export { WeComApiError } from './codes.js';

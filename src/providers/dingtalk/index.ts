// DingTalk (钉钉): one enterprise-internal app, the new and the old API host, HTTP callbacks.
import type { ImProvider } from '../types.js';
import { dingTalkApprovals } from './approvals.js';
import { handleDingTalkCallback } from './callback.js';
import { createDingTalkClient } from './client.js';

export const DINGTALK_API_BASE = 'https://api.dingtalk.com';
export const DINGTALK_OAPI_BASE = 'https://oapi.dingtalk.com';

export const dingtalkProvider: ImProvider = {
  type: 'dingtalk',
  label: 'DingTalk',
  defaultApiBase: DINGTALK_API_BASE,
  defaultOapiBase: DINGTALK_OAPI_BASE,
  createClient: (config, deps) => createDingTalkClient(config, deps),
  approvals: dingTalkApprovals,
  handleCallback: handleDingTalkCallback,
};

export { handleDingTalkCallback } from './callback.js';
export { createDingTalkClient, type DingTalkClient } from './client.js';
export { type DingTalkRobot, type RobotMessage, sendDingTalkRobot } from './robot.js';

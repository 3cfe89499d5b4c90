// Custom group robot webhook (自定义机器人, reference/platforms.md §4.8): POST the message to the webhook
// URL, adding `timestamp` (ms) and `sign` when the robot uses 加签. DingTalk answers HTTP 200 with the
// verdict in errcode; the URL carries the robot's access_token, so errors name the robot, never the URL.
import { AppError } from '../../errors.js';
import { type Fetch, request, statusError } from '../http.js';
import type { RateLimiter } from '../rate-limiter.js';
import { parseJson } from './codes.js';
import { dingTalkRobotSign } from './crypto.js';

export interface DingTalkRobot {
  /** https://oapi.dingtalk.com/robot/send?access_token=… as the group settings show it. */
  webhookUrl: string;
  /** The SEC… secret of 加签, when the robot uses it. */
  secret?: string | undefined;
}

export interface RobotMessage {
  msgtype: 'text' | 'markdown' | 'link' | 'actionCard' | 'feedCard';
  [key: string]: unknown;
}

/** 20 messages a minute per robot; over that DingTalk mutes it for 10 minutes. */
export const ROBOT_LIMITS = [{ limit: 20, windowMs: 60_000 }] as const;
const ROBOT_THROTTLE_MS = 10 * 60_000;

export async function sendDingTalkRobot(
  fetchImpl: Fetch,
  robot: DingTalkRobot,
  message: RobotMessage,
  options: { now?: () => number; limiter?: RateLimiter; timeoutMs?: number } = {},
): Promise<void> {
  let url: URL;
  try {
    url = new URL(robot.webhookUrl);
  } catch {
    throw new AppError('bad_request', 'The DingTalk robot webhook URL is not a URL.');
  }
  const accessToken = url.searchParams.get('access_token');
  if (!accessToken) throw new AppError('bad_request', 'The DingTalk robot webhook URL has no access_token.');
  const target = `The DingTalk robot …${accessToken.slice(-4)}`;
  await options.limiter?.take(`dingtalk-robot:${accessToken}`, ROBOT_LIMITS);
  if (robot.secret) {
    const timestamp = String((options.now ?? Date.now)());
    url.searchParams.set('timestamp', timestamp);
    // dingTalkRobotSign is already URL-encoded; URLSearchParams would encode it twice.
    url.searchParams.delete('sign');
    url = new URL(`${url.toString()}&sign=${dingTalkRobotSign(robot.secret, timestamp)}`);
  }
  const response = await request(fetchImpl, {
    vendor: 'dingtalk',
    url: url.toString(),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    target,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (response.status !== 200) {
    throw statusError(target, response.status, response.text, response.headers.get('retry-after'));
  }
  const answer = parseJson(response.text) as { errcode?: number; errmsg?: string } | undefined;
  const errcode = Number(answer?.errcode ?? -1);
  if (errcode === 0) return;
  const detail = `errcode ${errcode}${answer?.errmsg ? `: ${answer.errmsg}` : ''}`;
  if (errcode === 130101) {
    throw new AppError('rate_limited', `${target} is muted for sending too fast (${detail}).`, {
      retryAfterMs: ROBOT_THROTTLE_MS,
    });
  }
  if (errcode === 310000) {
    throw new AppError(
      'upstream_rejected',
      `${target} refused the message (${detail}). Check the robot's 安全设置 (security settings) in the group: the 加签 secret, the keywords the message must contain, or the IP allow-list.`,
    );
  }
  if (errcode === 300001) {
    throw new AppError(
      'upstream_rejected',
      `${target} does not exist any more (${detail}); copy the webhook URL again.`,
    );
  }
  if (errcode === -1) throw new AppError('upstream_error', `${target} failed (${detail}).`);
  throw new AppError('upstream_rejected', `${target} refused the message (${detail}).`);
}

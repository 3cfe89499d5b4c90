// The four platforms, in the order the console offers them.
import type { Platform } from '../../../components/platform-icon';
import { dingtalk } from './dingtalk';
import { feishu } from './feishu';
import { lark } from './lark';
import type { PlatformSpec } from './platform-spec';
import { wecom } from './wecom';

export type { CallbackKey, EventMode, FieldSpec, PlatformSpec } from './platform-spec';

export const platforms: Record<Platform, PlatformSpec> = { feishu, lark, dingtalk, wecom };
export const platformOrder: Platform[] = ['feishu', 'lark', 'dingtalk', 'wecom'];

export const platformOf = (type: string): PlatformSpec | undefined =>
  Object.hasOwn(platforms, type) ? platforms[type as Platform] : undefined;

// Lark is Feishu on another host (open.larksuite.com): one implementation, two registrations.
import { feishuLikeProvider } from '../feishu/index.js';
import type { ImProvider } from '../types.js';

export const larkProvider: ImProvider = feishuLikeProvider('lark');

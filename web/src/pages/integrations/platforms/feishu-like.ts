// Feishu and Lark are one platform on two hosts (DESIGN.md): the same fields, scopes and steps; only the
// console's language and the host differ, so each passes its own texts.
import type { Dictionary } from '../../../i18n';
import type { PlatformSpec } from './platform-spec';

/** The keys both texts must have. */
export interface FeishuLikeStrings extends Record<string, string> {
  vendor: string;
  order: string;
  app_idHelp: string;
  app_secretHelp: string;
  encrypt_keyHelp: string;
  verification_tokenHelp: string;
  api_baseHelp: string;
  permissionsWhere: string;
  approvals: string;
  notifications: string;
  webhook1: string;
  webhook2: string;
  webhook3: string;
  webhook4: string;
  long1: string;
  long2: string;
  long3: string;
  long4: string;
}

// The lists Zadig's guide asks for (seed/zadig-im-integration-docs.txt), as docs/integrations/feishu.md.
const approvalScopes = [
  'approval:approval',
  'approval:approval.list:readonly',
  'approval:approval:readonly',
  'contact:user.id:readonly',
  'contact:contact.base:readonly',
  'contact:user.employee_id:readonly',
  'contact:user.base:readonly',
  'contact:department.base:readonly',
  'contact:group:readonly',
];
const notificationScopes = [
  'im:chat',
  'im:chat:read',
  'im:chat:readonly',
  'im:message',
  'im:message:send_as_bot',
  'im:message:send_multi_depts',
  'contact:user.id:readonly',
  'contact:contact.base:readonly',
  'contact:user.employee_id:readonly',
  'contact:user.base:readonly',
];

export function feishuLike(options: {
  type: 'feishu' | 'lark';
  defaultApiBase: string;
  strings: Dictionary<FeishuLikeStrings>;
  eventModeNotes?: PlatformSpec['eventModeNotes'];
}): PlatformSpec {
  return {
    type: options.type,
    strings: options.strings,
    credentials: [
      {
        name: 'app_id',
        label: 'App ID',
        secret: false,
        required: true,
        help: 'app_idHelp',
        placeholder: 'cli_a1b2c3d4e5f6a7b8',
      },
      { name: 'app_secret', label: 'App Secret', secret: true, required: true, help: 'app_secretHelp' },
    ],
    callbackKeys: [
      {
        name: 'encrypt_key',
        label: 'Encrypt Key',
        secret: true,
        required: false,
        requiredForWebhook: true,
        help: 'encrypt_keyHelp',
      },
      {
        name: 'verification_token',
        label: 'Verification Token',
        secret: true,
        required: false,
        requiredForWebhook: false,
        help: 'verification_tokenHelp',
      },
    ],
    // Feishu works with App ID and Secret alone: poll is the default, the others only make decisions sooner.
    eventModes: ['poll', 'webhook', 'long_connection'],
    defaultEventMode: 'poll',
    minimumCredentials: 'App ID + App Secret',
    hosts: [{ name: 'api_base', defaultValue: options.defaultApiBase, help: 'api_baseHelp' }],
    permissionsWhere: 'permissionsWhere',
    permissions: [
      { title: 'approvals', scopes: approvalScopes },
      { title: 'notifications', scopes: notificationScopes },
    ],
    setupSteps: {
      webhook: ['webhook1', 'webhook2', 'webhook3', 'webhook4'],
      long_connection: ['long1', 'long2', 'long3', 'long4'],
    },
    ...(options.eventModeNotes ? { eventModeNotes: options.eventModeNotes } : {}),
  };
}

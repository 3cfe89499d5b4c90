// The address book, chats and user groups the Feishu / Lark fake starts with (sandbox, tests, benchmarks).
// Deterministic: the same options always give the same ids, so tests and screenshots are stable. Ids have
// the vendor's shapes (ou_ + 32 hex, od- + 32 hex, oc_ + 32 hex, cli_ + 16 hex).
import { createHash } from 'node:crypto';

export interface SeedUser {
  open_id: string;
  user_id: string;
  union_id: string;
  name: string;
  en_name: string;
  email: string;
  mobile: string;
  avatar_240: string;
  department_ids: string[];
  is_resigned?: boolean;
}

export interface SeedDepartment {
  open_department_id: string;
  department_id: string;
  name: string;
  /** "0" for the top level. */
  parent_department_id: string;
}

export interface SeedChat {
  chat_id: string;
  name: string;
  avatar: string;
  owner_open_id: string;
  /** Whether the app's bot is a member (only such chats are listed and can be messaged). */
  bot_member: boolean;
}

export interface SeedUserGroup {
  id: string;
  name: string;
  type: 1 | 2;
  member_open_ids: string[];
}

/** A custom bot (自定义机器人) added to a group: its webhook is `/open-apis/bot/v2/hook/<hook_id>`. */
export interface SeedHook {
  hook_id: string;
  /** The 签名校验 secret; a hook without one takes unsigned requests. */
  secret?: string;
  /** 自定义关键词: a message must contain one of them (in its text, not in links). */
  keywords?: string[];
  /** The group the bot posts into. */
  chat_id?: string;
}

export interface FeishuSeed {
  tenant_key: string;
  tenant_name: string;
  departments: SeedDepartment[];
  users: SeedUser[];
  chats: SeedChat[];
  user_groups: SeedUserGroup[];
  hooks: SeedHook[];
}

export interface SeedOptions {
  /** Extra generated people spread over the departments (pagination and benchmark load); default 60. */
  extraUsers?: number;
  /** Extra generated chats the bot is in; default 5. */
  extraChats?: number;
}

const hex = (seed: string, length: number) =>
  createHash('sha256').update(seed).digest('hex').slice(0, length);

export const seedOpenId = (key: string) => `ou_${hex(`user:${key}`, 32)}`;
export const seedDepartmentId = (key: string) => `od-${hex(`department:${key}`, 32)}`;
export const seedChatId = (key: string) => `oc_${hex(`chat:${key}`, 32)}`;
/** An App ID of the shape `WSClient` enforces (`cli_` + 16 hex). */
export const seedAppId = (key: string) => `cli_${hex(`app:${key}`, 16)}`;

const avatar = (key: string) =>
  `https://s1-imfile.feishucdn.com/static-resource/v1/avatar_${hex(`avatar:${key}`, 24)}~?image_size=240x240`;

const named: Array<{ key: string; name: string; en_name: string; department: string }> = [
  { key: 'zhang.wei', name: '张伟', en_name: 'Wei Zhang', department: 'engineering' },
  { key: 'li.na', name: '李娜', en_name: 'Na Li', department: 'platform' },
  { key: 'wang.fang', name: '王芳', en_name: 'Fang Wang', department: 'platform' },
  { key: 'chen.jie', name: '陈杰', en_name: 'Jie Chen', department: 'sre' },
  { key: 'liu.yang', name: '刘洋', en_name: 'Yang Liu', department: 'product' },
  { key: 'ada.lovelace', name: 'Ada Lovelace', en_name: 'Ada Lovelace', department: 'engineering' },
  { key: 'grace.hopper', name: 'Grace Hopper', en_name: 'Grace Hopper', department: 'sre' },
  { key: 'zhao.min', name: '赵敏', en_name: 'Min Zhao', department: 'operations' },
  { key: 'ceo', name: '周总', en_name: 'Zhou CEO', department: '0' },
];

const departmentTree: Array<{ key: string; name: string; parent: string }> = [
  { key: 'engineering', name: '研发中心 Engineering', parent: '0' },
  { key: 'platform', name: '平台组 Platform', parent: 'engineering' },
  { key: 'sre', name: 'SRE', parent: 'engineering' },
  { key: 'product', name: '产品部 Product', parent: '0' },
  { key: 'operations', name: '运营部 Operations', parent: '0' },
];

export function feishuSeed(options: SeedOptions = {}): FeishuSeed {
  const departmentId = (key: string) => (key === '0' ? '0' : seedDepartmentId(key));
  const departments: SeedDepartment[] = departmentTree.map((department) => ({
    open_department_id: seedDepartmentId(department.key),
    department_id: department.key,
    name: department.name,
    parent_department_id: departmentId(department.parent),
  }));
  const user = (key: string, name: string, en_name: string, department: string, index: number): SeedUser => ({
    open_id: seedOpenId(key),
    user_id: hex(`user_id:${key}`, 8),
    union_id: `on_${hex(`union:${key}`, 32)}`,
    name,
    en_name,
    email: `${key}@example.com`,
    mobile: `+86138${String(10_000_000 + index).slice(-8)}`,
    avatar_240: avatar(key),
    department_ids: [departmentId(department)],
  });
  const users = named.map((person, index) =>
    user(person.key, person.name, person.en_name, person.department, index),
  );
  const extraUsers = options.extraUsers ?? 60;
  for (let index = 0; index < extraUsers; index++) {
    const key = `member${String(index + 1).padStart(3, '0')}`;
    const department = departmentTree[index % departmentTree.length]!.key;
    users.push(
      user(key, `成员 Member ${index + 1}`, `Member ${index + 1}`, department, named.length + index),
    );
  }
  // Someone who left: the vendor keeps them in the directory, our pickers must not offer them.
  users.push({
    ...user('former.staff', '离职员工 Former Staff', 'Former Staff', 'platform', 9_999),
    is_resigned: true,
  });

  const chats: SeedChat[] = [
    {
      chat_id: seedChatId('deploys'),
      name: '发布通知 Deploys',
      avatar: avatar('chat:deploys'),
      owner_open_id: seedOpenId('zhang.wei'),
      bot_member: true,
    },
    {
      chat_id: seedChatId('oncall'),
      name: 'On-call SRE',
      avatar: avatar('chat:oncall'),
      owner_open_id: seedOpenId('chen.jie'),
      bot_member: true,
    },
    {
      chat_id: seedChatId('random'),
      name: '闲聊 Random',
      avatar: avatar('chat:random'),
      owner_open_id: seedOpenId('liu.yang'),
      bot_member: false,
    },
  ];
  const extraChats = options.extraChats ?? 5;
  for (let index = 0; index < extraChats; index++) {
    const key = `project-${index + 1}`;
    chats.push({
      chat_id: seedChatId(key),
      name: `项目群 Project ${index + 1}`,
      avatar: avatar(`chat:${key}`),
      owner_open_id: seedOpenId('zhang.wei'),
      bot_member: true,
    });
  }

  const user_groups: SeedUserGroup[] = [
    {
      id: `g${hex('group:release-managers', 6)}`,
      name: 'Release managers',
      type: 1,
      member_open_ids: [seedOpenId('zhang.wei'), seedOpenId('chen.jie')],
    },
    {
      id: `g${hex('group:sre', 6)}`,
      name: 'SRE (dynamic)',
      type: 2,
      member_open_ids: [seedOpenId('chen.jie'), seedOpenId('grace.hopper')],
    },
  ];

  // Custom bots in the deploys and on-call groups: one signed (签名校验), one without any security setting.
  const hooks: SeedHook[] = [
    {
      hook_id: 'signoff-release-hook',
      secret: 'signoff-release-hook-secret-not-real',
      chat_id: seedChatId('deploys'),
    },
    { hook_id: 'signoff-oncall-hook', chat_id: seedChatId('oncall') },
  ];

  return {
    tenant_key: hex('tenant:acme', 16),
    tenant_name: 'Acme 示例科技',
    departments,
    users,
    chats,
    user_groups,
    hooks,
  };
}

// The WeCom company the fake serves by default (sandbox, tests, benchmarks): a small org chart, one
// self-built app with the approval API open to it, and one group robot. Not real credentials.

export interface WeComSeedDepartment {
  id: number;
  name: string;
  name_en?: string;
  /** 0 for the root (id 1). */
  parentid: number;
  order: number;
  department_leader?: string[];
}

export interface WeComSeedUser {
  userid: string;
  name: string;
  department: number[];
  position?: string;
  mobile?: string;
  /** Personal mailbox (`get_userid_by_email` with email_type 2). */
  email?: string;
  /** Company mailbox (`get_userid_by_email` with email_type 1, the default). */
  biz_mail?: string;
  avatar?: string;
  /** 1 active, 2 disabled, 4 not yet activated, 5 left. */
  status?: 1 | 2 | 4 | 5;
}

export interface WeComSeedApp {
  agent_id: string;
  secret: string;
  name: string;
  /** Listed under 审批 → API → 可调用接口的应用 (default true). */
  approval_access?: boolean;
  /** The server's IP is among the app's trusted IPs (default true); false answers 60020 to every API call. */
  trusted_ip?: boolean;
  /** Visible range: departments (with their subtrees) and single members. Default: the whole company. */
  visible?: { departments: number[]; users?: string[] };
  /**
   * Apps created before 2022-06-20 still receive avatar, mobile and email from user/get and user/list;
   * newer ones do not (default false: a new app).
   */
  sensitive_fields?: boolean;
  /** Receive-message settings (Token, EncodingAESKey) the operator would copy from WeCom's console. */
  callback?: { token: string; encoding_aes_key: string };
}

export interface WeComSeedCorp {
  corp_id: string;
  name: string;
  departments: WeComSeedDepartment[];
  users: WeComSeedUser[];
  apps: WeComSeedApp[];
  /** Group robot webhook keys. */
  robots?: string[];
}

export const wecomSandboxSeed: WeComSeedCorp = {
  corp_id: 'wwsandbox0000000001',
  name: 'Signoff Sandbox Co.',
  departments: [
    { id: 1, name: 'Signoff Sandbox Co.', parentid: 0, order: 100000000 },
    {
      id: 2,
      name: '研发部',
      name_en: 'Engineering',
      parentid: 1,
      order: 99999000,
      department_leader: ['ZhangWei'],
    },
    {
      id: 3,
      name: '运维部',
      name_en: 'Operations',
      parentid: 1,
      order: 99998000,
      department_leader: ['WangFang'],
    },
    { id: 4, name: '产品部', name_en: 'Product', parentid: 1, order: 99997000 },
    { id: 5, name: '平台组', name_en: 'Platform', parentid: 2, order: 99999500 },
  ],
  users: [
    {
      userid: 'SignoffAdmin',
      name: 'Signoff Admin',
      department: [1],
      position: 'Administrator',
      mobile: '+86 13800000000',
      email: 'admin@example.com',
      biz_mail: 'admin@sandbox.wecom.work',
    },
    {
      userid: 'ZhangWei',
      name: '张伟',
      department: [2],
      position: 'Engineering Manager',
      mobile: '+86 13800000001',
      email: 'zhang.wei@example.com',
      biz_mail: 'zhangwei@sandbox.wecom.work',
    },
    {
      userid: 'LiNa',
      name: '李娜',
      department: [2],
      position: 'Developer',
      mobile: '+86 13800000002',
      email: 'li.na@example.com',
      biz_mail: 'lina@sandbox.wecom.work',
    },
    {
      userid: 'ZhaoLei',
      name: '赵磊',
      department: [5, 2],
      position: 'Platform Engineer',
      mobile: '+86 13800000003',
      biz_mail: 'zhaolei@sandbox.wecom.work',
    },
    {
      userid: 'WangFang',
      name: '王芳',
      department: [3],
      position: 'SRE Lead',
      mobile: '+86 13800000004',
      email: 'wang.fang@example.com',
      biz_mail: 'wangfang@sandbox.wecom.work',
    },
    {
      userid: 'LiuYang',
      name: '刘洋',
      department: [3],
      position: 'SRE',
      mobile: '+86 13800000005',
      biz_mail: 'liuyang@sandbox.wecom.work',
    },
    {
      userid: 'ChenJing',
      name: '陈静',
      department: [4],
      position: 'Product Manager',
      mobile: '+86 13800000006',
      email: 'chen.jing@example.com',
      biz_mail: 'chenjing@sandbox.wecom.work',
    },
  ],
  apps: [
    {
      agent_id: '1000002',
      secret: 'sandbox-wecom-app-secret-not-a-real-one-0001',
      name: 'Signoff',
      approval_access: true,
      callback: { token: 'SignoffSandbox', encoding_aes_key: 'c2FuZGJveC13ZWNvbS1lbmNvZGluZy1hZXMta2V5IQA' },
    },
  ],
  robots: ['sandbox-wecom-robot-key-0001'],
};

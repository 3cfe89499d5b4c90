// A small DingTalk organisation for the fake (tests, sandbox, benchmarks): one app, four departments,
// six people, one custom robot. Every value is made up; nothing here is a real credential.

export interface DingTalkSeedUser {
  userid: string;
  unionid: string;
  name: string;
  avatar?: string;
  mobile?: string;
  email?: string;
  org_email?: string;
  title?: string;
  dept_id_list: number[];
}

export interface DingTalkSeedDepartment {
  dept_id: number;
  name: string;
  /** 0 for the root department (id 1). */
  parent_id: number;
}

export interface DingTalkSeedApp {
  /** "AppKey" / Client ID; also the owner key of callback ciphertexts. */
  appKey: string;
  appSecret: string;
  agentId: number;
  /** The "Token" and "aes_key" of the Events and Callbacks page. */
  token: string;
  aesKey: string;
}

export interface DingTalkSeedRobot {
  accessToken: string;
  /** "加签" secret (SEC…); unsigned robots have none. */
  secret?: string;
  /** "自定义关键词": a message must contain one of them. */
  keywords?: string[];
}

export interface DingTalkSeed {
  corpId: string;
  app: DingTalkSeedApp;
  departments: DingTalkSeedDepartment[];
  users: DingTalkSeedUser[];
  robots: DingTalkSeedRobot[];
  /** Who approves when a process is started without `approvers` (the flow set in the admin console). */
  defaultApprovers: string[];
}

export const dingTalkDemoSeed: DingTalkSeed = {
  corpId: 'dingsignoffdemo0001',
  app: {
    appKey: 'dingsignoffdemoapp',
    appSecret: 'signoff-demo-dingtalk-app-secret-0001',
    agentId: 3001001,
    token: 'signoffdemotoken',
    aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  },
  departments: [
    { dept_id: 1, name: 'Signoff 示例科技', parent_id: 0 },
    { dept_id: 2, name: '研发部', parent_id: 1 },
    { dept_id: 3, name: '测试组', parent_id: 2 },
    { dept_id: 4, name: '运维部', parent_id: 1 },
  ],
  users: [
    {
      userid: 'manager001',
      unionid: 'union-manager001',
      name: '王芳',
      mobile: '13800000001',
      email: 'wang.fang@example.com',
      title: 'CTO',
      dept_id_list: [1],
    },
    {
      userid: 'zhangwei',
      unionid: 'union-zhangwei',
      name: '张伟',
      mobile: '13800000002',
      email: 'zhang.wei@example.com',
      title: '研发经理',
      dept_id_list: [2],
    },
    {
      userid: 'lina',
      unionid: 'union-lina',
      name: '李娜',
      mobile: '13800000003',
      org_email: 'li.na@corp.example.com',
      dept_id_list: [2],
    },
    {
      userid: 'liuyang',
      unionid: 'union-liuyang',
      name: '刘洋',
      mobile: '13800000004',
      email: 'liu.yang@example.com',
      dept_id_list: [3],
    },
    {
      userid: 'chenjing',
      unionid: 'union-chenjing',
      name: '陈静',
      mobile: '13800000005',
      email: 'chen.jing@example.com',
      dept_id_list: [4],
    },
    {
      userid: 'zhaolei',
      unionid: 'union-zhaolei',
      name: '赵磊 (Ray Zhao)',
      mobile: '+852-61234567',
      email: 'ray.zhao@example.com',
      dept_id_list: [2, 4],
    },
  ],
  // Demo values for the fake and the sandbox, not credentials of any real robot.
  robots: [{ accessToken: 'signoff-demo-robot', secret: 'SECsignoffdemorobotsecret' }],
  defaultApprovers: ['manager001'],
};

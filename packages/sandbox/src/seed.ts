/**
 * The sandbox seed: stable names that README, tests and users rely on. Do not change without
 * updating the "Sandbox seed" section of docs/guide.md.
 */
export const SEED_APP = {
  clientId: 'dingsandboxapp001',
  clientSecret: 'sandbox-secret',
  name: 'Sandbox CRM 客户管理',
  /** Redirect URIs registered for the app (登录与分享). The assistant's own callback is added at start. */
  redirectUris: ['https://baymax.dingtalk.com/oauth2'],
} as const;

export const SEED_CORP = { corpId: 'dingsandboxcorp', name: '沙箱科技有限公司 Sandbox Tech' } as const;

export interface SeedUser {
  userId: string;
  unionId: string;
  name: string;
  nameEn: string;
  mobile: string;
  email: string;
}

/** Job numbers (工号) of the seed users: the assistant's `currentUser/jobNum`. */
export const SEED_JOB_NUMBERS: Readonly<Record<string, string>> = { zhangsan: 'SB0001', lisi: 'SB0002' };

export const SEED_USERS: readonly SeedUser[] = [
  {
    userId: 'zhangsan',
    unionId: 'union-zhangsan',
    name: '张三',
    nameEn: 'Zhang San',
    mobile: '13800000001',
    email: 'zhangsan@sandbox.example',
  },
  {
    userId: 'lisi',
    unionId: 'union-lisi',
    name: '李四',
    nameEn: 'Li Si',
    mobile: '13800000002',
    email: 'lisi@sandbox.example',
  },
];

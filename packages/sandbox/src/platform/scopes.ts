/**
 * The permission (scope) codes the sandbox knows, with the labels the consent page shows.
 * Codes follow DingTalk's names where public; ones marked [guess] are the sandbox's choice.
 */
export interface ScopeInfo {
  code: string;
  /** Label in Chinese, as the consent page shows it. */
  zh: string;
  /** Label in English. */
  en: string;
}

export const Scope = {
  OpenId: 'openid',
  CorpId: 'corpid',
  /** Implicit in every user token: identity and `/v1.0/oauth2/authRules/user`. */
  SnsapiBase: 'snsapi_base',
  ContactUserRead: 'Contact.User.Read',
  ContactUserMobile: 'Contact.User.mobile',
  TodoPersonalWrite: 'Todo.PersonalTodo.Write',
  TodoRead: 'Todo.Todo.Read',
  CalendarEventWrite: 'Calendar.Event.Write',
  CalendarEventRead: 'Calendar.Event.Read',
  /** [guess] no public scope name for the personal status (个人状态) API. */
  OwnnessWrite: 'Contact.User.Ownness.Write',
} as const;

export const SCOPE_CATALOG: readonly ScopeInfo[] = [
  { code: Scope.OpenId, zh: '读取个人信息（姓名、头像）', en: 'Read your profile (name, avatar)' },
  { code: Scope.CorpId, zh: '获取你所在的组织', en: 'Know which organization you chose' },
  { code: Scope.ContactUserRead, zh: '读取个人信息', en: 'Read your profile' },
  { code: Scope.ContactUserMobile, zh: '读取手机号码', en: 'Read your mobile number' },
  { code: Scope.TodoPersonalWrite, zh: '创建个人待办', en: 'Create to-dos for you' },
  { code: Scope.TodoRead, zh: '查看你的待办', en: 'Read your to-dos' },
  { code: Scope.CalendarEventWrite, zh: '创建日程', en: 'Create calendar events for you' },
  { code: Scope.CalendarEventRead, zh: '查看你的日程', en: 'Read your calendar' },
  {
    code: Scope.OwnnessWrite,
    zh: '设置个人状态（请假、出差）',
    en: 'Set your personal status (leave, trip)',
  },
];

/** Scopes the seed app declares (all the sandbox knows). */
export const ALL_API_SCOPES: readonly string[] = SCOPE_CATALOG.map((s) => s.code);

const byCode = new Map(SCOPE_CATALOG.map((s) => [s.code, s]));

/** The label of a scope; unknown codes are shown as themselves. */
export function describeScope(code: string): ScopeInfo {
  return byCode.get(code) ?? { code, zh: `未知权限 ${code}`, en: `Unknown permission ${code}` };
}

/** Shape of a scope code: letters, digits, `.`, `_`, `:`, `-`. */
export const SCOPE_CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Splits a `scope` query value (space separated; `+` already decoded to space; commas tolerated)
 * into distinct codes, order kept.
 */
export function parseScopeList(...values: Array<string | undefined>): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (!value) continue;
    for (const part of value.split(/[\s,]+/)) if (part !== '' && !out.includes(part)) out.push(part);
  }
  return out;
}

/**
 * What a consent to `requested` grants: the codes themselves, plus `Contact.User.Read` for `openid`
 * (OIDC's "who you are": DingTalk's login with `scope=openid` reaches `/v1.0/contact/users/me`).
 */
export function expandGrantedScopes(requested: readonly string[]): string[] {
  const out = [...requested];
  if (out.includes(Scope.OpenId) && !out.includes(Scope.ContactUserRead)) out.push(Scope.ContactUserRead);
  return out;
}

/** Union of two scope lists, order kept (first list first). */
export function unionScopes(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const s of b) if (!out.includes(s)) out.push(s);
  return out;
}

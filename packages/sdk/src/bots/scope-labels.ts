/** Chinese and English labels of the delegated scopes, for the authorization card (授权卡片). */
const LABELS: Record<string, [zh: string, en: string]> = {
  openid: ['读取个人信息（姓名、头像）', 'Read your profile (name, avatar)'],
  'Contact.User.Read': ['读取个人信息', 'Read your profile'],
  'Contact.User.mobile': ['读取手机号码', 'Read your mobile number'],
  'Todo.PersonalTodo.Write': ['创建个人待办', 'Create to-dos for you'],
  'Todo.Todo.Read': ['查看你的待办', 'Read your to-dos'],
  'Calendar.Event.Write': ['创建日程', 'Create calendar events for you'],
  'Calendar.Event.Read': ['查看你的日程', 'Read your calendar'],
  'Contact.User.Ownness.Write': ['设置个人状态（请假、出差）', 'Set your personal status (leave, trip)'],
};

/** `中文 English` label of a scope (unknown codes show as themselves). */
export function scopeLabel(code: string): string {
  const l = LABELS[code];
  return l ? `${l[0]} ${l[1]} (${code})` : `${code}`;
}

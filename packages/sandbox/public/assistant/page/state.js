// What the page knows: the seed users, the registered skills, the overview, the picked user and the
// open assistant conversation; and the hooks other views (the bot chats, the MCP client) plug into.

export const state = {
  users: [],
  skills: [], // [{clientId, appName, actions: [...]}]
  overview: null,
  userId: null,
  conversationId: null,
  conversation: null,
  activeSkill: null, // {clientId, action}
  busy: false,
};

/** `ready` (users and overview loaded), `user` (the user picker changed: who is typing). */
export const hooks = { ready: [], user: [] };

export function on(name, fn) {
  hooks[name].push(fn);
}

// What the page's other views (the bot chats, the MCP client) use of the page: DOM helpers, the control
// API, the page's error card and fault log, the hooks and the shared state.

import { pageError } from '../conversation/conversation.js';
import { logFault } from '../faults/faults.js';
import { api } from './api.js';
import { clear, el, time } from './dom.js';
import { on, state } from './state.js';

export const page = { el, clear, time, api, pageError, logFault, on, state };

import { defineApp } from '@dingtalk-skills/sdk';
import { addCustomer } from './skills/add-customer.js';
import { listMyEvents } from './skills/calendar.js';
import { setMyStatus } from './skills/status.js';
import { createTodo, listMyTodos } from './skills/todos.js';
import { whoami } from './skills/whoami.js';

/** The example CRM app used by `npm start`: every user-facing path of the framework is exercised by one of its skills. */
export default defineApp({
  name: 'Sandbox CRM 客户管理',
  version: '1.0.0',
  description: 'Example skills acting with the user-delegated credential (用户代理凭证).',
  skills: [addCustomer, whoami, createTodo, listMyTodos, listMyEvents, setMyStatus],
});

export { type AppDefinition, defineApp, type EventHandler, isAppDefinition } from './define-app.js';

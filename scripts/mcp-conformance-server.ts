/**
 * The server `scripts/mcp-conformance.sh` runs the MCP conformance scenarios against: the example CRM
 * app (plus one fixture skill, `test_error_handling`, that `tools-call-error` calls by name) started with
 * `startApp(app, { mcp: { auth: false } })` against an in-process sandbox. Auth is off
 * because the conformance tool cannot send a bearer token; everything else (stateless Streamable HTTP,
 * Host/Origin validation, the tools from the skill declarations) is the same wiring `dev --mcp-port`
 * serves. Prints `MCP_URL=<url>` once up; stops on SIGTERM/SIGINT.
 */
import { createSandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { z } from 'zod';
import crm from '../examples/crm/app.js';

/** The fixture `tools-call-error` calls by name: a skill whose handler throws (an isError result). */
const testErrorHandling = defineSkill({
  operationId: 'test_error_handling',
  summary: 'Conformance: always fails',
  description: 'Always throws, so the MCP server answers an isError result (conformance fixture).',
  input: z.object({}),
  handler: async () => {
    throw new Error('This tool intentionally returns an error for testing');
  },
});

const sandbox = await createSandbox({ port: 0, ephemeral: true, logger: silentLogger() });
const app = await startApp(defineApp({ ...crm, skills: [...crm.skills, testErrorHandling] }), {
  clientId: SEED_APP.clientId,
  clientSecret: SEED_APP.clientSecret,
  apiBase: sandbox.url,
  logger: silentLogger(),
  mcp: { port: Number(process.argv[2] ?? 0), auth: false },
});
process.stdout.write(`MCP_URL=${app.mcp?.url}\n`);
const stop = async () => {
  await app.stop();
  await sandbox.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

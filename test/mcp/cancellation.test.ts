/**
 * Cancellation over MCP: the official client aborts a tool call, sends `notifications/cancelled` (a
 * separate POST on a stateless server), and the skill's `ctx.signal` fires; a cancellation naming another
 * request id leaves the call alone. Auth is off here (the key includes the client and user when on).
 */
import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { defineApp, defineSkill, type RunningApp, silentLogger, startApp } from '@dingtalk-skills/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';

const started: string[] = [];
const aborted: string[] = [];
const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

const slow = defineSkill({
  operationId: 'slowSearch',
  summary: 'Slow search',
  description: 'Waits until cancelled (or 20 s).',
  method: 'GET',
  input: z.object({ tag: z.string() }),
  timeoutMs: 30_000,
  handler: async (input, ctx) => {
    started.push(input.tag);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 20_000);
      ctx.signal.addEventListener('abort', () => {
        aborted.push(input.tag);
        clearTimeout(t);
        resolve();
      });
    });
    return { tag: input.tag };
  },
});

let sandbox: Sandbox;
let running: RunningApp;
beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, ephemeral: true, logger: silentLogger() });
  running = await startApp(defineApp({ name: 'cancel test', skills: [slow] }), {
    clientId: SEED_APP.clientId,
    clientSecret: SEED_APP.clientSecret,
    apiBase: sandbox.url,
    logger: silentLogger(),
    mcp: { port: 0, auth: false },
  });
}, 30_000);
afterAll(async () => {
  await running?.stop();
  await sandbox?.close();
});

it("the official client's cancellation aborts the skill's ctx.signal", async () => {
  const client = new Client({ name: 'cancel', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(running.mcp!.url)));
  const ac = new AbortController();
  const call = client.callTool({ name: 'slowSearch', arguments: { tag: 'a' } }, undefined, {
    signal: ac.signal,
  });
  await waitFor(() => started.includes('a'), 'the skill to start');
  ac.abort('the user pressed stop');
  await expect(call).rejects.toThrow();
  await waitFor(() => aborted.includes('a'), "the skill's ctx.signal");
  await client.close();
});

it('a cancellation for another request id leaves the call running', async () => {
  const client = new Client({ name: 'cancel-2', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(running.mcp!.url));
  await client.connect(transport);
  const ac = new AbortController();
  const call = client.callTool({ name: 'slowSearch', arguments: { tag: 'b' } }, undefined, {
    signal: ac.signal,
  });
  await waitFor(() => started.includes('b'), 'the skill to start');
  await transport.send({
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: 999_999, reason: 'not yours' },
  });
  await new Promise((r) => setTimeout(r, 300));
  expect(aborted).not.toContain('b');
  ac.abort('done');
  await expect(call).rejects.toThrow();
  await waitFor(() => aborted.includes('b'), 'the real cancellation');
  await client.close();
});

it('notifications/cancelled on its own POST aborts the call still open on another', async () => {
  const post = (message: unknown) =>
    fetch(running.mcp!.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify(message),
    });
  const pending = post({
    jsonrpc: '2.0',
    id: 'call-c',
    method: 'tools/call',
    params: { name: 'slowSearch', arguments: { tag: 'c' } },
  });
  await waitFor(() => started.includes('c'), 'the skill to start');
  const note = await post({
    jsonrpc: '2.0',
    method: 'notifications/cancelled',
    params: { requestId: 'call-c' },
  });
  expect(note.status).toBe(202);
  await waitFor(() => aborted.includes('c'), "the skill's ctx.signal");
  const res = await pending;
  expect(res.status).toBe(200);
  await res.text();
});

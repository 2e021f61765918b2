import { createSandbox, type Sandbox, SEED_APP } from '@dingtalk-skills/sandbox';
import { silentLogger } from '@dingtalk-skills/sdk';
import {
  CONNECTIONS_OPEN_PATH,
  callbackAck,
  decodeRequestUri,
  type GraphRequest,
  graphJsonResponse,
  parseDownstreamFrame,
  parseGraphRequest,
  serializeAck,
  Topic,
} from '@dingtalk-skills/sdk/protocol';
import { WebSocket } from 'ws';

/**
 * The sandbox the assistant's tests run against: the real `createSandbox` (gateway, platform, control
 * API, assistant) on 127.0.0.1 port 0, quiet, no pings.
 */
export type Harness = Sandbox & { clock: Sandbox['context']['clock'] };

export async function startHarness(options: { callbackTimeoutMs?: number } = {}): Promise<Harness> {
  const sandbox = await createSandbox({
    logger: silentLogger(),
    pingIntervalMs: 0,
    ...(options.callbackTimeoutMs !== undefined ? { callbackTimeoutMs: options.callbackTimeoutMs } : {}),
  });
  return Object.assign(sandbox, { clock: sandbox.context.clock });
}

/** A JSON (or raw) HTTP request; `redirect: manual` so 302s can be inspected. */
export async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const init: RequestInit = {
    method,
    headers: { accept: 'application/json', ...headers },
    redirect: 'manual',
  };
  if (typeof body === 'string') init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...init.headers };
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text; // HTML pages and redirects
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A Graph request as the scripted skill received it. */
export interface ReceivedCall {
  request: GraphRequest;
  path: string;
  query: Record<string, string | string[]>;
  body: Record<string, unknown>;
}

/** The scripted skill's answer to one call: status + JSON body, or a raw ack (anything). */
export type Answer = { status: number; body: unknown } | { rawResponse: unknown };

/**
 * A skill server written against the wire (a raw `ws` client, not the project's StreamClient): opens a
 * ticket, connects, answers each Graph API CALLBACK with what `answer` returns, records every call.
 */
export class ScriptedSkill {
  readonly calls: ReceivedCall[] = [];
  readonly ws: WebSocket;
  answer: (call: ReceivedCall, n: number) => Answer;

  private constructor(ws: WebSocket, answer: ScriptedSkill['answer']) {
    this.ws = ws;
    this.answer = answer;
    ws.on('message', (data) => {
      const frame = parseDownstreamFrame(data.toString());
      const messageId = frame.headers.messageId;
      if (frame.type === 'SYSTEM' && frame.headers.topic === 'ping') {
        ws.send(
          JSON.stringify({
            code: 200,
            headers: { messageId, contentType: 'application/json' },
            message: 'OK',
            data: frame.data,
          }),
        );
        return;
      }
      if (frame.type !== 'CALLBACK' || frame.headers.topic !== Topic.GraphInvoke) return;
      const request = parseGraphRequest(frame.data, messageId);
      const { path, query } = decodeRequestUri(request.requestLine.uri);
      const call: ReceivedCall = {
        request,
        path,
        query,
        body: request.body === '' ? {} : (JSON.parse(request.body) as Record<string, unknown>),
      };
      this.calls.push(call);
      const a = this.answer(call, this.calls.length);
      const response = 'rawResponse' in a ? a.rawResponse : graphJsonResponse(a.status, a.body);
      ws.send(serializeAck(callbackAck(messageId, response)));
    });
  }

  static async connect(
    base: string,
    answer: ScriptedSkill['answer'],
    clientId: string = SEED_APP.clientId,
  ): Promise<ScriptedSkill> {
    const res = await fetch(`${base}${CONNECTIONS_OPEN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId,
        clientSecret: SEED_APP.clientSecret,
        subscriptions: [{ type: 'CALLBACK', topic: Topic.GraphInvoke }],
        ua: 'scripted-skill/1.0',
        localIp: '10.0.0.9',
      }),
    });
    if (res.status !== 200) throw new Error(`connections/open answered ${res.status}`);
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    const ws = new WebSocket(`${endpoint}?ticket=${encodeURIComponent(ticket)}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new ScriptedSkill(ws, answer);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** The two-action description most tests register (Stream; one action with a delegated scope). */
export const TEST_SPEC_YAML = `openapi: 3.0.1
info:
  title: Test skills
  version: 1.0.0
x-dingtalk-protocol: stream
paths:
  /v1/actions/test/todos:
    post:
      summary: 创建待办 Create a to-do
      description: Creates a to-do for the current user.
      operationId: createTodo
      x-dingtalk-delegated-scopes: [Todo.PersonalTodo.Write]
      parameters:
        - name: userId
          in: query
          schema: {type: string, x-dingtalk-context: {property: currentUser, format: userId}}
        - name: unionId
          in: query
          schema: {type: string, x-dingtalk-context: {property: currentUser, format: unionId}}
        - name: corpId
          in: query
          schema: {type: string, x-dingtalk-context: {property: currentOrg, format: corpId}}
        - name: oauthAuthCode
          in: query
          schema: {type: string, x-dingtalk-context: {property: currentUser, format: oauthAuthCode}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                subject: {type: string, description: 待办标题 Subject}
                priority: {type: integer}
                urgent: {type: boolean}
              required: [subject]
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {type: object, properties: {taskId: {type: string}, subject: {type: string}}}
  /v1/actions/test/echo:
    get:
      summary: 回声 Echo
      description: Echoes its input; needs no permission.
      operationId: echo
      parameters:
        - name: word
          in: query
          required: true
          schema: {type: string}
        - name: userId
          in: query
          schema: {type: string, x-dingtalk-context: {property: currentUser, format: userId}}
`;

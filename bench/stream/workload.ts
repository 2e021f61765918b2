/**
 * The workload every client runs: Graph API CALLBACK frames with a small JSON body, answered with a
 * Graph response that echoes the request's `seq`. The same `answerGraphCallback` runs in every client,
 * so the difference between clients is what their Stream layer costs.
 */

/** The topic of the workload's CALLBACK frames. */
export const GRAPH_TOPIC = '/v1.0/graph/api/invoke';
/** Credentials the bench gateway accepts (a local, throwaway app: not a secret). */
export const BENCH_CLIENT_ID = 'dingbenchapp';
export const BENCH_CLIENT_SECRET = 'bench-secret-not-real';

/** The `data` of the n-th CALLBACK frame: a Graph request (HTTP in JSON) with a small JSON body. */
export function graphRequestData(seq: number): string {
  return JSON.stringify({
    requestLine: { method: 'POST', uri: '/v1/actions/crm/customers/create?source=bench' },
    headers: {
      'content-type': 'application/json',
      'x-ability-key': 'createCustomer',
      'x-plugin-id': 'AI-bench',
      'x-plugin-version': '1.0.0',
    },
    body: JSON.stringify({ name: '杭州测试客户', amount: 42, seq }),
  });
}

/** The Graph response a client answers with. */
export interface BenchGraphResponse {
  statusLine: { code: number; reasonPhrase: string };
  headers: Record<string, string>;
  body: string;
}

/** The application work, identical in every client: read the request body, answer with its `seq`. */
export function answerGraphBody(body: string): BenchGraphResponse {
  const input = JSON.parse(body) as { seq: number };
  return {
    statusLine: { code: 200, reasonPhrase: 'OK' },
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ok: true, seq: input.seq }),
  };
}

/** `answerGraphBody` for a client that hands over the frame's raw `data` string. */
export function answerGraphCallback(data: string): BenchGraphResponse {
  const request = JSON.parse(data) as { body: string };
  return answerGraphBody(request.body);
}

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ResponseTooLargeError } from '../http/read-body.js';

/** The status and body text of one POST. */
export interface PostAnswer {
  status: number;
  /** The body; empty for a redirect (never read, never followed). */
  text: string;
}

/**
 * POSTs a JSON body with `node:http`/`node:https` and reads the answer up to `limitBytes`. The Stream
 * client's `connections/open` uses it by default instead of the global `fetch`: fetch loads Node's
 * built-in undici on first use (about 10 MB of RSS, and hundreds of ms on a cold start) in a process
 * that otherwise never needs it. Redirects are never followed (the body carries the app's secret);
 * network failures reject with Node's error (its `code` names the cause).
 */
export function postJson(
  url: string,
  body: string,
  options: { headers: Record<string, string>; signal: AbortSignal; limitBytes: number; what: string },
): Promise<PostAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostAnswer>((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'Content-Length': Buffer.byteLength(body) },
        signal: options.signal,
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          resolve({ status, text: '' });
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.limitBytes) {
          res.destroy();
          reject(new ResponseTooLargeError(options.what, options.limitBytes, declared));
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > options.limitBytes) {
            res.destroy();
            reject(new ResponseTooLargeError(options.what, options.limitBytes, received));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        // The connection ended mid-answer (a settled promise ignores this).
        res.on('close', () => {
          if (!res.complete)
            reject(new Error(`${options.what}: the connection closed before the answer was complete`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

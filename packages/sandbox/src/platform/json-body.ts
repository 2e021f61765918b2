import type { FastifyInstance } from 'fastify';

/**
 * Replaces a scope's JSON parser with one that reads an empty body as `{}` (DingTalk clients send
 * `Content-Type: application/json` on body-less POSTs) and reports bad JSON through `onBadJson`.
 */
export function useLenientJson(scope: FastifyInstance, onBadJson: (message: string) => Error): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        onBadJson(`body: not valid JSON (${err instanceof Error ? err.message : String(err)})`),
        undefined,
      );
    }
  });
}

import type { FastifyInstance } from 'fastify';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../admission/json.js';

/**
 * Replaces a scope's JSON parser with one that reads an empty body as `{}` (DingTalk clients send
 * `Content-Type: application/json` on body-less POSTs) and reports bad JSON, and JSON nested deeper than
 * {@link MAX_JSON_DEPTH} (refused before parsing), through `onBadJson`.
 */
export function useLenientJson(scope: FastifyInstance, onBadJson: (message: string) => Error): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    if (jsonDeeperThan(text, MAX_JSON_DEPTH))
      return done(onBadJson(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
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

/** How the client answered one EVENT or CALLBACK (the `outcome` of the message metrics). */
export type StreamMessageOutcome =
  /** EVENT: the handler succeeded; acked SUCCESS. */
  | 'success'
  /** EVENT: the handler returned LATER; acked LATER. */
  | 'later'
  /** The handler threw: EVENT acked LATER, CALLBACK answered 500. */
  | 'failed'
  /** The deadline (or `stop()`'s drain deadline) passed first: EVENT LATER, CALLBACK 500 or its onTimeout answer. */
  | 'timeout'
  /** EVENT already handled (dedup): acked SUCCESS without running the handler. */
  | 'duplicate'
  /** EVENT leased by another delivery whose handler may still run: acked LATER without running it. */
  | 'in_progress'
  /** CALLBACK: the handler returned; its result was sent. */
  | 'answered'
  /** No handler for the EVENT or the CALLBACK's topic: answered 404. */
  | 'not_found';

/** Topic reported for a CALLBACK topic without handler (keeps metric labels bounded). */
export const UNREGISTERED_TOPIC = '(unregistered)';

/**
 * Told what the Stream client does with each message, for metrics. Called synchronously on the hot path:
 * implementations must be cheap and must not throw.
 */
export interface StreamObserver {
  /**
   * A message was answered. `seconds` runs from receipt to answer when a handler ran for it (queue wait
   * included), and is undefined when none ran (duplicate, in progress, not found, dropped from the queue).
   * EVENTs report the topic `*`.
   */
  messageAnswered(
    type: 'EVENT' | 'CALLBACK',
    topic: string,
    outcome: StreamMessageOutcome,
    seconds: number | undefined,
  ): void;
  /** The dedup store failed; the client went on without it (handled anyway, or acked without the mark). */
  dedupFailed?(operation: 'claim' | 'complete' | 'release' | 'renew'): void;
  /** The in-memory dedup store was full and dropped `count` marks before their TTL. */
  dedupEvicted?(count: number): void;
}

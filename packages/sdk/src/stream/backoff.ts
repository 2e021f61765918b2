/** The backoff settings {@link backoffDelay} reads. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: 'equal' | 'full';
}

/**
 * Delay before reconnect attempt number `attempt` (0 = first retry):
 * `base = min(maxDelayMs, initialDelayMs * factor^attempt)`, then jittered —
 * `equal`: in [base/2, base]; `full`: in [0, base]. `random` is injectable for tests.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = policy.initialDelayMs * policy.factor ** Math.max(0, attempt);
  const base = Math.min(policy.maxDelayMs, Number.isFinite(exp) ? exp : policy.maxDelayMs);
  const r = random();
  const delay = policy.jitter === 'full' ? base * r : base / 2 + (base / 2) * r;
  return Math.round(delay);
}

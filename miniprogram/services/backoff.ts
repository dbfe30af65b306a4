/**
 * Waits between retries that grow and spread: the n-th wait is drawn between half and all of
 * `base × 2^n`, capped. Growing, so a watch the service keeps refusing (a listener limit, an
 * outage) is asked less and less often; spread ("equal jitter"), so the many phones whose watches
 * dropped at the same moment do not all come back, or poll, in the same second; capped, so a
 * phone is never left waiting longer than `capMs` to try again.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** The wait before attempt `attempt` (0 = the first retry); `random` in [0, 1). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exp / 2 + (exp / 2) * r);
}

/** How the page follows a task and the queue when a watch is down (and when it is not). */
export const WATCH_TIMING = {
  /** waits before re-watching after consecutive watch errors: 1 s, 2 s, 4 s … at most a minute */
  rewatch: { baseMs: 1000, capMs: 60_000 } as BackoffPolicy,
  /** waits between `get`s while a watch is down: 3 s, 6 s, 12 s … at most 30 s */
  poll: { baseMs: 3000, capMs: 30_000 } as BackoffPolicy,
  /** the `get` interval while the watch is up: a safety net (a watch can stall silently) */
  slowPollMs: 20_000,
};

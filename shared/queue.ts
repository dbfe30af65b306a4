/**
 * The queue of starts. Coze takes run starts and run-history reads from one rate bucket (COZE_QPS,
 * 50 to 500 a second by plan: docs/platform-notes.md); a burst of users beyond it waits here, in
 * `pending`, and the dispatcher (in the sweeper) starts them at the bucket's rate, oldest first and
 * fair across users. One shared document (`queue/coze`) is the queue's state: the dispatcher's
 * lease, how many it has started, the measured drain rate, the backlog; the create path reads it
 * (cached a second per instance) and the page watches it to show a position and a wait.
 * Pure rules here; the database adapter and the dispatcher write them.
 */
import * as z from './zod';

export const QUEUE_COLLECTION = 'queue';
/** The one state document: the queue of Coze starts. */
export const QUEUE_STATE_ID = 'coze';

/** The oldest waiting tasks the dispatcher reads at once; fairness holds within them. */
export const DISPATCH_WINDOW = 100;

/** The sweeper's timer period until one was measured: every minute. */
const DEFAULT_SWEEP_EVERY_MS = 60_000;

export const queueStateSchema = z.object({
  _id: z.string(),
  /** the sweep run dispatching now, and until when its lease holds */
  lease_holder: z._default(z.nullable(z.string()), null),
  lease_until: z.dateLike,
  /** runs the queue has started, ever: a task's position is its `ahead` less the starts since */
  started_total: z.number().check(z.int(), z.minimum(0)),
  /** starts Coze refused for rate (429 / 4009 / 5000), ever */
  refused_total: z._default(z.number().check(z.int(), z.minimum(0)), 0),
  /** starts a second the dispatcher measured over its last half minute; 0 before any */
  rate: z.number().check(z.minimum(0)),
  /** the rate the dispatcher allows itself now (COZE_QPS, lowered after a refusal) */
  qps: z.number().check(z.minimum(0)),
  /** tasks waiting to start when last counted */
  backlog: z.number().check(z.int(), z.minimum(0)),
  /** until when creates leave their start to the queue (Coze refused one of them) */
  busy_until: z.dateLike,
  /** the next free start slot for a create while no dispatcher runs (one create per slot) */
  slot_at: z.dateLike,
  /** when the last sweep began, and the time between sweeps it measured (the timer's period) */
  swept_at: z._default(z.dateLike, new Date(0)),
  sweep_every_ms: z._default(z.number().check(z.minimum(0)), DEFAULT_SWEEP_EVERY_MS),
  updated_at: z.dateLike,
});
export type QueueState = z.infer<typeof queueStateSchema>;

export function emptyQueueState(now: Date): QueueState {
  const epoch = new Date(0);
  return {
    _id: QUEUE_STATE_ID,
    lease_holder: null,
    lease_until: epoch,
    started_total: 0,
    refused_total: 0,
    rate: 0,
    qps: 0,
    backlog: 0,
    busy_until: epoch,
    slot_at: epoch,
    swept_at: epoch,
    sweep_every_ms: DEFAULT_SWEEP_EVERY_MS,
    updated_at: now,
  };
}

/**
 * The timer's period as the sweeps see it: the time since the last sweep began, when that is a
 * plausible period (a second to ten minutes), smoothed with what was measured before.
 */
export function measuredSweepEvery(state: QueueState, now: Date): number {
  const since = now.getTime() - state.swept_at.getTime();
  if (!(since >= 1000 && since <= 600_000)) return state.sweep_every_ms;
  return Math.round(state.sweep_every_ms * 0.5 + since * 0.5);
}

/**
 * Seconds until a dispatcher will run: none while one runs; else until the next sweep is due. A
 * sweep a little late (its notices ran long) is taken as imminent. With no sweep known (a new
 * environment) or none for more than a period, the timer's next tick: its cron fires at the start
 * of each period (second 0 of each minute), so that is the next multiple of the period.
 */
export function untilDispatchS(state: QueueState, now: Date): number {
  if (dispatcherActive(state, now)) return 0;
  const period = state.sweep_every_ms;
  const next = state.swept_at.getTime() + period;
  const t = now.getTime();
  if (next >= t) return (next - t) / 1000;
  if (t - next < period) return 0;
  return (period - (t % period)) / 1000;
}

/** A task's place in the queue when it was submitted; its position now follows from the state. */
export const queueTicketSchema = z.object({
  /** tasks waiting ahead of it at submit */
  ahead: z.number().check(z.int(), z.minimum(0)),
  /** the queue's `started_total` at submit */
  started_seen: z.number().check(z.int(), z.minimum(0)),
});
export type QueueTicket = z.infer<typeof queueTicketSchema>;

/** Whether a dispatcher holds the lease now. */
export function dispatcherActive(state: QueueState, now: Date): boolean {
  return state.lease_until.getTime() > now.getTime();
}

/**
 * How creates should start a run now:
 * - `direct`: the queue is idle; one attempt, as before (no write spent on the queue);
 * - `slot`: Coze refused a create lately and no dispatcher runs: a create may start only in a
 *   free slot it takes (one conditional write), so creates together keep to COZE_QPS;
 * - `queue`: a dispatcher runs or a backlog waits: leave the start to the dispatcher (oldest
 *   first), never a start past the queue.
 */
export function createStartMode(state: QueueState, now: Date): 'direct' | 'slot' | 'queue' {
  if (dispatcherActive(state, now) || state.backlog > 0) return 'queue';
  return state.busy_until.getTime() > now.getTime() ? 'slot' : 'direct';
}

/** The share of the rate left to starts while history reads wait (they take at most this much). */
export const HISTORY_SHARE = 0.2;

/**
 * Starts a second to plan with: what the dispatcher measured, or what the bucket allows (less the
 * history reads' share) before anything was measured.
 */
export function drainRate(state: QueueState, qps: number): number {
  return state.rate > 0 ? state.rate : qps * (1 - HISTORY_SHARE);
}

/**
 * The wait, in seconds, of a task with `ahead` tasks before it: until a dispatcher runs (the next
 * sweep), then its place at the drain rate.
 */
export function estimateWaitS(ahead: number, state: QueueState, qps: number, now: Date): number {
  const rate = drainRate(state, qps);
  return untilDispatchS(state, now) + (ahead + 1) / Math.max(rate, 0.01);
}

/**
 * The share of QUEUE_MAX_WAIT_S a create's estimate may reach and still be accepted. The estimate
 * reads counts up to a second old (each instance caches them, so other instances' creates of that
 * second are missing) and a rate that dips when Coze refuses; an accepted task must not then wait
 * past the bound and fail, so the refusal comes early rather than late.
 */
export const ADMIT_WITHIN = 0.85;

/** Whether a create whose estimated wait is `waitS` may wait in the queue. */
export function admitsWait(waitS: number, maxWaitS: number): boolean {
  return waitS <= maxWaitS * ADMIT_WITHIN;
}

/** The part of the state a waiting page reads to place its task (what `queuePosition` needs). */
export const queueProgressSchema = z.object({
  started_total: z.number().check(z.int(), z.minimum(0)),
  rate: z.number().check(z.minimum(0)),
  qps: z.number().check(z.minimum(0)),
});
export type QueueProgress = z.infer<typeof queueProgressSchema>;

/** Reads the state document as a watch delivers it; null when it is not one. */
export function queueProgressFromRaw(raw: unknown): QueueProgress | null {
  const parsed = queueProgressSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Where a queued task stands now: tasks ahead (at least none) and the wait at the drain rate. */
export function queuePosition(
  ticket: QueueTicket,
  state: Pick<QueueState, 'started_total' | 'rate' | 'qps'>,
): { ahead: number; waitS: number } {
  const ahead = Math.max(0, ticket.ahead - Math.max(0, state.started_total - ticket.started_seen));
  const rate = state.rate > 0 ? state.rate : state.qps * (1 - HISTORY_SHARE);
  return { ahead, waitS: rate > 0 ? Math.ceil((ahead + 1) / rate) : 0 };
}

/**
 * The order the dispatcher starts a window of waiting tasks in: oldest first, and fair across
 * users: each user's first waiting task before anyone's second, and so on, within the window (the
 * oldest waiting tasks). A user with three tasks so never makes two others wait behind all three.
 */
export function fairOrder<T extends { _openid: string; next_dispatch_at: Date | null }>(
  tasks: readonly T[],
): T[] {
  const at = (t: T) => t.next_dispatch_at?.getTime() ?? 0;
  const byAge = [...tasks].sort((a, b) => at(a) - at(b));
  const seen = new Map<string, number>();
  const ranked = byAge.map((task, age) => {
    const ordinal = seen.get(task._openid) ?? 0;
    seen.set(task._openid, ordinal + 1);
    return { task, ordinal, age };
  });
  ranked.sort((a, b) => a.ordinal - b.ordinal || a.age - b.age);
  return ranked.map((r) => r.task);
}

/**
 * The rate the dispatcher keeps to: additive increase, multiplicative decrease. It starts at the
 * configured COZE_QPS (a little under, so evenly spaced calls never meet a full bucket), halves on
 * a refusal (Coze's 4009 / 429) and climbs back by a tenth of the ceiling each calm second.
 */
export class AdaptiveRate {
  private rate: number;
  private lastRaise: number;
  private next = 0;

  constructor(
    private readonly ceiling: number,
    now: number,
  ) {
    this.rate = AdaptiveRate.headroom(ceiling);
    this.lastRaise = now;
  }

  /** Just under the ceiling: a bucket that refills continuously never sees two calls at once. */
  static headroom(ceiling: number): number {
    return ceiling * 0.95;
  }

  current(): number {
    return this.rate;
  }

  /** The time the next call may go, and books it. */
  take(now: number): number {
    this.raise(now);
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.rate;
    return at;
  }

  refused(now: number): void {
    this.rate = Math.max(this.ceiling / 20, this.rate / 2);
    this.lastRaise = now;
    // The next call waits a whole interval at the new rate.
    this.next = Math.max(this.next, now + 1000 / this.rate);
  }

  private raise(now: number): void {
    const seconds = Math.floor((now - this.lastRaise) / 1000);
    if (seconds <= 0) return;
    this.rate = Math.min(
      AdaptiveRate.headroom(this.ceiling),
      this.rate + (seconds * this.ceiling) / 10,
    );
    this.lastRaise += seconds * 1000;
  }
}

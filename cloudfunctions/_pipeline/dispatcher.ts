/**
 * The dispatcher: every call to Coze the backend makes outside a user's create goes through here,
 * at the rate Coze allows (one bucket for run starts and history reads: COZE_QPS, lowered when
 * Coze refuses and raised back when it is calm). It runs inside a sweep for the sweep's whole
 * budget, one at a time (a lease on the queue's state document), and works in this order:
 * - waiting tasks, oldest first and fair across users (`fairOrder`), started once each; a start
 *   Coze refused for rate puts its task back at the head, it is not an attempt;
 * - history reads of runs that went silent or outlived their timeout, with at most a fifth of the
 *   rate while tasks wait (`HISTORY_SHARE`), and restarts of runs nobody knows;
 * and publishes what it measured every two seconds, so creates and pages see the queue.
 * Why a sweep and not a function that re-invokes itself: docs/architecture.md, "The queue".
 */
import { randomUUID } from 'node:crypto';
import { describeError } from '../../shared/errors';
import {
  AdaptiveRate,
  DISPATCH_WINDOW,
  HISTORY_SHARE,
  fairOrder,
  measuredSweepEvery,
} from '../../shared/queue';
import { MAX_START_ATTEMPTS, TaskStatus } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import type { LedgerStore, QueueStore } from '../_adapters/database';
import { startTask, type StartDeps } from './starts';
import { transition } from './transitions';

export interface DispatcherDeps extends StartDeps {
  queue: QueueStore;
  ledger: LedgerStore;
  sleep(ms: number): Promise<void>;
}

export interface DispatchReport {
  /** false: another sweep held the lease, so this one made no Coze call */
  dispatched: boolean;
  started: number;
  maybeStarted: number;
  /** starts Coze refused for rate or load (put back in the queue) */
  refusedForRate: number;
  /** starts refused for good (the task failed) */
  refused: number;
  restarted: number;
  /** tasks that waited in the queue past QUEUE_MAX_WAIT_S: ended TOO_BUSY, quota unit returned */
  queueWaitsEnded: number;
  historyReads: number;
  reconciled: number;
  stillRunning: number;
  timedOut: number;
  /** the rate the dispatcher allowed itself at the end */
  qps: number;
}

const PUBLISH_EVERY_MS = 2000;
const READS_EVERY_MS = 5000;
/** A new sweep waits this long for the previous one to hand the lease over. */
const LEASE_WAIT_MS = 4000;
/** Starts a second over which the drain rate is measured. */
const RATE_WINDOW_MS = 30_000;

type Work =
  | { kind: 'start'; task: TaskDoc }
  | { kind: 'read'; task: TaskDoc }
  | { kind: 'restart'; task: TaskDoc };

export function emptyDispatchReport(): DispatchReport {
  return {
    dispatched: false,
    started: 0,
    maybeStarted: 0,
    refusedForRate: 0,
    refused: 0,
    restarted: 0,
    queueWaitsEnded: 0,
    historyReads: 0,
    reconciled: 0,
    stillRunning: 0,
    timedOut: 0,
    qps: 0,
  };
}

/**
 * Dispatches until `launchUntil` (no Coze call is made after it; calls in flight finish within
 * their own timeout) or until nothing is left to do. Answers what it did.
 */
export async function dispatch(deps: DispatcherDeps, launchUntil: Date): Promise<DispatchReport> {
  const report = emptyDispatchReport();
  const holder = randomUUID();
  if (!(await takeLease(deps, holder, launchUntil))) return report;
  report.dispatched = true;
  const run = new DispatchRun(deps, holder, launchUntil, report);
  try {
    await run.loop();
  } finally {
    await run.finish();
  }
  return report;
}

async function takeLease(deps: DispatcherDeps, holder: string, until: Date): Promise<boolean> {
  const began = deps.now();
  const waitUntil = began.getTime() + LEASE_WAIT_MS;
  // When this sweep began and the timer's period: creates estimate the next sweep from them.
  const state = await deps.queue.read(began);
  const swept = { swept_at: began, sweep_every_ms: measuredSweepEvery(state, began) };
  // The lease outlives the launch window a little: a sweep that dies leaves it for seconds only.
  const leaseUntil = () => new Date(until.getTime() + 2000);
  for (;;) {
    if (await deps.queue.acquireLease(holder, leaseUntil(), deps.now(), swept)) return true;
    if (deps.now().getTime() >= waitUntil) {
      deps.log.info('dispatch_skipped', { reason: 'another sweep holds the lease' });
      return false;
    }
    await deps.sleep(500);
  }
}

class DispatchRun {
  private readonly rate: AdaptiveRate;
  private window: TaskDoc[] = [];
  private reads: Work[] = [];
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly starts: number[] = [];
  private lastWindow = -Infinity;
  private lastReads = -Infinity;
  private lastPublish = -Infinity;
  private sinceRead = 0;
  private unpublished = { started: 0, refused: 0 };
  private readonly startedAt: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly holder: string,
    private readonly launchUntil: Date,
    private readonly report: DispatchReport,
  ) {
    this.startedAt = deps.now().getTime();
    this.rate = new AdaptiveRate(deps.config.COZE_QPS, this.startedAt);
    // Enough calls in flight to keep the rate with answers of up to two seconds.
    this.maxInFlight = Math.min(200, Math.max(2, Math.ceil(deps.config.COZE_QPS * 2)));
  }

  private now(): number {
    return this.deps.now().getTime();
  }

  async loop(): Promise<void> {
    for (;;) {
      if (this.now() >= this.launchUntil.getTime()) break;
      await this.refill();
      if (this.now() - this.lastPublish >= PUBLISH_EVERY_MS) await this.publish();
      const work = this.nextWork();
      if (!work) {
        if (this.inFlight.size === 0) break;
        await Promise.race(this.inFlight);
        continue;
      }
      const at = this.rate.take(this.now());
      if (at > this.now()) await this.deps.sleep(at - this.now());
      if (this.now() >= this.launchUntil.getTime()) {
        this.putBack(work);
        break;
      }
      this.launch(work);
      if (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    }
  }

  async finish(): Promise<void> {
    await this.publish();
    // The launch window is over: the next sweep may dispatch while these calls finish.
    await this.deps.queue.release(this.holder, this.deps.now()).catch((err: unknown) => {
      this.deps.log.warn('lease_release_failed', { detail: describeError(err) });
    });
    await Promise.allSettled([...this.inFlight]);
    this.report.qps = Math.round(this.rate.current() * 100) / 100;
    await this.flushCounts();
  }

  /** Reads the queue's head and the runs to look at again, when they are due to be read. */
  private async refill(): Promise<void> {
    const now = this.now();
    const { store, config } = this.deps;
    const windowLow = this.window.length < Math.max(10, this.maxInFlight);
    if (windowLow && now - this.lastWindow >= 1000) {
      this.lastWindow = now;
      const head = await store.waiting(new Date(now), DISPATCH_WINDOW);
      // A task that waited past its bound is ended below, never started.
      this.window = fairOrder(
        head.filter((t) => !this.busy.has(t._id) && t.expires_at.getTime() > now),
      );
    }
    if (now - this.lastReads >= READS_EVERY_MS) {
      this.lastReads = now;
      await this.endQueueWaits(now);
      const silentSince = new Date(now - config.RECONCILE_AFTER_S * 1000);
      const limit = config.SWEEP_BATCH_LIMIT;
      const [expired, silent] = await Promise.all([
        store.expired(TaskStatus.Processing, new Date(now), limit),
        store.dueReconciles(silentSince, limit),
      ]);
      const seen = new Set<string>();
      const due = [...expired, ...silent].filter(
        (t) => !this.busy.has(t._id) && !seen.has(t._id) && seen.add(t._id),
      );
      this.reads = [];
      for (const task of due) {
        if (task.coze_execute_id) this.reads.push({ kind: 'read', task });
        else if (task.start_attempts < MAX_START_ATTEMPTS && task.expires_at.getTime() > now)
          this.reads.push({ kind: 'restart', task });
        // No run to read and no start left: it times out or waits, with no call to Coze.
        else await this.readRun(task);
      }
    }
  }

  /**
   * Tasks that waited in the queue past QUEUE_MAX_WAIT_S without a start: they end TOO_BUSY (no
   * notice: waiting never spends the user's one-time grant) and their quota unit and slot go back.
   * Database only: no Coze call.
   */
  private async endQueueWaits(now: number): Promise<void> {
    const { deps } = this;
    const expired = await deps.store.expired(
      TaskStatus.Pending,
      new Date(now),
      deps.config.SWEEP_BATCH_LIMIT,
    );
    for (const task of expired) {
      if (this.busy.has(task._id)) continue;
      if (!(await transition(deps, task._id, { type: 'waited_too_long' }))) continue;
      this.report.queueWaitsEnded++;
      await deps.ledger.release(task._openid, task._id, task.day, deps.now());
    }
  }

  /** Starts first; a history read when none waits, or while reads had less than their share. */
  private nextWork(): Work | null {
    const readsOwed = this.sinceRead >= Math.ceil(1 / HISTORY_SHARE) - 1;
    if (this.reads.length > 0 && (this.window.length === 0 || readsOwed)) {
      this.sinceRead = 0;
      return this.reads.shift()!;
    }
    const task = this.window.shift();
    if (task) {
      this.sinceRead++;
      return { kind: 'start', task };
    }
    return null;
  }

  private putBack(work: Work): void {
    if (work.kind === 'start') this.window.unshift(work.task);
    else this.reads.unshift(work);
  }

  private launch(work: Work): void {
    this.busy.add(work.task._id);
    const p = this.perform(work)
      .catch((err: unknown) => {
        this.deps.log.error('dispatch_work_failed', {
          task: work.task._id,
          work: work.kind,
          detail: describeError(err),
        });
      })
      .finally(() => {
        this.busy.delete(work.task._id);
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private async perform(work: Work): Promise<void> {
    const { task } = work;
    if (work.kind === 'read') return this.readRun(task);
    const { outcome } = await startTask(this.deps, task);
    if (outcome === 'not_started') {
      this.report.refusedForRate++;
      this.unpublished.refused++;
      this.rate.refused(this.now());
      // Not an attempt: the task keeps its place at the head of the queue.
      if (work.kind === 'start') this.window.unshift(task);
      return;
    }
    if (outcome === 'refused') this.report.refused++;
    if (outcome === 'started' || outcome === 'maybe_started') {
      if (work.kind === 'restart') this.report.restarted++;
      else if (outcome === 'started') this.report.started++;
      else this.report.maybeStarted++;
      if (work.kind === 'start') {
        this.starts.push(this.now());
        this.unpublished.started++;
      }
    }
  }

  private async readRun(task: TaskDoc): Promise<void> {
    const { deps, report } = this;
    const expired = task.expires_at.getTime() <= this.now();
    let end = null;
    if (task.coze_execute_id) {
      report.historyReads++;
      try {
        end = await deps.coze.getRun(task.coze_execute_id);
      } catch (err) {
        deps.log.warn('history_read_failed', { task: task._id, detail: describeError(err) });
      }
    }
    if (end) {
      if (end.detail) deps.log.info('run_ended', { task: task._id, detail: end.detail });
      if (await transition(deps, task._id, end.event)) report.reconciled++;
      return;
    }
    if (expired) {
      if (await transition(deps, task._id, { type: 'timed_out' })) report.timedOut++;
      return;
    }
    report.stillRunning++;
    // Checked now: the next look comes RECONCILE_AFTER_S later, so the oldest go first.
    const now = deps.now();
    await deps.store.touch(task._id, [TaskStatus.Processing], {
      history_checked_at: now,
      updated_at: now,
    });
  }

  /** Starts a second over the last half minute (or since the dispatcher began, if shorter). */
  private measuredRate(): number {
    const now = this.now();
    while (this.starts.length && this.starts[0]! < now - RATE_WINDOW_MS) this.starts.shift();
    const span = Math.min(RATE_WINDOW_MS, now - this.startedAt);
    return span >= 1000 ? this.starts.length / (span / 1000) : 0;
  }

  private async publish(): Promise<void> {
    this.lastPublish = this.now();
    // The counts are taken before the writes: starts that finish while they wait count next time.
    const delta = this.unpublished;
    this.unpublished = { started: 0, refused: 0 };
    let held = false;
    try {
      const backlog = await this.deps.store.countWaiting();
      held = await this.deps.queue.publish(
        this.holder,
        {
          started: delta.started,
          refused: delta.refused,
          rate: Math.round(this.measuredRate() * 100) / 100,
          qps: Math.round(this.rate.current() * 100) / 100,
          backlog,
          lease_until: new Date(this.launchUntil.getTime() + 2000),
        },
        this.deps.now(),
      );
    } catch (err) {
      this.deps.log.warn('queue_publish_failed', { detail: describeError(err) });
    }
    if (!held) {
      this.unpublished.started += delta.started;
      this.unpublished.refused += delta.refused;
    }
  }

  /** Counts that were not published yet (the last calls finished after the lease was given up). */
  private async flushCounts(): Promise<void> {
    const { started, refused } = this.unpublished;
    if (!started && !refused) return;
    await this.deps.queue.addCounts(started, refused).catch((err: unknown) => {
      this.deps.log.warn('queue_publish_failed', { detail: describeError(err) });
    });
  }
}

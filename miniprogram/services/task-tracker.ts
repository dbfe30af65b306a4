/**
 * Follows one task until it ends, the way docs/platform-notes.md ("Client database watch") asks:
 * - a database watch for live changes, plus one `get` at every (re)start, so nothing is missed;
 * - on a watch error: re-watch with backoff, and poll `get` quickly until a snapshot arrives;
 * - while the watch is healthy, a slow `get` as a safety net (a watch can stall silently);
 * - `pause()` in onHide, `start()` again in onShow (watches die in the background);
 * - everything stops at a terminal status;
 * - a task still silent past its expiry (plus grace) is reported expired, so no spinner forever;
 * - a task removed by its owner (the watch sends a remove change) is reported removed.
 */
import {
  EXPIRY_GRACE_MS,
  TaskStatus,
  isSilentPastExpiry,
  isTerminal,
  viewFromRaw,
  type TaskView,
} from '../domain';
import { getBackend, getTask } from './index';
import { errText, type WatchHandle, type WatchSnapshot } from './types';

export type LinkState = 'live' | 'reconnecting';

export interface TrackerEvents {
  /** a newer view of the task */
  onTask(task: TaskView): void;
  /** the watch broke (polling meanwhile) or came back */
  onLink?(state: LinkState): void;
  /** the task is past its expiry and still not finished: show it as timed out */
  onExpired?(task: TaskView): void;
  /** `get` answered an error that polling cannot fix (e.g. NOT_FOUND) */
  onLost?(message: string): void;
  /** the watch saw the task's document removed (the user deleted it) */
  onRemoved?(): void;
}

export const TRACKER_TIMING = {
  /** delays before re-watching after consecutive watch errors */
  rewatchBackoffMs: [1000, 2000, 5000, 10_000, 30_000] as readonly number[],
  /** `get` interval while the watch is down */
  fastPollMs: 3000,
  /** `get` interval while the watch is up */
  slowPollMs: 20_000,
};

type Timer = ReturnType<typeof setTimeout>;

/** Is `next` at least as new as `prev`? Terminal states are final; progress never goes back. */
function isNewer(next: TaskView, prev: TaskView): boolean {
  if (isTerminal(prev.status))
    return next.status === prev.status && next.updated_at >= prev.updated_at;
  if (isTerminal(next.status)) return true;
  if (next.updated_at < prev.updated_at) return false;
  if (prev.status === TaskStatus.Processing && next.status === TaskStatus.Pending) return false;
  return next.progress >= prev.progress || next.status !== prev.status;
}

export class TaskTracker {
  private latest: TaskView | null;
  private watch: WatchHandle | null = null;
  /** bumps on every (re)watch, so callbacks of a closed watch are ignored */
  private watchGen = 0;
  private watchErrors = 0;
  private link: LinkState = 'live';
  private running = false;
  private finished = false;
  private rewatchTimer: Timer | null = null;
  private pollTimer: Timer | null = null;
  private expiryTimer: Timer | null = null;

  constructor(
    readonly taskId: string,
    private readonly events: TrackerEvents,
    initial: TaskView | null = null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.latest = initial;
  }

  get task(): TaskView | null {
    return this.latest;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Starts (or, after `pause`, resumes) following: re-read now and re-watch. */
  start(): void {
    if (this.finished || this.running) return;
    if (this.latest && isTerminal(this.latest.status)) {
      this.finished = true;
      return;
    }
    this.running = true;
    this.watchErrors = 0;
    this.setLink('live');
    this.openWatch();
    void this.refresh();
    this.schedulePoll();
    this.scheduleExpiry();
  }

  /** Closes the watch and every timer, keeping what is known (onHide). */
  pause(): void {
    this.running = false;
    this.closeWatch();
    this.clearTimers();
  }

  /** Stops for good (terminal status, onUnload). */
  stop(): void {
    this.finished = true;
    this.pause();
  }

  /** Feeds a view obtained elsewhere (e.g. the answer of `cancel`). */
  offer(task: TaskView): void {
    if (task._id === this.taskId) this.accept(task);
  }

  private openWatch(): void {
    const gen = ++this.watchGen;
    try {
      this.watch = getBackend().watchTask(this.taskId, {
        onChange: (snapshot) => {
          if (gen === this.watchGen) this.onSnapshot(snapshot);
        },
        onError: (err) => {
          if (gen === this.watchGen) this.onWatchError(err);
        },
      });
    } catch (err) {
      // Some failures are thrown synchronously (no cloud, socket refused): same treatment.
      this.watch = null;
      this.onWatchError(err);
    }
  }

  private closeWatch(): void {
    this.watchGen++;
    const w = this.watch;
    this.watch = null;
    w?.close();
  }

  private onSnapshot(snapshot: WatchSnapshot): void {
    if (!this.running) return;
    if (this.link !== 'live') {
      // Recovered: back to the slow safety poll.
      this.watchErrors = 0;
      this.setLink('live');
      this.schedulePoll();
    }
    if (this.wasRemoved(snapshot)) {
      this.stop();
      this.events.onRemoved?.();
      return;
    }
    const raw = this.findDoc(snapshot);
    if (raw === undefined) {
      // The first snapshot can be empty when the document is not visible yet: ask directly.
      if (snapshot.type === 'init') void this.refresh();
      return;
    }
    const view = viewFromRaw(raw);
    if (view) this.accept(view);
    else void this.refresh(); // a document this client cannot read whole: ask the function
  }

  private findDoc(snapshot: WatchSnapshot): unknown {
    const isOurs = (d: unknown) =>
      typeof d === 'object' && d !== null && (d as { _id?: unknown })._id === this.taskId;
    const doc = snapshot.docs.find(isOurs);
    if (doc !== undefined) return doc;
    for (let i = snapshot.docChanges.length - 1; i >= 0; i--) {
      const change = snapshot.docChanges[i];
      if (change && change.dataType !== 'remove' && isOurs(change.doc)) return change.doc;
    }
    return undefined;
  }

  private wasRemoved(snapshot: WatchSnapshot): boolean {
    return snapshot.docChanges.some((c) => {
      if (c.dataType !== 'remove') return false;
      const id = c.docId ?? (c.doc as { _id?: unknown } | undefined)?._id;
      return id === this.taskId;
    });
  }

  private onWatchError(err: unknown): void {
    if (!this.running) return;
    console.warn('[tracker] watch error', errText(err));
    this.closeWatch();
    this.setLink('reconnecting');
    const backoff = TRACKER_TIMING.rewatchBackoffMs;
    const delay = backoff[Math.min(this.watchErrors, backoff.length - 1)] ?? 30_000;
    this.watchErrors++;
    if (this.rewatchTimer !== null) clearTimeout(this.rewatchTimer);
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = null;
      if (this.running) this.openWatch();
    }, delay);
    void this.refresh();
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    if (!this.running) return;
    const ms = this.link === 'live' ? TRACKER_TIMING.slowPollMs : TRACKER_TIMING.fastPollMs;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.refresh().then(() => {
        if (this.running && this.pollTimer === null) this.schedulePoll();
      });
    }, ms);
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const task = this.latest;
    if (!this.running || !task || isTerminal(task.status)) return;
    // One tick past the grace period so `isSilentPastExpiry` agrees when it fires.
    const due = Date.parse(task.expires_at) + EXPIRY_GRACE_MS + 1 - this.now().getTime();
    if (!Number.isFinite(due)) return;
    this.expiryTimer = setTimeout(() => void this.checkExpiry(), Math.max(0, due));
  }

  private async checkExpiry(): Promise<void> {
    this.expiryTimer = null;
    if (!this.running) return;
    await this.refresh(); // the server may know better
    const task = this.latest;
    if (!this.running || !task || isTerminal(task.status)) return;
    if (isSilentPastExpiry(task, this.now())) {
      this.stop();
      this.events.onExpired?.(task);
    } else {
      this.scheduleExpiry();
    }
  }

  private async refresh(): Promise<void> {
    const out = await getTask(this.taskId);
    if (this.finished) return;
    if (out.ok) {
      this.accept(out.task);
    } else if (out.code === 'NOT_FOUND' || out.code === 'INVALID_INPUT') {
      // Polling cannot fix these; anything else (network, busy) is retried by the next poll.
      this.stop();
      this.events.onLost?.(out.message);
    }
  }

  private accept(task: TaskView): void {
    if (this.finished) return;
    if (this.latest && !isNewer(task, this.latest)) return;
    this.latest = task;
    if (isTerminal(task.status)) this.stop();
    else if (this.running) this.scheduleExpiry();
    this.events.onTask(task);
  }

  private setLink(state: LinkState): void {
    if (this.link === state) return;
    this.link = state;
    this.events.onLink?.(state);
  }

  private clearTimers(): void {
    for (const t of [this.rewatchTimer, this.pollTimer, this.expiryTimer]) {
      if (t !== null) clearTimeout(t);
    }
    this.rewatchTimer = this.pollTimer = this.expiryTimer = null;
  }
}

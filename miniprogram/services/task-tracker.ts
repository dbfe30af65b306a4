/**
 * Follows one task until it ends, the way docs/platform-notes.md ("Client database watch") asks:
 * - a database watch for live changes, plus one `get` at every (re)start, so nothing is missed;
 * - on a watch error (refused, dropped, past a listener limit: every error alike): poll `get`
 *   on a growing, spread interval (3 s, 6 s … 30 s, backoff.ts) and re-watch with backoff and
 *   jitter (1 s, 2 s … a minute), for as long as it runs; back to watching when a snapshot comes;
 * - while the watch is healthy, a slow `get` as a safety net (a watch can stall silently);
 * - while it waits in the queue: its place from the queue's shared feed (queue-feed.ts), or, while
 *   that feed is down, from `get` (which answers it), polled as above;
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
  queuePosition,
  viewFromRaw,
  type QueueProgress,
  type QueueSpot,
  type TaskView,
} from '../domain';
import { WATCH_TIMING, backoffDelay } from './backoff';
import { getBackend, getTask } from './index';
import { queueFeed } from './queue-feed';
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
  /** while it waits behind others: its place now (null once it started or is not known) */
  onQueue?(spot: QueueSpot | null): void;
}

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
  /** `get`s made in a row while something live was down (the poll's backoff step) */
  private pollsDown = 0;
  private link: LinkState = 'live';
  /** the queue feed, while the task waits with a ticket */
  private unsubscribeQueue: (() => void) | null = null;
  private queueDown = false;
  private spot: QueueSpot | null = null;
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

  /** Where it waits in the queue now (null: not waiting behind others, or not known yet). */
  get queueSpot(): QueueSpot | null {
    return this.spot;
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
    this.pollsDown = 0;
    this.setLink('live');
    this.openWatch();
    this.followQueue();
    void this.refresh();
    this.schedulePoll();
    this.scheduleExpiry();
  }

  /** Closes the watch, the queue feed and every timer, keeping what is known (onHide). */
  pause(): void {
    this.running = false;
    this.closeWatch();
    this.leaveQueue();
    this.clearTimers();
  }

  /** Stops for good (terminal status, onUnload). */
  stop(): void {
    this.finished = true;
    this.pause();
  }

  /** Feeds a place in the queue obtained elsewhere (the answer of `create`). */
  offerQueue(spot: QueueSpot | null): void {
    if (this.latest?.status === TaskStatus.Pending && spot) this.setSpot(spot);
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
      // Recovered: back to the slow safety poll (unless the queue's feed is still down).
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
    const wasPolling = this.polling;
    this.closeWatch();
    this.setLink('reconnecting');
    const delay = backoffDelay(this.watchErrors++, WATCH_TIMING.rewatch);
    if (this.rewatchTimer !== null) clearTimeout(this.rewatchTimer);
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = null;
      if (this.running) this.openWatch();
    }, delay);
    // The outage begins: read now, then poll on its backoff. A re-watch failing later leaves the
    // poll's own rhythm alone (rescheduling it on every failure would starve it).
    if (!wasPolling) {
      void this.refresh();
      this.schedulePoll();
    }
  }

  /** Something live is down (the task's watch, or the queue's feed while it waits): poll. */
  private get polling(): boolean {
    return this.link !== 'live' || (this.unsubscribeQueue !== null && this.queueDown);
  }

  private schedulePoll(): void {
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    if (!this.running) return;
    if (!this.polling) this.pollsDown = 0;
    const ms = this.polling
      ? backoffDelay(this.pollsDown++, WATCH_TIMING.poll)
      : WATCH_TIMING.slowPollMs;
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
      // The function's word on its place (fresh state): the feed's is as good while it is up.
      if (out.queue && out.task.status === TaskStatus.Pending && this.queueDown) {
        this.setSpot(out.queue);
      }
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
    this.followQueue();
    this.events.onTask(task);
  }

  // ----- the queue, while it waits -----

  /** Subscribes to the queue's feed while it waits with a ticket; leaves it otherwise. */
  private followQueue(): void {
    const task = this.latest;
    const waiting =
      this.running && !this.finished && task?.status === TaskStatus.Pending && task.queue;
    if (!waiting) {
      this.leaveQueue();
      if (this.spot !== null && task?.status !== TaskStatus.Pending) this.setSpot(null);
      return;
    }
    if (this.unsubscribeQueue) return;
    // Subscribed from here on (a feed already down says so inside `subscribe`).
    this.unsubscribeQueue = () => undefined;
    this.unsubscribeQueue = queueFeed().subscribe({
      onProgress: (progress) => this.onQueueProgress(progress),
      onDown: (down) => {
        const wasPolling = this.polling;
        this.queueDown = down;
        // Down: ask the function now and on the poll's backoff; up: back to the slow poll.
        if (wasPolling === this.polling) return;
        if (down) void this.refresh();
        this.schedulePoll();
      },
    });
  }

  private leaveQueue(): void {
    const unsubscribe = this.unsubscribeQueue;
    this.unsubscribeQueue = null;
    this.queueDown = false;
    unsubscribe?.();
  }

  private onQueueProgress(progress: QueueProgress): void {
    const ticket = this.latest?.queue;
    if (!ticket || this.latest?.status !== TaskStatus.Pending) return;
    this.setSpot(queuePosition(ticket, progress));
  }

  private setSpot(spot: QueueSpot | null): void {
    const same =
      spot === this.spot ||
      (spot !== null &&
        this.spot !== null &&
        spot.ahead === this.spot.ahead &&
        spot.waitS === this.spot.waitS);
    this.spot = spot;
    if (!same) this.events.onQueue?.(spot);
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

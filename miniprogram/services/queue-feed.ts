/**
 * The queue's progress, live: one watch on the queue's state document (`queue/coze`, published by
 * the dispatcher every 2 s), shared by every waiting task on the page, each placing itself with
 * `queuePosition(ticket, progress)`: one listener however many tasks wait.
 *
 * When the watch is refused or dropped (a listener limit, the network, a backend that does not
 * serve the document, which reads as an empty first snapshot), subscribers are told the feed is
 * down, so they ask the function (`get`, which answers the position) on a growing, spread
 * interval; the watch is tried again with backoff and jitter (backoff.ts), for as long as anyone
 * subscribes, and when it is back they are told so. Every watch error is handled the same way,
 * whatever its code: what the real client sees past CloudBase's listener limits is not pinned
 * down, and none of it is worth more than falling back and trying again later.
 */
import { QUEUE_STATE_ID, queueProgressFromRaw, type QueueProgress } from '../domain';
import { WATCH_TIMING, backoffDelay } from './backoff';
import { getBackend } from './index';
import { errText, type WatchHandle, type WatchSnapshot } from './types';

export interface QueueListener {
  onProgress(progress: QueueProgress): void;
  /** the feed broke (`true`: poll meanwhile) or came back (`false`) */
  onDown(down: boolean): void;
}

type Timer = ReturnType<typeof setTimeout>;

class QueueFeed {
  private readonly listeners = new Set<QueueListener>();
  private watch: WatchHandle | null = null;
  /** bumps on every (re)watch, so callbacks of a closed watch are ignored */
  private gen = 0;
  private errors = 0;
  private down = false;
  private latest: QueueProgress | null = null;
  private retryTimer: Timer | null = null;

  /** Follows the queue until the returned function is called. */
  subscribe(listener: QueueListener): () => void {
    this.listeners.add(listener);
    if (this.latest && !this.down) listener.onProgress(this.latest);
    if (this.down) listener.onDown(true);
    if (this.listeners.size === 1) this.open();
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.shut();
    };
  }

  get isDown(): boolean {
    return this.down;
  }

  private open(): void {
    const gen = ++this.gen;
    try {
      this.watch = getBackend().watchQueue({
        onChange: (snapshot) => {
          if (gen === this.gen) this.onSnapshot(snapshot);
        },
        onError: (err) => {
          if (gen === this.gen) this.onError(err);
        },
      });
    } catch (err) {
      this.watch = null;
      this.onError(err);
    }
  }

  private onSnapshot(snapshot: WatchSnapshot): void {
    const isState = (d: unknown) =>
      typeof d === 'object' && d !== null && (d as { _id?: unknown })._id === QUEUE_STATE_ID;
    const raw =
      snapshot.docs.find(isState) ??
      [...snapshot.docChanges].reverse().find((c) => c.dataType !== 'remove' && isState(c.doc))
        ?.doc;
    const progress = raw === undefined ? null : queueProgressFromRaw(raw);
    if (!progress) {
      // No document to place anyone by: this backend does not serve it (or not yet). The
      // function answers the position meanwhile.
      if (snapshot.type === 'init' || !this.latest) this.onError({ errMsg: 'queue not served' });
      return;
    }
    this.errors = 0;
    this.latest = progress;
    this.setDown(false);
    for (const l of [...this.listeners]) l.onProgress(progress);
  }

  private onError(err: unknown): void {
    if (this.listeners.size === 0) return;
    console.warn('[queue] watch error', errText(err));
    this.closeWatch();
    this.setDown(true);
    const delay = backoffDelay(this.errors++, WATCH_TIMING.rewatch);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.listeners.size > 0) this.open();
    }, delay);
  }

  private setDown(down: boolean): void {
    if (this.down === down) return;
    this.down = down;
    for (const l of [...this.listeners]) l.onDown(down);
  }

  private closeWatch(): void {
    this.gen++;
    const w = this.watch;
    this.watch = null;
    w?.close();
  }

  /** Nobody waits any more: no watch, no timer (the next subscriber starts afresh). */
  private shut(): void {
    this.closeWatch();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.errors = 0;
    this.down = false;
    this.latest = null;
  }
}

let feed: QueueFeed | null = null;

/** The one feed of this app instance. */
export function queueFeed(): QueueFeed {
  feed ??= new QueueFeed();
  return feed;
}

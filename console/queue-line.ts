/**
 * The queue as the console shows it: every waiting task in the order the dispatcher takes them
 * (`fairOrder`: oldest first, each user's first task before anyone's second), its place and the
 * wait the product's own rules give it (until a dispatcher runs, then its place at the drain rate),
 * next to what its user's page shows (`queuePosition`, from the ticket it got at submit). The
 * console knows the sweeper's timer, so "until a dispatcher runs" is the timer's next run, not the
 * period the sweeps measured. Pure: the console server hands everything in.
 */
import {
  DISPATCH_WINDOW,
  createStartMode,
  dispatcherActive,
  drainRate,
  fairOrder,
  queuePosition,
  type QueueState,
  type QueueTicket,
} from '../shared/queue';

export interface WaitingTask {
  id: string;
  openid: string;
  platform: string;
  createdAt: number;
  /** from when the dispatcher may take it (its submit, or after its create's own start) */
  nextDispatchAt: number | null;
  /** when it gives up waiting (submit + QUEUE_MAX_WAIT_S) */
  expiresAt: number | null;
  startAttempts: number;
  ticket: QueueTicket | null;
}

export interface QueuedTask extends WaitingTask {
  /** 1 is the next to start; null while its create's own start is under way */
  place: number | null;
  /** seconds until it starts, estimated; null when no sweep is coming (timers off, none running) */
  waitS: number | null;
  /** what its user's page shows (tasks ahead, the wait): from its ticket; null without one */
  page: { ahead: number; waitS: number } | null;
}

export interface QueueLineInput {
  tasks: WaitingTask[];
  state: QueueState;
  /** COZE_QPS: the rate the backend allows itself */
  cozeQps: number;
  /** the sweeper timer's next run; null when timers are off */
  sweeperAt: number | null;
  now: number;
}

export interface QueueLine {
  tasks: QueuedTask[];
  /** starts a second the estimates use: the measured drain rate, or COZE_QPS less the reads' share */
  drainRate: number;
  /** seconds until a dispatcher runs: 0 while one does; null when none is coming */
  untilDispatchS: number | null;
  /** how a create starts its run now (`createStartMode`) */
  createMode: 'direct' | 'slot' | 'queue';
  dispatching: boolean;
}

/** The dispatcher's order: fair within its window of the oldest, age order behind it. */
function dispatchOrder(ready: WaitingTask[]): WaitingTask[] {
  const byAge = [...ready].sort((a, b) => (a.nextDispatchAt ?? 0) - (b.nextDispatchAt ?? 0));
  const asQueued = (t: WaitingTask) => ({
    task: t,
    _openid: t.openid,
    next_dispatch_at: t.nextDispatchAt === null ? null : new Date(t.nextDispatchAt),
  });
  const head = fairOrder(byAge.slice(0, DISPATCH_WINDOW).map(asQueued)).map((q) => q.task);
  return [...head, ...byAge.slice(DISPATCH_WINDOW)];
}

export function queueLine(i: QueueLineInput): QueueLine {
  const now = new Date(i.now);
  const dispatching = dispatcherActive(i.state, now);
  const untilDispatchS = dispatching
    ? 0
    : i.sweeperAt !== null
      ? Math.max(0, i.sweeperAt - i.now) / 1000
      : null;
  const rate = drainRate(i.state, i.cozeQps);
  const ready = i.tasks.filter((t) => t.nextDispatchAt === null || t.nextDispatchAt <= i.now);
  const starting = i.tasks
    .filter((t) => t.nextDispatchAt !== null && t.nextDispatchAt > i.now)
    .sort((a, b) => a.nextDispatchAt! - b.nextDispatchAt!);
  const page = (t: WaitingTask) => (t.ticket ? queuePosition(t.ticket, i.state) : null);
  const placed = dispatchOrder(ready).map((t, ahead) => ({
    ...t,
    place: ahead + 1,
    waitS:
      untilDispatchS === null
        ? null
        : Math.ceil(untilDispatchS + (ahead + 1) / Math.max(rate, 0.01)),
    page: page(t),
  }));
  return {
    tasks: [...placed, ...starting.map((t) => ({ ...t, place: null, waitS: null, page: page(t) }))],
    drainRate: rate,
    untilDispatchS,
    createMode: createStartMode(i.state, now),
    dispatching,
  };
}

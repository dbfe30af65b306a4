/**
 * What happens next to a task nobody is calling back, from the sweeper's own rules
 * (cloudfunctions/_pipeline/dispatcher.ts): a waiting task is started by a sweep's dispatcher in
 * its turn (from `next_dispatch_at`), or gives up at `expires_at` (TOO_BUSY, no notice); a
 * processing task silent for RECONCILE_AFTER_S has its run history read, and one still running at
 * `expires_at` gets one last read, then times out. The sweeper looks only when its timer fires, so
 * each "due" time is paired with the timer's next run. Pure.
 */
import { ACTIVE_STATUSES, TaskStatus } from '../shared/status';

export interface NextLookInput {
  status: string;
  updatedAt: number | null;
  expiresAt: number | null;
  nextDispatchAt: number | null;
  /** null when the settings could not be read */
  reconcileAfterS: number | null;
  /** the sweeper timer's next run; null when timers are off */
  sweeperAt: number | null;
  /** the stand-in dropped this run's final callback: only the sweeper can finish the task */
  callbackDropped: boolean;
  /** a waiting task's place in the queue (1: next) and estimated wait (null: no sweep coming) */
  queue?: { place: number | null; waitS: number | null } | null;
}

export interface NextLook {
  title: string;
  detail: string;
  /** from when the sweeper acts (ms since epoch) */
  dueAt: number | null;
  /** when the sweeper's timer fires next; null when timers are off (run it from Drive it) */
  sweeperAt: number | null;
  /** when the task ends if nothing settles it, and how: it gives up waiting, or its run times out */
  expiresAt: number | null;
  endsAs: 'gives up waiting (TOO_BUSY, no notice)' | 'times out';
}

export function nextLook(i: NextLookInput): NextLook | null {
  if (!(ACTIVE_STATUSES as readonly string[]).includes(i.status)) return null;
  const common = { sweeperAt: i.sweeperAt, expiresAt: i.expiresAt };
  if (i.status === TaskStatus.Pending) {
    if (i.nextDispatchAt === null) return null;
    const place = i.queue?.place ?? null;
    const where =
      place === null
        ? 'its create is still making its own start; if that start did not go, the queue takes it over'
        : `place ${place} in the queue (${place - 1} ahead)${
            i.queue?.waitS != null ? `, about ${i.queue.waitS} s to its start` : ''
          }`;
    return {
      ...common,
      endsAs: 'gives up waiting (TOO_BUSY, no notice)',
      title: "waits in the queue: a sweep's dispatcher starts it in its turn",
      detail: `${where}; a refusal for rate puts it back at the head and is not an attempt`,
      dueAt: i.nextDispatchAt,
    };
  }
  const dueAt =
    i.updatedAt !== null && i.reconcileAfterS !== null
      ? i.updatedAt + i.reconcileAfterS * 1000
      : null;
  return {
    ...common,
    endsAs: 'times out',
    title: i.callbackDropped
      ? 'no callback will come: the sweeper reads the run history'
      : 'if no callback comes, the sweeper reads the run history',
    detail: `the sweeper looks at a processing task once it has been silent for RECONCILE_AFTER_S${
      i.reconcileAfterS !== null ? ` (${i.reconcileAfterS} s)` : ''
    }`,
    dueAt,
  };
}

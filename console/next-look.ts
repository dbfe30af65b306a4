/**
 * What happens next to a task nobody is calling back, from the sweeper's own rules
 * (cloudfunctions/taskSweeper/sweep.ts): a start that failed is retried once `next_dispatch_at`
 * has passed; a processing task silent for RECONCILE_AFTER_S has its run history read; anything
 * still active at `expires_at` gets one last history read, then times out. The sweeper looks only
 * when its timer fires, so each "due" time is paired with the timer's next run. Pure.
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
}

export interface NextLook {
  title: string;
  detail: string;
  /** from when the sweeper acts (ms since epoch) */
  dueAt: number | null;
  /** when the sweeper's timer fires next; null when timers are off (run it from Drive it) */
  sweeperAt: number | null;
  /** when the task times out if nothing settles it */
  expiresAt: number | null;
}

export function nextLook(i: NextLookInput): NextLook | null {
  if (!(ACTIVE_STATUSES as readonly string[]).includes(i.status)) return null;
  const common = { sweeperAt: i.sweeperAt, expiresAt: i.expiresAt };
  if (i.status === TaskStatus.Pending) {
    if (i.nextDispatchAt === null) return null;
    return {
      ...common,
      title: 'the sweeper starts the run again',
      detail:
        'the last start failed or got no answer; the sweeper retries it once its back-off ends',
      dueAt: i.nextDispatchAt,
    };
  }
  const dueAt =
    i.updatedAt !== null && i.reconcileAfterS !== null
      ? i.updatedAt + i.reconcileAfterS * 1000
      : null;
  return {
    ...common,
    title: i.callbackDropped
      ? 'no callback will come: the sweeper reads the run history'
      : 'if no callback comes, the sweeper reads the run history',
    detail: `the sweeper looks at a processing task once it has been silent for RECONCILE_AFTER_S${
      i.reconcileAfterS !== null ? ` (${i.reconcileAfterS} s)` : ''
    }`,
    dueAt,
  };
}

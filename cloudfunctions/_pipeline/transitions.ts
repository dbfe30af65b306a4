/**
 * The one way a task changes: an event, planned by the domain's transition table, written as one
 * compare-and-set that answers the task as written; a finishing event claims the task's notice in
 * that same write, and its writer sends it.
 */
import type { Config } from '../../shared/config';
import { describeError } from '../../shared/errors';
import { planTransition, type TaskEvent } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import type { TaskStore } from '../_adapters/database';
import type { Logger } from '../_adapters/log';
import { sendClaimedNotice, type NoticeDeps } from './notices';

export interface PipelineDeps extends NoticeDeps {
  store: TaskStore;
  config: Config;
  log: Logger;
  now(): Date;
}

/**
 * Writes one event. Answers the task as written when this writer won, null when the event changed
 * nothing (late, duplicate, out of order, or the task moved on). One round trip, plus the notice's
 * send when this write claimed it: whatever the notice step does, the transition stands (a send
 * that throws leaves its claim for the sweeper, which owns notice retries).
 */
export async function transition(
  deps: PipelineDeps,
  taskId: string,
  event: TaskEvent,
): Promise<TaskDoc | null> {
  const plan = planTransition(event, deps.now());
  const written = await deps.store.applyTransition(taskId, plan);
  deps.log.info('transition', {
    task: taskId,
    step: event.type,
    applied: written !== null,
    to: plan.set.status ?? null,
    source: 'source' in event ? event.source : null,
    executeId: event.type === 'dispatched' ? event.executeId : undefined,
  });
  if (written && plan.claimsNotice) {
    try {
      await sendClaimedNotice(deps, written);
    } catch (err) {
      deps.log.error('notice_step_failed', { task: taskId, detail: describeError(err) });
    }
  }
  return written;
}

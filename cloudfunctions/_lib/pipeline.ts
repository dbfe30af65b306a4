/**
 * The steps every function shares: start a run for a task, and finish a task from a finished run
 * (callback or run history), each written as the domain's compare-and-set, then the notice.
 */
import { hashCallbackToken } from '../../shared/signing';
import type { Config } from '../../shared/config';
import type { FinishedRun } from '../../shared/coze-workflow';
import { FAILURE_MESSAGES, describeError, failureFromProvider } from '../../shared/errors';
import {
  planTransition,
  type TaskEvent,
  type TransitionPlan,
  type From,
} from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import { CozeError, startFailureOf, type CozeClient } from '../_adapters/coze';
import { newCallbackToken } from './ids';
import type { Logger } from './log';
import { sendClaimedNotice, type NoticeDeps } from './notices';
import type { TaskStore } from './store';

export interface PipelineDeps extends NoticeDeps {
  store: TaskStore;
  config: Config;
  log: Logger;
  now(): Date;
}

/** One line per attempted transition: what the console's timeline and an operator read. */
function logTransition(
  deps: PipelineDeps,
  taskId: string,
  event: TaskEvent,
  plan: TransitionPlan,
  applied: boolean,
): void {
  deps.log.info('transition', {
    task: taskId,
    step: event.type,
    applied,
    to: plan.set.status ?? null,
    source: 'source' in event ? event.source : null,
    executeId: event.type === 'dispatched' ? event.executeId : undefined,
  });
}

/**
 * Writes one event as a compare-and-set. Answers the task as written when this writer won (the
 * read copy with the plan's fields: no second read), null when the event was stale.
 */
export async function applyEvent(
  deps: PipelineDeps,
  task: TaskDoc,
  event: TaskEvent,
): Promise<TaskDoc | null> {
  const plan = planTransition(event, deps.now());
  const won = await deps.store.applyTransition(task._id, plan);
  logTransition(deps, task._id, event, plan, won);
  return won ? { ...task, ...plan.set } : null;
}

/**
 * A final event: one compare-and-set that also claims the task's notice for this writer and
 * answers the task as written (the message needs it), then the send. Two round trips plus the send.
 */
export async function finishWith(
  deps: PipelineDeps,
  taskId: string,
  event: TaskEvent,
): Promise<TaskDoc | null> {
  const plan = planTransition(event, deps.now());
  const done = await deps.store.applyTransitionReturning(taskId, plan);
  logTransition(deps, taskId, event, plan, done !== null);
  if (done) await sendNoticeStep(deps, done);
  return done;
}

/**
 * The notice after a transition was written: whatever happens here, the transition stands and is
 * answered as written (a callback gets `processed`). A send that throws leaves the claim in place,
 * and the sweeper takes a claim over once it is stale: the sweeper owns notice retries.
 */
async function sendNoticeStep(deps: PipelineDeps, task: TaskDoc): Promise<void> {
  try {
    await sendClaimedNotice(deps, task);
  } catch (err) {
    deps.log.error('notice_step_failed', { task: task._id, detail: describeError(err) });
  }
}

/** A progress event by task id: the compare-and-set alone, one round trip. */
export async function progressTask(
  deps: PipelineDeps,
  taskId: string,
  progress: number,
  from: From,
): Promise<boolean> {
  const event: TaskEvent = { type: 'progress', progress, ...from };
  const plan = planTransition(event, deps.now());
  const won = await deps.store.applyTransition(taskId, plan);
  logTransition(deps, taskId, event, plan, won);
  return won;
}

/** Finishes a task as the run ended; true when this call made the final transition. */
export async function finishTask(
  deps: PipelineDeps,
  taskId: string,
  outcome: FinishedRun,
  from: From,
): Promise<boolean> {
  if (outcome.kind === 'completed') {
    return (
      (await finishWith(deps, taskId, { type: 'completed', result: outcome.result, ...from })) !==
      null
    );
  }
  const f = failureFromProvider(outcome.errorCode);
  const event: TaskEvent = {
    type: 'failed',
    errorCode: f.code,
    errorMessage: f.message,
    ...from,
  };
  return (await finishWith(deps, taskId, event)) !== null;
}

export type DispatchResult = 'dispatched' | 'maybe_started' | 'deferred' | 'failed';

/**
 * Starts the run, one attempt (the Coze client never sends a start twice). By what the failure
 * means (`startFailureOf`):
 * - Coze refused it for rate or load, or the request never left: the task stays pending for a
 *   later start (`deferred`);
 * - the request went out and no readable answer came (`maybe_started`): the task moves to
 *   processing with no known run, keeping this start's token, so the run's callbacks are accepted
 *   and name the run; the sweeper settles one that stays silent;
 * - an error no retry can fix (bad token, unpublished workflow, plan without async runs) fails it.
 * Answers the task as it now stands.
 */
export async function dispatchRun(
  deps: PipelineDeps & { coze: CozeClient },
  task: TaskDoc,
  callbackToken: string,
): Promise<{ result: DispatchResult; task: TaskDoc }> {
  try {
    const { executeId } = await deps.coze.startRun({
      // The normalized link, not the pasted text: nothing a user typed reaches the workflow's prompts.
      shareUrl: task.input_url,
      taskId: task._id,
      callbackUrl: deps.config.WEBHOOK_URL,
      callbackToken,
    });
    // Lost only to a callback that already moved the task on: the watch shows that state.
    const started = await applyEvent(deps, task, { type: 'dispatched', executeId });
    return { result: 'dispatched', task: started ?? task };
  } catch (err) {
    const failure = startFailureOf(err);
    deps.log.warn('dispatch_failed', {
      task: task._id,
      kind: err instanceof CozeError ? err.kind : 'error',
      failure,
      detail: describeError(err),
    });
    if (failure === 'not_started') return { result: 'deferred', task };
    if (failure === 'maybe_started') {
      const running = await applyEvent(deps, task, { type: 'dispatched', executeId: null });
      return { result: 'maybe_started', task: running ?? task };
    }
    const failed = await finishWith(deps, task._id, {
      type: 'failed',
      errorCode: 'UPSTREAM_UNAVAILABLE',
      errorMessage: FAILURE_MESSAGES.UPSTREAM_UNAVAILABLE,
      source: 'system',
    });
    return { result: 'failed', task: failed ?? task };
  }
}

/** A fresh token for a new run, and the hash the task keeps. */
export function mintCallbackToken(): { token: string; hash: string } {
  const token = newCallbackToken();
  return { token, hash: hashCallbackToken(token) };
}

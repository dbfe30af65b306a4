/**
 * The steps every function shares: start a run for a task, and finish a task from an outcome
 * (callback or run history), each written as the domain's compare-and-set, then the notice.
 */
import { hashCallbackToken } from '../../shared/callback';
import type { Config } from '../../shared/config';
import { FAILURE_MESSAGES, describeError, failureFromProvider } from '../../shared/errors';
import { planTransition, type EventSource, type TaskEvent } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import { CozeError, type RunState, type StartRunInput } from '../_adapters/coze';
import { newCallbackToken } from './ids';
import type { Logger } from './log';
import { deliverNotice, type NoticeDeps } from './notices';
import type { TaskStore } from './store';

export interface CozeApi {
  startRun(input: StartRunInput): Promise<{ executeId: string }>;
  getRun(executeId: string): Promise<RunState>;
}

export interface PipelineDeps extends NoticeDeps {
  store: TaskStore;
  config: Config;
  log: Logger;
  now(): Date;
}

/** Writes one event as a compare-and-set; true when it moved the task. */
export async function applyEvent(
  deps: PipelineDeps,
  taskId: string,
  event: TaskEvent,
): Promise<boolean> {
  const won = await deps.store.applyTransition(taskId, planTransition(event, deps.now()));
  deps.log.info('transition', { task: taskId, step: event.type, applied: won });
  return won;
}

/** After a task reached a final status: send its notice (once) from the fresh document. */
export async function afterFinish(deps: PipelineDeps, taskId: string): Promise<void> {
  const task = await deps.store.get(taskId);
  if (task) await deliverNotice(deps, task);
}

export type Outcome =
  | { kind: 'completed'; result: TaskDoc['result'] & object }
  | { kind: 'failed'; errorCode: string | undefined };

export function outcomeFromRun(run: RunState): Outcome | null {
  if (run.status === 'running') return null;
  if (run.status === 'success') return { kind: 'completed', result: run.output };
  return { kind: 'failed', errorCode: run.errorCode };
}

/** Finishes a task as the outcome says; true when this call made the final transition. */
export async function finishTask(
  deps: PipelineDeps,
  taskId: string,
  outcome: Outcome,
  source: EventSource,
): Promise<boolean> {
  const event: TaskEvent =
    outcome.kind === 'completed'
      ? { type: 'completed', result: outcome.result, source }
      : (() => {
          const f = failureFromProvider(outcome.errorCode);
          return { type: 'failed', errorCode: f.code, errorMessage: f.message, source } as const;
        })();
  const won = await applyEvent(deps, taskId, event);
  if (won) await afterFinish(deps, taskId);
  return won;
}

export type DispatchResult = 'dispatched' | 'deferred' | 'failed';

/**
 * Starts the run. A busy or slow Coze leaves the task pending for the sweeper; an error no retry
 * can fix (bad token, unpublished workflow, plan without async runs) fails it at once.
 */
export async function dispatchRun(
  deps: PipelineDeps & { coze: CozeApi },
  task: TaskDoc,
  callbackToken: string,
): Promise<DispatchResult> {
  try {
    const { executeId } = await deps.coze.startRun({
      // The normalized link, not the pasted text: nothing a user typed reaches the workflow's prompts.
      shareText: task.input_url,
      taskId: task._id,
      callbackUrl: deps.config.WEBHOOK_URL,
      callbackToken,
    });
    await applyEvent(deps, task._id, { type: 'dispatched', executeId });
    return 'dispatched';
  } catch (err) {
    const cozeError = err instanceof CozeError ? err : null;
    const retryable = cozeError ? cozeError.retryable : true;
    deps.log.warn('dispatch_failed', {
      task: task._id,
      kind: cozeError ? cozeError.kind : 'error',
      retryable,
      detail: describeError(err),
    });
    if (retryable) return 'deferred';
    const won = await applyEvent(deps, task._id, {
      type: 'failed',
      errorCode: 'UPSTREAM_UNAVAILABLE',
      errorMessage: FAILURE_MESSAGES.UPSTREAM_UNAVAILABLE,
      source: 'system',
    });
    if (won) await afterFinish(deps, task._id);
    return 'failed';
  }
}

/** A fresh token for a new run, and the hash the task keeps. */
export function mintCallbackToken(): { token: string; hash: string } {
  const token = newCallbackToken();
  return { token, hash: hashCallbackToken(token) };
}

/**
 * Starting a task's run: one attempt, never repeated by the client (a second start of a run that
 * may be going is a second paid run), and the task written as what the attempt means.
 */
import { describeError } from '../../shared/errors';
import { failureEvent } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import { CozeError, startFailureOf, type CozeClient } from '../_adapters/coze';
import { mintCallbackToken } from '../_adapters/ids';
import { transition, type PipelineDeps } from './transitions';

export interface StartDeps extends PipelineDeps {
  coze: CozeClient;
}

/**
 * What became of a start:
 * - `started`: Coze answered with the run; the task is processing with its run and timeout;
 * - `maybe_started`: the request went out and no readable answer came: the task is processing
 *   with no known run, keeping this start's token, so the run's callbacks are accepted and name
 *   it; the sweeper settles a silent one;
 * - `not_started`: Coze refused it for rate or load, or it never left: nothing ran, nothing is
 *   written, the task waits in the queue (it is not an attempt);
 * - `refused`: an answer no retry can change (bad token, unpublished workflow): the task failed.
 */
export type StartOutcome = 'started' | 'maybe_started' | 'not_started' | 'refused';

/**
 * Starts the task's run. `token` is the run's token when the task already holds its hash (the
 * create path minted it with the task); otherwise a fresh one is minted and written with the start.
 * Answers the outcome and the task as it now stands (as read, when nothing was written or another
 * writer, a callback, moved it first).
 */
export async function startTask(
  deps: StartDeps,
  task: TaskDoc,
  token: { token: string; hash: string } = mintCallbackToken(),
): Promise<{ outcome: StartOutcome; task: TaskDoc }> {
  const dispatched = (executeId: string | null) =>
    transition(deps, task._id, {
      type: 'dispatched',
      executeId,
      tokenHash: token.hash,
      seenTokenHash: task.callback_token_hash,
      seenAttempts: task.start_attempts,
      runTimeoutS: deps.config.TASK_TIMEOUT_S,
    });
  try {
    const { executeId } = await deps.coze.startRun({
      // The normalized link, not the pasted text: nothing a user typed reaches the workflow's prompts.
      shareUrl: task.input_url,
      taskId: task._id,
      callbackUrl: deps.config.WEBHOOK_URL,
      callbackToken: token.token,
    });
    return { outcome: 'started', task: (await dispatched(executeId)) ?? task };
  } catch (err) {
    const failure = startFailureOf(err);
    deps.log.warn('start_failed', {
      task: task._id,
      kind: err instanceof CozeError ? err.kind : 'error',
      failure,
      detail: describeError(err),
    });
    if (failure === 'not_started') return { outcome: 'not_started', task };
    if (failure === 'maybe_started') {
      return { outcome: 'maybe_started', task: (await dispatched(null)) ?? task };
    }
    const failed = await transition(
      deps,
      task._id,
      failureEvent('UPSTREAM_UNAVAILABLE', { source: 'system' }),
    );
    return { outcome: 'refused', task: failed ?? task };
  }
}

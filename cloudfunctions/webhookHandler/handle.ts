/**
 * The callback the Coze workflow posts when it makes progress or finishes:
 * size → signature → body → task and its token → dedupe → compare-and-set → notice.
 * Answers per the contract; never a 5xx for bad input, never an echo of what was sent.
 */
import {
  MAX_CALLBACK_BYTES,
  parseCallbackBody,
  tokensMatch,
  verifyCallback,
  type CallbackBody,
} from '../../shared/callback';
import { webhookSecrets } from '../../shared/config';
import { describeError } from '../../shared/errors';
import { json, lowerCaseHeaders, rawBody, type HttpAnswer, type HttpEvent } from '../_lib/http';
import { applyEvent, finishTask, type PipelineDeps } from '../_lib/pipeline';
import type { WebhookEventStore } from '../_lib/store';
import type { TaskDoc } from '../../shared/task';

export interface WebhookDeps extends PipelineDeps {
  events: WebhookEventStore;
}

/** What became of a callback (the answer's `outcome`). */
type CallbackVerdict = 'processed' | 'duplicate' | 'stale';

const refuse = (statusCode: number, code: string, message: string) =>
  json(statusCode, { ok: false, error: { code, message } });

export async function handleCallback(deps: WebhookDeps, event: HttpEvent): Promise<HttpAnswer> {
  const { log } = deps;
  if ((event.httpMethod ?? 'POST').toUpperCase() !== 'POST') {
    return refuse(405, 'METHOD_NOT_ALLOWED', 'POST only');
  }
  const raw = rawBody(event);
  if (raw.length > MAX_CALLBACK_BYTES) return refuse(413, 'TOO_LARGE', 'body over 1 MiB');

  const headers = lowerCaseHeaders(event);
  // Logged with every outcome so a delivery can be followed; an id, never a header value that signs.
  const webhookId = headers['webhook-id'] ?? '';
  const nowS = Math.floor(deps.now().getTime() / 1000);
  const verified = verifyCallback(webhookSecrets(deps.config), headers, raw, nowS);
  if (!verified.ok) {
    log.warn('callback_refused', { reason: verified.reason, webhookId });
    return refuse(401, 'UNAUTHORIZED', 'signature or timestamp not accepted');
  }
  const parsed = parseCallbackBody(raw.toString('utf8'));
  if (!parsed.ok) {
    log.warn('callback_malformed', { issues: parsed.issues, webhookId });
    return refuse(400, 'MALFORMED', 'body does not match the callback schema');
  }
  const body = parsed.body;
  const taskId = body.data.task_id;
  if (parsed.adjusted.length > 0) {
    log.warn('callback_output_adjusted', { task: taskId, fields: parsed.adjusted.join(',') });
  }

  const task = await deps.store.get(taskId);
  if (!task) {
    log.warn('callback_unknown_task', { task: taskId, webhookId });
    return refuse(404, 'NOT_FOUND', 'unknown task');
  }
  if (!tokensMatch(body.data.callback_token, task.callback_token_hash)) {
    log.warn('callback_bad_token', { task: taskId, webhookId });
    return refuse(401, 'UNAUTHORIZED', 'callback token not accepted');
  }

  // Applied before the delivery is recorded: every write is a compare-and-set, so applying a
  // duplicate changes nothing, and an instance that dies in between loses no redelivery.
  let outcome: CallbackVerdict;
  try {
    outcome = await apply(deps, task, body);
  } catch (err) {
    log.error('callback_failed', { task: taskId, detail: describeError(err) });
    return refuse(503, 'UNAVAILABLE', 'try again later');
  }
  const fresh = await deps.events
    .record(webhookId, { task_id: taskId, type: body.type, received_at: deps.now() })
    .catch((err: unknown) => {
      // The change is written; only the dedupe record is missing, and re-applying is harmless.
      log.warn('callback_record_failed', { task: taskId, detail: describeError(err) });
      return true;
    });
  // A racing copy may have recorded the id first; the one whose write won still says so.
  const final = fresh || outcome === 'processed' ? outcome : 'duplicate';
  return answer(deps, taskId, final, body.type, webhookId);
}

function answer(
  deps: WebhookDeps,
  taskId: string,
  outcome: CallbackVerdict,
  type: string,
  webhookId: string,
): HttpAnswer {
  deps.log.info('callback', { task: taskId, type, outcome, webhookId });
  return json(200, { ok: true, outcome });
}

async function apply(
  deps: WebhookDeps,
  task: TaskDoc,
  body: CallbackBody,
): Promise<CallbackVerdict> {
  const { data } = body;
  const knownExecuteId = task.coze_execute_id;
  // The callback may come before extractText stored the execute id: compare only when both exist.
  if (knownExecuteId && data.execute_id && data.execute_id !== knownExecuteId) return 'stale';

  switch (body.type) {
    case 'workflow.execution.progress': {
      const won = await applyEvent(deps, task, {
        type: 'progress',
        progress: data.progress ?? 0,
        source: 'callback',
      });
      return won ? 'processed' : 'stale';
    }
    case 'workflow.execution.completed': {
      const output = data.output ?? { title: '', content: '', cover: '', video_url: '' };
      const won = await finishTask(deps, task, { kind: 'completed', result: output }, 'callback');
      return won ? 'processed' : 'stale';
    }
    case 'workflow.execution.failed': {
      const won = await finishTask(
        deps,
        task,
        { kind: 'failed', errorCode: data.error?.code },
        'callback',
      );
      return won ? 'processed' : 'stale';
    }
  }
}

/**
 * The callback the Coze workflow posts when it makes progress or finishes:
 * size → signature → body → one compare-and-set that checks the task's token → notice.
 * Answers per the contract; never a 5xx for bad input, never an echo of what was sent.
 */
import { MAX_CALLBACK_BYTES, eventFromCallback, parseCallbackBody } from '../../shared/callback';
import { hashCallbackToken, tokensMatch, verifyCallback } from '../../shared/signing';
import { webhookSecrets } from '../../shared/config';
import { describeError } from '../../shared/errors';
import type { CallbackProof } from '../../shared/status';
import {
  json,
  lowerCaseHeaders,
  rawBody,
  type HttpAnswer,
  type HttpEvent,
} from '../_adapters/http';
import { transition, type PipelineDeps } from '../_pipeline/transitions';

export type WebhookDeps = PipelineDeps;

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
  // The token, the run and the progress are checked inside the one compare-and-set: no read on
  // the usual path. Only a refusal reads the task, to say why (404, 401, duplicate or stale).
  const proof: CallbackProof = {
    tokenHash: hashCallbackToken(body.data.callback_token),
    executeId: body.data.execute_id || null,
    deliveryId: webhookId,
  };
  let applied = false;
  try {
    // An empty token never matches (the refusal below answers 401).
    if (body.data.callback_token) {
      applied = (await transition(deps, taskId, eventFromCallback(body, proof))) !== null;
    }
  } catch (err) {
    log.error('callback_failed', { task: taskId, detail: describeError(err), webhookId });
    return refuse(503, 'UNAVAILABLE', 'try again later');
  }
  if (applied) return answer(deps, taskId, 'processed', body.type, webhookId);

  const task = await deps.store.get(taskId);
  if (!task) {
    log.warn('callback_unknown_task', { task: taskId, webhookId });
    return refuse(404, 'NOT_FOUND', 'unknown task');
  }
  if (!tokensMatch(body.data.callback_token, task.callback_token_hash)) {
    log.warn('callback_bad_token', { task: taskId, webhookId });
    return refuse(401, 'UNAUTHORIZED', 'callback token not accepted');
  }
  // Every write is a compare-and-set, so a redelivery changed nothing: the task's remembered
  // delivery ids only tell a redelivery (duplicate) from an event the task has moved past (stale).
  if (task.callback_ids.includes(webhookId))
    return answer(deps, taskId, 'duplicate', body.type, webhookId);
  await deps.store.rememberDelivery(taskId, webhookId).catch((err: unknown) => {
    // Only the `duplicate` answer of a later redelivery depends on it; nothing was changed.
    log.warn('callback_remember_failed', { task: taskId, detail: describeError(err) });
  });
  return answer(deps, taskId, 'stale', body.type, webhookId);
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

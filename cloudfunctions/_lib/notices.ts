/**
 * The task's one subscription notice. A sender first claims it with a compare-and-set, so
 * duplicate callbacks, the sweeper and a racing webhook never send twice; a sender that dies
 * after claiming leaves a stale claim the sweeper takes over.
 */
import { buildNotice, parseTemplateKeys, type NoticeTemplate } from '../../shared/notice';
import { PLATFORM_LABELS } from '../../shared/share-text';
import { TaskStatus } from '../../shared/status';
import type { NoticeState, TaskDoc } from '../../shared/task';
import type { Config } from '../../shared/config';
import { describeError } from '../../shared/errors';
import type { Logger } from './log';
import type { TaskStore } from './store';

/** WeChat answers that retrying cannot fix: no grant left, bad argument, bad user or template. */
const FINAL_SEND_ERRORS = new Set([43101, 47003, 40003, 40037, 41030]);
export const MAX_NOTICE_ATTEMPTS = 3;

export interface NoticeDeps {
  store: TaskStore;
  send(message: object): Promise<unknown>;
  config: Config;
  log: Logger;
  now(): Date;
}

/** What one delivery attempt did with the task's notice. */
export type NoticeDelivery = 'sent' | 'skipped' | 'not_claimed' | 'failed' | 'retry_later';

export function templatesFromConfig(config: Config): {
  success: NoticeTemplate | null;
  failure: NoticeTemplate | null;
} {
  return {
    success: config.SUBSCRIBE_TEMPLATE_SUCCESS_ID
      ? {
          id: config.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
          keys: parseTemplateKeys(config.SUBSCRIBE_SUCCESS_KEYS),
        }
      : null,
    failure: config.SUBSCRIBE_TEMPLATE_FAILURE_ID
      ? {
          id: config.SUBSCRIBE_TEMPLATE_FAILURE_ID,
          keys: parseTemplateKeys(config.SUBSCRIBE_FAILURE_KEYS),
        }
      : null,
  };
}

function sendErrorCode(err: unknown): number | undefined {
  const code = (err as { errCode?: unknown })?.errCode;
  return typeof code === 'number' ? code : undefined;
}

export async function deliverNotice(deps: NoticeDeps, task: TaskDoc): Promise<NoticeDelivery> {
  const { store, config, log } = deps;
  const now = deps.now();
  const kind =
    task.status === TaskStatus.Completed
      ? 'success'
      : task.status === TaskStatus.Failed || task.status === TaskStatus.Timeout
        ? 'failure'
        : null;
  const template = kind ? templatesFromConfig(config)[kind] : null;
  const accepted = kind === 'success' ? task.subscribed.success : task.subscribed.failure;
  // Cancelled (the user asked), no template configured, or not accepted: nothing to send.
  if (!kind || !template || !accepted) {
    await store.skipNotice(task._id, now);
    return 'skipped';
  }
  const staleBefore = new Date(now.getTime() - config.NOTICE_CLAIM_STALE_S * 1000);
  if (!(await store.claimNotice(task._id, now, staleBefore))) return 'not_claimed';

  const message = buildNotice(template, {
    kind,
    taskId: task._id,
    openid: task._openid,
    title: task.result?.title || `${PLATFORM_LABELS[task.platform]}视频`,
    reason: task.error_message ?? undefined,
    finishedAt: task.completed_at ?? now,
    miniprogramState: config.MINIPROGRAM_STATE,
  });
  try {
    await deps.send(message);
    await store.finishNotice(task._id, now, {
      notification_state: 'sent' satisfies NoticeState,
      notification_sent: true,
      notification_error: null,
      notification_attempts: task.notification_attempts + 1,
      updated_at: deps.now(),
    });
    // WeChat answered errcode 0 (the SDK throws on any other).
    log.info('notice_sent', { task: task._id, kind, code: 0, templateId: template.id });
    return 'sent';
  } catch (err) {
    const code = sendErrorCode(err);
    const attempts = task.notification_attempts + 1;
    const final =
      (code !== undefined && FINAL_SEND_ERRORS.has(code)) || attempts >= MAX_NOTICE_ATTEMPTS;
    await store.finishNotice(task._id, now, {
      notification_state: (final ? 'failed' : 'none') satisfies NoticeState,
      notification_error: code !== undefined ? `errCode ${code}` : describeError(err).slice(0, 200),
      notification_attempts: attempts,
      updated_at: deps.now(),
    });
    log.warn('notice_failed', { task: task._id, kind, code: code ?? null, final, attempts });
    return final ? 'failed' : 'retry_later';
  }
}

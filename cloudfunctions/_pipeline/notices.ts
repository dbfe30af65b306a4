/**
 * The task's one subscription notice, by the table in `shared/notice-state.ts`. The transition
 * that finishes a task claims its notice in the same compare-and-set, so the finisher sends it
 * with no further claim, and duplicate callbacks, the sweeper and a racing webhook never send
 * twice; a sender that dies after claiming leaves a stale claim the sweeper takes over.
 */
import { buildNotice, type NoticeTemplate } from '../../shared/notice';
import { fallbackTitle } from '../../shared/share-text';
import { TaskStatus, planFinishedNotice } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import { NOTICE_SEND_TIMEOUT_MS, type Config } from '../../shared/config';
import { NoticeState, type NoticeEvent } from '../../shared/notice-state';
import { describeError } from '../../shared/errors';
import type { TaskStore } from '../_adapters/database';
import type { Logger } from '../_adapters/log';

/** WeChat answers that retrying cannot fix: no grant left, bad argument, bad user or template. */
const FINAL_SEND_ERRORS = new Set([43101, 47003, 40003, 40037, 41030]);
const MAX_NOTICE_ATTEMPTS = 3;

export interface NoticeDeps {
  store: TaskStore;
  send(message: object): Promise<unknown>;
  config: Config;
  log: Logger;
  now(): Date;
}

/** What one delivery attempt did with the task's notice. */
export type NoticeDelivery = 'sent' | 'skipped' | 'not_claimed' | 'failed' | 'retry_later';

/** The two templates; their keyword lists were parsed (and checked) with the config at cold start. */
function templatesFromConfig(config: Config): {
  success: NoticeTemplate | null;
  failure: NoticeTemplate | null;
} {
  return {
    success: config.SUBSCRIBE_TEMPLATE_SUCCESS_ID
      ? {
          id: config.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
          keys: config.SUBSCRIBE_SUCCESS_KEYS,
        }
      : null,
    failure: config.SUBSCRIBE_TEMPLATE_FAILURE_ID
      ? {
          id: config.SUBSCRIBE_TEMPLATE_FAILURE_ID,
          keys: config.SUBSCRIBE_FAILURE_KEYS,
        }
      : null,
  };
}

function sendErrorCode(err: unknown): number | undefined {
  const code = (err as { errCode?: unknown })?.errCode;
  return typeof code === 'number' ? code : undefined;
}

type Wanted = { kind: 'success' | 'failure'; template: NoticeTemplate } | null;

/** What this finished task's notice would be, or null: cancelled, no template, not accepted. */
function wantedNotice(config: Config, task: TaskDoc): Wanted {
  const kind =
    task.status === TaskStatus.Completed
      ? 'success'
      : task.status === TaskStatus.Failed || task.status === TaskStatus.Timeout
        ? 'failure'
        : null;
  if (!kind) return null;
  const template = templatesFromConfig(config)[kind];
  const accepted = kind === 'success' ? task.subscribed.success : task.subscribed.failure;
  return template && accepted ? { kind, template } : null;
}

function sendWithin<T>(send: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`send timed out after ${ms} ms`)), ms);
  });
  return Promise.race([send, timeout]).finally(() => clearTimeout(timer));
}

async function write(deps: NoticeDeps, task: TaskDoc, event: NoticeEvent): Promise<boolean> {
  const plan = planFinishedNotice(event, deps.now());
  return plan ? deps.store.applyNotice(task._id, plan) : false;
}

/**
 * Sends the notice of a task this caller holds the claim of (`notification_claimed_at` is the
 * claim): the finishing transition's winner, or the sweeper after its own claim.
 */
export async function sendClaimedNotice(deps: NoticeDeps, task: TaskDoc): Promise<NoticeDelivery> {
  const { config, log } = deps;
  const claimedAt = task.notification_claimed_at;
  if (task.notification_state !== NoticeState.Claimed || !claimedAt) return 'not_claimed';
  const wanted = wantedNotice(config, task);
  if (!wanted) {
    await write(deps, task, {
      type: 'skipped',
      seen: { state: NoticeState.Claimed, claimedAt },
    });
    return 'skipped';
  }
  const message = buildNotice(wanted.template, {
    kind: wanted.kind,
    taskId: task._id,
    openid: task._openid,
    // The video's name as the page and the history show it: the result's title, else the share
    // text's caption (never a bare 抖音视频 when the share text named it).
    title: task.result?.title.trim() || fallbackTitle(task.platform, task.caption),
    // The code: the notice has its own words for it, written to fit the keyword.
    reason: task.error_code ?? task.error_message ?? undefined,
    finishedAt: task.completed_at ?? claimedAt,
    miniprogramState: config.MINIPROGRAM_STATE,
  });
  const attempts = task.notification_attempts + 1;
  try {
    // Bounded, so a live sender's claim always ends well before NOTICE_CLAIM_STALE_S.
    await sendWithin(deps.send(message), NOTICE_SEND_TIMEOUT_MS);
  } catch (err) {
    const code = sendErrorCode(err);
    const final =
      (code !== undefined && FINAL_SEND_ERRORS.has(code)) || attempts >= MAX_NOTICE_ATTEMPTS;
    const error = code !== undefined ? `errCode ${code}` : describeError(err).slice(0, 200);
    await write(deps, task, {
      type: final ? 'gave_up' : 'retry_later',
      claimedAt,
      attempts,
      error,
    });
    log.warn('notice_failed', {
      task: task._id,
      kind: wanted.kind,
      code: code ?? null,
      templateId: wanted.template.id,
      final,
      attempts,
    });
    return final ? 'failed' : 'retry_later';
  }
  await write(deps, task, { type: 'sent', claimedAt, attempts });
  // WeChat answered errcode 0 (the SDK throws on any other).
  log.info('notice_sent', {
    task: task._id,
    kind: wanted.kind,
    code: 0,
    templateId: wanted.template.id,
  });
  return 'sent';
}

/**
 * The sweeper's way: a finished task whose notice is unclaimed (a send to try again) or claimed
 * by a sender that died. Claims it by compare-and-set on what was read, then sends.
 */
export async function deliverNotice(deps: NoticeDeps, task: TaskDoc): Promise<NoticeDelivery> {
  const now = deps.now();
  const seen = { state: task.notification_state, claimedAt: task.notification_claimed_at };
  if (seen.state === NoticeState.None && !wantedNotice(deps.config, task)) {
    // Nothing to send: settled straight from `none`, no claim needed.
    return (await write(deps, task, { type: 'skipped', seen })) ? 'skipped' : 'not_claimed';
  }
  const staleBefore = new Date(now.getTime() - deps.config.NOTICE_CLAIM_STALE_S * 1000);
  const plan = planFinishedNotice({ type: 'claimed', seen, staleBefore }, now);
  if (!plan || !(await deps.store.applyNotice(task._id, plan))) return 'not_claimed';
  return sendClaimedNotice(deps, { ...task, ...plan.set });
}

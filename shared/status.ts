/**
 * The task status machine. This file is the only place that spells a status string; everything
 * else imports `TaskStatus` and asks `planTransition` what a given event may change.
 *
 * Each plan is written as one compare-and-set:
 *   where({ _id, status: in(plan.allowedFrom), ...guards }).update(plan.set)
 * so a late, duplicate or out-of-order event can never move a task backwards. A plan is branded:
 * only `planTransition` makes one, and the store writes a status or notice state from nothing else.
 */
import { NOTICE_TRANSITIONS, NoticeState, noticeOnFinish, type NoticePatch } from './notice-state';

import type { TaskResult } from './result';
import { snippetOf } from './snippet';

export const TaskStatus = {
  Pending: 'pending',
  Processing: 'processing',
  Completed: 'completed',
  Failed: 'failed',
  Timeout: 'timeout',
  Cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const TASK_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);
export const TERMINAL_STATUSES: readonly TaskStatus[] = [
  TaskStatus.Completed,
  TaskStatus.Failed,
  TaskStatus.Timeout,
  TaskStatus.Cancelled,
];
export const ACTIVE_STATUSES: readonly TaskStatus[] = [TaskStatus.Pending, TaskStatus.Processing];

/**
 * Terminal statuses are final, so a retry is a new task from the same link: allowed after a
 * failure, a timeout or a cancel, never after a completion (the text is there) or while active.
 */
export const RETRYABLE_STATUSES: readonly TaskStatus[] = [
  TaskStatus.Failed,
  TaskStatus.Timeout,
  TaskStatus.Cancelled,
];
export function canRetry(status: TaskStatus): boolean {
  return RETRYABLE_STATUSES.includes(status);
}

/** Dispatch retries the sweeper may make after the first start attempt failed. */
export const MAX_DISPATCH_RETRIES = 2;

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Where an event came from: a signed callback, the run history (sweeper), the user, the system. */
export type EventSource = 'callback' | 'history' | 'user' | 'system';

/**
 * What a signed callback proves, checked inside the compare-and-set itself (no read first): the
 * hash of the per-task token it carried, the run it names, and its delivery id (`webhook-id`).
 */
export interface CallbackProof {
  tokenHash: string;
  /** null when the callback names no run */
  executeId: string | null;
  deliveryId: string;
}

/** A callback event carries its proof; an event read from history or made by the system does not. */
export type From =
  { source: 'callback'; callback: CallbackProof } | { source: Exclude<EventSource, 'callback'> };

export type TaskEvent =
  /** the run started; `executeId` null: the start may have reached Coze but no answer said so */
  | { type: 'dispatched'; executeId: string | null }
  | {
      type: 'dispatch_retried';
      retryCount: number;
      nextAttemptAt: Date | null;
      /** a new run gets a new callback token; only its hash is stored */
      callbackTokenHash: string;
    }
  | ({ type: 'progress'; progress: number } & From)
  | ({ type: 'completed'; result: TaskResult } & From)
  | ({ type: 'failed'; errorCode: string; errorMessage: string } & From)
  | { type: 'timed_out'; errorCode: string; errorMessage: string }
  | { type: 'cancelled'; errorCode: string; errorMessage: string };

export type TaskEventType = TaskEvent['type'];

type NoticeRow = 'claimed' | 'skipped';

/**
 * The one transition table: which statuses each event may leave from, where it lands (`null` =
 * the status stays), and which notice row it takes in the same write (a finish claims the notice
 * for its sender; a cancel skips it).
 */
export const TRANSITIONS = {
  // The run started; a callback may already have moved the task to processing (it can arrive
  // before extractText stored the execute id), so processing is allowed too.
  dispatched: {
    from: [TaskStatus.Pending, TaskStatus.Processing],
    to: TaskStatus.Processing,
    notice: null,
  },
  // A new start attempt is claimed by the sweeper: a pending task whose start failed, or a
  // processing one running without a known run. The status stays.
  dispatch_retried: {
    from: [TaskStatus.Pending, TaskStatus.Processing],
    to: null,
    notice: null,
  },
  progress: {
    from: [TaskStatus.Pending, TaskStatus.Processing],
    to: TaskStatus.Processing,
    notice: null,
  },
  completed: { from: ACTIVE_STATUSES, to: TaskStatus.Completed, notice: 'claimed' },
  failed: { from: ACTIVE_STATUSES, to: TaskStatus.Failed, notice: 'claimed' },
  timed_out: { from: ACTIVE_STATUSES, to: TaskStatus.Timeout, notice: 'claimed' },
  cancelled: { from: ACTIVE_STATUSES, to: TaskStatus.Cancelled, notice: 'skipped' },
} as const satisfies Record<
  TaskEventType,
  { from: readonly TaskStatus[]; to: TaskStatus | null; notice: NoticeRow | null }
>;

/** Extra conditions the compare-and-set must match besides the status. */
export interface TransitionGuard {
  /** the stored progress must be strictly below this (progress never decreases) */
  progressBelow?: number;
  /** the stored retry_count must equal this (one claim per retry) */
  retryCount?: number;
  /** the stored execute id must be one of these (null: none known yet) */
  executeIdIn?: readonly (string | null)[];
  /** the stored callback token hash must equal this (a callback's proof) */
  tokenHash?: string;
  /** the stored notice state must be this (the notice row's `from`) */
  noticeIs?: NoticeState;
}

/** Fields a transition may write. Timestamps are Dates; adapters store them as they are. */
export interface TaskPatch extends Partial<Omit<NoticePatch, 'updated_at'>> {
  status?: TaskStatus;
  progress?: number;
  coze_execute_id?: string;
  result?: TaskResult;
  /** the transcript's opening, for the history list (written with the result) */
  snippet?: string | null;
  error_code?: string | null;
  error_message?: string | null;
  retry_count?: number;
  callback_token_hash?: string;
  next_dispatch_at?: Date | null;
  webhook_received?: boolean;
  last_callback_at?: Date;
  started_at?: Date;
  completed_at?: Date;
  updated_at: Date;
}

/** How many callback delivery ids a task remembers, to answer a redelivery as `duplicate`. */
export const REMEMBERED_DELIVERIES = 8;

declare const planned: unique symbol;

export interface TransitionPlan {
  readonly [planned]: true;
  readonly event: TaskEventType;
  readonly allowedFrom: readonly TaskStatus[];
  readonly guard: TransitionGuard;
  readonly set: TaskPatch;
  /** a delivery id to append to the task's remembered ones (bounded by REMEMBERED_DELIVERIES) */
  readonly rememberDelivery?: string;
}

export function clampProgress(p: number): number {
  if (!Number.isFinite(p)) return 0;
  return Math.min(100, Math.max(0, Math.round(p)));
}

/** The guard and fields a callback's proof adds: token check, run check, run id learned. */
function callbackParts(event: From, now: Date) {
  if (event.source !== 'callback') return { guard: {}, set: {} };
  const { tokenHash, executeId } = event.callback;
  return {
    guard: {
      tokenHash,
      // A callback may come before the start answer stored the run's id: then it stores it.
      ...(executeId ? { executeIdIn: [null, executeId] } : {}),
    } satisfies TransitionGuard,
    set: {
      webhook_received: true,
      last_callback_at: now,
      ...(executeId ? { coze_execute_id: executeId } : {}),
    } satisfies Partial<TaskPatch>,
    rememberDelivery: event.callback.deliveryId,
  };
}

/** Turns an event into the compare-and-set an adapter writes. Pure: `now` is passed in. */
export function planTransition(event: TaskEvent, now: Date): TransitionPlan {
  const row = TRANSITIONS[event.type];
  // Target status and notice fields come from the table, never spelled again per case.
  const status: Pick<TaskPatch, 'status'> = row.to ? { status: row.to } : {};
  const notice = row.notice ? noticeOnFinish(row.notice, now) : {};
  const noticeGuard: TransitionGuard = row.notice
    ? { noticeIs: NOTICE_TRANSITIONS[row.notice].from[0] }
    : {};
  const plan = (
    guard: TransitionGuard,
    fields: Omit<TaskPatch, 'status' | 'updated_at'>,
    rememberDelivery?: string,
  ) =>
    ({
      event: event.type,
      allowedFrom: row.from,
      guard: { ...guard, ...noticeGuard },
      set: { ...fields, ...notice, ...status, updated_at: now },
      ...(rememberDelivery ? { rememberDelivery } : {}),
    }) as TransitionPlan;

  switch (event.type) {
    case 'dispatched':
      // A start of unknown outcome keeps the task's token (its run's callbacks are accepted and
      // teach it the run) and lets the sweeper settle a silent one; it is never started blind again.
      return event.executeId === null
        ? plan({ executeIdIn: [null] }, { started_at: now, next_dispatch_at: null })
        : plan(
            { executeIdIn: [null, event.executeId] },
            { coze_execute_id: event.executeId, started_at: now, next_dispatch_at: null },
          );
    case 'dispatch_retried':
      // Only a task with no known run is started again: one with a run is read from history.
      return plan(
        { retryCount: event.retryCount, executeIdIn: [null] },
        {
          retry_count: event.retryCount + 1,
          callback_token_hash: event.callbackTokenHash,
          next_dispatch_at: event.nextAttemptAt,
        },
      );
    case 'progress': {
      // Progress 100 only comes with completion; a progress event tops out at 99.
      const progress = Math.min(99, clampProgress(event.progress));
      const cb = callbackParts(event, now);
      return plan(
        { progressBelow: progress, ...cb.guard },
        { progress, ...cb.set },
        cb.rememberDelivery,
      );
    }
    case 'completed': {
      const cb = callbackParts(event, now);
      return plan(
        cb.guard,
        {
          progress: 100,
          result: event.result,
          snippet: snippetOf(event.result.content),
          error_code: null,
          error_message: null,
          completed_at: now,
          next_dispatch_at: null,
          ...cb.set,
        },
        cb.rememberDelivery,
      );
    }
    case 'failed': {
      const cb = callbackParts(event, now);
      return plan(
        cb.guard,
        {
          error_code: event.errorCode,
          error_message: event.errorMessage,
          completed_at: now,
          next_dispatch_at: null,
          ...cb.set,
        },
        cb.rememberDelivery,
      );
    }
    case 'timed_out':
    case 'cancelled':
      return plan(
        {},
        {
          error_code: event.errorCode,
          error_message: event.errorMessage,
          completed_at: now,
          next_dispatch_at: null,
        },
      );
  }
}

/** The state a compare-and-set reads: the fields the guards look at. */
export interface TransitionState {
  status: TaskStatus;
  progress: number;
  retry_count: number;
  coze_execute_id: string | null;
  callback_token_hash: string;
  notification_state: NoticeState;
}

/** Would `plan` apply to a task in `state`? The same test the database condition makes. */
export function planApplies(plan: TransitionPlan, state: TransitionState): boolean {
  const g = plan.guard;
  if (!plan.allowedFrom.includes(state.status)) return false;
  if (g.progressBelow !== undefined && !(state.progress < g.progressBelow)) return false;
  if (g.retryCount !== undefined && state.retry_count !== g.retryCount) return false;
  if (g.executeIdIn !== undefined && !g.executeIdIn.includes(state.coze_execute_id)) return false;
  if (g.tokenHash !== undefined && state.callback_token_hash !== g.tokenHash) return false;
  if (g.noticeIs !== undefined && state.notification_state !== g.noticeIs) return false;
  return true;
}

/** Applies a plan in memory: the task as the compare-and-set leaves it, or null when it would not apply. */
export function applyPlan<T extends TransitionState>(task: T, plan: TransitionPlan): T | null {
  if (!planApplies(plan, task)) return null;
  return { ...task, ...plan.set };
}

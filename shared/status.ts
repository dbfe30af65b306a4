/**
 * The task status machine. This file is the only place that spells a status string; everything
 * else imports `TaskStatus` and asks `planTransition` what a given event may change.
 *
 * Each plan carries its conditions (`shared/condition.ts`) and its fields, and is written as one
 * compare-and-set: where(plan.where).update(plan.set), so a late, duplicate or out-of-order event
 * can never move a task backwards. A plan is branded: only `planTransition` makes one, and the
 * database adapter writes a status or notice state from nothing else.
 */
import type { Condition } from './condition';
import { FAILURE_MESSAGES, type FailureCode } from './errors';
import {
  NOTICE_TRANSITIONS,
  NoticeState,
  planNotice,
  type NoticeEvent,
  type NoticePatch,
  type NoticePlan,
} from './notice-state';
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

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Starts of one task that may have reached Coze: the first and at most two more. A start Coze
 * refused for rate or load never ran and is not one of them (it waits in the queue instead).
 */
export const MAX_START_ATTEMPTS = 3;

/**
 * What a signed callback proves, checked inside the compare-and-set itself (no read first): the
 * hash of the per-run token it carried, the run it names, and its delivery id (`webhook-id`).
 */
export interface CallbackProof {
  tokenHash: string;
  /** null when the callback names no run */
  executeId: string | null;
  deliveryId: string;
}

/** Where an event came from: a signed callback, the run history (sweeper), the user, the system. */
export type From =
  { source: 'callback'; callback: CallbackProof } | { source: 'history' | 'user' | 'system' };

export type TaskEvent =
  /**
   * A start that may have reached Coze: `executeId` null when its answer never came or could not
   * be read (the run may be going). The run's token replaces the one the task held (`seenTokenHash`
   * guards it: one write per start), and the run timeout starts now.
   */
  | {
      type: 'dispatched';
      executeId: string | null;
      tokenHash: string;
      seenTokenHash: string;
      seenAttempts: number;
      runTimeoutS: number;
    }
  | ({ type: 'progress'; progress: number } & From)
  | ({ type: 'completed'; result: TaskResult } & From)
  | ({ type: 'failed'; errorCode: FailureCode } & From)
  /** the run outlived its timeout */
  | { type: 'timed_out' }
  | { type: 'cancelled' }
  /** it waited in the queue past QUEUE_MAX_WAIT_S without a start: nothing ran, nothing is charged */
  | { type: 'waited_too_long' };

export type TaskEventType = TaskEvent['type'];

type NoticeRow = 'claimed' | 'skipped';

/**
 * The one transition table: which statuses each event may leave from, where it lands (`null` =
 * the status stays), and which notice row it takes in the same write (a finish claims the notice
 * for its sender; a cancel, or giving up on a queue wait, skips it).
 */
export const TRANSITIONS = {
  // A callback may already have moved the task to processing (it can arrive before the start's
  // answer was written), so processing is allowed too; a task with a known run is never restarted.
  dispatched: {
    from: [TaskStatus.Pending, TaskStatus.Processing],
    to: TaskStatus.Processing,
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
  // No notice for waiting: the user's one-time grant stays for a result they can use.
  waited_too_long: { from: [TaskStatus.Pending], to: TaskStatus.Failed, notice: 'skipped' },
} as const satisfies Record<
  TaskEventType,
  { from: readonly TaskStatus[]; to: TaskStatus | null; notice: NoticeRow | null }
>;

/** The failure code and message each ending event stores. */
const ENDING_CODES = {
  timed_out: 'TIMEOUT',
  cancelled: 'CANCELLED',
  waited_too_long: 'TOO_BUSY',
} as const satisfies Partial<Record<TaskEventType, FailureCode>>;

/** Fields a transition may write. Timestamps are Dates; adapters store them as they are. */
export interface TaskPatch extends Partial<Omit<NoticePatch, 'updated_at'>> {
  status?: TaskStatus;
  progress?: number;
  coze_execute_id?: string;
  result?: TaskResult;
  /** the transcript's opening, for the history list (written with the result) */
  snippet?: string | null;
  error_code?: FailureCode | null;
  error_message?: string | null;
  start_attempts?: number;
  callback_token_hash?: string;
  next_dispatch_at?: Date | null;
  started_at?: Date;
  completed_at?: Date;
  expires_at?: Date;
  updated_at: Date;
}

/** How many callback delivery ids a task remembers, to answer a redelivery as `duplicate`. */
export const REMEMBERED_DELIVERIES = 8;

declare const planned: unique symbol;

export interface TransitionPlan {
  readonly [planned]: true;
  readonly event: TaskEventType;
  /** every condition the stored task must meet, its status among them */
  readonly where: readonly Condition[];
  readonly set: TaskPatch;
  /** whether this write claims the task's notice for its writer (who then sends it) */
  readonly claimsNotice: boolean;
  /** a delivery id to append to the task's remembered ones (bounded by REMEMBERED_DELIVERIES) */
  readonly rememberDelivery?: string;
}

export function clampProgress(p: number): number {
  if (!Number.isFinite(p)) return 0;
  return Math.min(100, Math.max(0, Math.round(p)));
}

/** A failure event with the catalogue's message; the one way to say "this task failed because". */
export function failureEvent(errorCode: FailureCode, from: From): TaskEvent {
  return { type: 'failed', errorCode, ...from };
}

/** What a callback's proof adds: the token and run it must match, the run it teaches. */
function callbackParts(event: From): {
  where: Condition[];
  set: Partial<TaskPatch>;
  rememberDelivery?: string;
} {
  if (event.source !== 'callback') return { where: [], set: {} };
  const { tokenHash, executeId, deliveryId } = event.callback;
  return {
    where: [
      { field: 'callback_token_hash', is: tokenHash },
      // A callback may come before the start's answer stored the run's id: then it stores it.
      ...(executeId ? [{ field: 'coze_execute_id', in: [null, executeId] }] : []),
    ],
    set: executeId ? { coze_execute_id: executeId } : {},
    rememberDelivery: deliveryId,
  };
}

/** The conditions and fields specific to each event (the table adds status and notice). */
function eventParts(
  event: TaskEvent,
  now: Date,
): { where: Condition[]; set: Partial<TaskPatch>; rememberDelivery?: string } {
  switch (event.type) {
    case 'dispatched':
      return {
        where: [
          { field: 'callback_token_hash', is: event.seenTokenHash },
          { field: 'start_attempts', is: event.seenAttempts },
          // Only a task with no known run starts one; a start of unknown outcome keeps it unknown.
          { field: 'coze_execute_id', in: event.executeId ? [null, event.executeId] : [null] },
        ],
        set: {
          ...(event.executeId ? { coze_execute_id: event.executeId } : {}),
          callback_token_hash: event.tokenHash,
          start_attempts: event.seenAttempts + 1,
          started_at: now,
          // The run's own timeout starts with the run: waiting in the queue never eats into it.
          expires_at: new Date(now.getTime() + event.runTimeoutS * 1000),
          next_dispatch_at: null,
        },
      };
    case 'progress': {
      // Progress 100 only comes with completion; a progress event tops out at 99.
      const progress = Math.min(99, clampProgress(event.progress));
      const cb = callbackParts(event);
      return {
        ...cb,
        where: [{ field: 'progress', below: progress }, ...cb.where],
        set: { progress, ...cb.set },
      };
    }
    case 'completed': {
      const cb = callbackParts(event);
      return {
        ...cb,
        set: {
          progress: 100,
          result: event.result,
          snippet: snippetOf(event.result.content),
          error_code: null,
          error_message: null,
          completed_at: now,
          next_dispatch_at: null,
          ...cb.set,
        },
      };
    }
    case 'failed': {
      const cb = callbackParts(event);
      return {
        ...cb,
        set: {
          error_code: event.errorCode,
          error_message: FAILURE_MESSAGES[event.errorCode],
          completed_at: now,
          next_dispatch_at: null,
          ...cb.set,
        },
      };
    }
    case 'timed_out':
    case 'cancelled':
    case 'waited_too_long': {
      const code = ENDING_CODES[event.type];
      return {
        where: [],
        set: {
          error_code: code,
          error_message: FAILURE_MESSAGES[code],
          completed_at: now,
          next_dispatch_at: null,
        },
      };
    }
  }
}

/** Turns an event into the compare-and-set an adapter writes. Pure: `now` is passed in. */
export function planTransition(event: TaskEvent, now: Date): TransitionPlan {
  const row = TRANSITIONS[event.type];
  const parts = eventParts(event, now);
  // Status and notice come from the table, never spelled again per case.
  const notice: Partial<NoticePatch> = row.notice
    ? {
        notification_state: NOTICE_TRANSITIONS[row.notice].to,
        ...(row.notice === 'claimed' ? { notification_claimed_at: now } : {}),
      }
    : {};
  const where: Condition[] = [
    { field: 'status', in: row.from },
    ...parts.where,
    // A finish takes the notice from where a finish finds it: nobody has claimed it yet.
    ...(row.notice ? [{ field: 'notification_state', is: NoticeState.None }] : []),
  ];
  return {
    event: event.type,
    where,
    set: { ...parts.set, ...notice, ...(row.to ? { status: row.to } : {}), updated_at: now },
    claimsNotice: row.notice === 'claimed',
    ...(parts.rememberDelivery ? { rememberDelivery: parts.rememberDelivery } : {}),
  } as unknown as TransitionPlan;
}

/**
 * A notice change after its task finished (`planNotice`), only on a finished task: an active
 * task's notice belongs to its finishing transition. Null when the table does not allow it.
 */
export function planFinishedNotice(event: NoticeEvent, now: Date): NoticePlan | null {
  const plan = planNotice(event, now);
  return plan && { ...plan, where: [{ field: 'status', in: TERMINAL_STATUSES }, ...plan.where] };
}

/**
 * The task status machine. This file is the only place that spells a status string; everything
 * else imports `TaskStatus` and asks `planTransition` what a given event may change.
 *
 * Each plan is meant to be written as one compare-and-set:
 *   where({ _id, status: in(plan.allowedFrom), ...guards }).update(plan.set)
 * so a late, duplicate or out-of-order event can never move a task backwards.
 */

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

/** Dispatch retries the sweeper may make after the first start attempt failed. */
export const MAX_DISPATCH_RETRIES = 2;

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface TaskResult {
  title: string;
  content: string;
  cover: string;
  video_url: string;
}

/** Where an event came from: a signed callback, the run history (sweeper), the user, the system. */
export type EventSource = 'callback' | 'history' | 'user' | 'system';

export type TaskEvent =
  | { type: 'dispatched'; executeId: string }
  | {
      type: 'dispatch_retried';
      retryCount: number;
      nextAttemptAt: Date | null;
      /** a new run gets a new callback token; only its hash is stored */
      callbackTokenHash: string;
    }
  | { type: 'progress'; progress: number; source: EventSource }
  | { type: 'completed'; result: TaskResult; source: EventSource }
  | { type: 'failed'; errorCode: string; errorMessage: string; source: EventSource }
  | { type: 'timed_out'; errorCode: string; errorMessage: string }
  | { type: 'cancelled'; errorCode: string; errorMessage: string };

export type TaskEventType = TaskEvent['type'];

/** The one transition table: which statuses each event may leave from, and where it lands. */
export const TRANSITIONS: Readonly<
  Record<TaskEventType, { from: readonly TaskStatus[]; to: TaskStatus | null }>
> = {
  // The run started; a callback may already have moved the task to processing (it can arrive
  // before extractText stored the execute id), so processing is allowed too.
  dispatched: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Processing },
  // A start attempt is claimed by the sweeper; the task stays pending. `to: null` = no change.
  dispatch_retried: { from: [TaskStatus.Pending], to: null },
  progress: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Processing },
  completed: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Completed },
  failed: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Failed },
  timed_out: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Timeout },
  cancelled: { from: [TaskStatus.Pending, TaskStatus.Processing], to: TaskStatus.Cancelled },
};

/** Extra conditions the compare-and-set must match besides the status. */
export interface TransitionGuard {
  /** the stored progress must be strictly below this (progress never decreases) */
  progressBelow?: number;
  /** the stored retry_count must equal this (one claim per retry) */
  retryCount?: number;
}

/** Fields a transition may write. Timestamps are Dates; adapters store them as they are. */
export interface TaskPatch {
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

export interface TransitionPlan {
  event: TaskEventType;
  allowedFrom: readonly TaskStatus[];
  guard: TransitionGuard;
  set: TaskPatch;
}

export function clampProgress(p: number): number {
  if (!Number.isFinite(p)) return 0;
  return Math.min(100, Math.max(0, Math.round(p)));
}

/** Turns an event into the compare-and-set an adapter writes. Pure: `now` is passed in. */
export function planTransition(event: TaskEvent, now: Date): TransitionPlan {
  const row = TRANSITIONS[event.type];
  const base = { event: event.type, allowedFrom: row.from };
  const callbackFields =
    'source' in event && event.source === 'callback'
      ? { webhook_received: true, last_callback_at: now }
      : {};
  switch (event.type) {
    case 'dispatched':
      return {
        ...base,
        guard: {},
        set: {
          status: TaskStatus.Processing,
          coze_execute_id: event.executeId,
          started_at: now,
          next_dispatch_at: null,
          updated_at: now,
        },
      };
    case 'dispatch_retried':
      return {
        ...base,
        guard: { retryCount: event.retryCount },
        set: {
          retry_count: event.retryCount + 1,
          callback_token_hash: event.callbackTokenHash,
          next_dispatch_at: event.nextAttemptAt,
          updated_at: now,
        },
      };
    case 'progress': {
      // Progress 100 only comes with completion; a progress event tops out at 99.
      const progress = Math.min(99, clampProgress(event.progress));
      return {
        ...base,
        guard: { progressBelow: progress },
        set: { status: TaskStatus.Processing, progress, ...callbackFields, updated_at: now },
      };
    }
    case 'completed':
      return {
        ...base,
        guard: {},
        set: {
          status: TaskStatus.Completed,
          progress: 100,
          result: event.result,
          snippet: snippetOf(event.result.content),
          error_code: null,
          error_message: null,
          completed_at: now,
          ...callbackFields,
          updated_at: now,
        },
      };
    case 'failed':
      return {
        ...base,
        guard: {},
        set: {
          status: TaskStatus.Failed,
          error_code: event.errorCode,
          error_message: event.errorMessage,
          completed_at: now,
          ...callbackFields,
          updated_at: now,
        },
      };
    case 'timed_out':
      return {
        ...base,
        guard: {},
        set: {
          status: TaskStatus.Timeout,
          error_code: event.errorCode,
          error_message: event.errorMessage,
          completed_at: now,
          updated_at: now,
        },
      };
    case 'cancelled':
      return {
        ...base,
        guard: {},
        set: {
          status: TaskStatus.Cancelled,
          error_code: event.errorCode,
          error_message: event.errorMessage,
          completed_at: now,
          updated_at: now,
        },
      };
  }
}

/** The state a compare-and-set reads: the fields the guards look at. */
export interface TransitionState {
  status: TaskStatus;
  progress: number;
  retry_count: number;
}

/** Would `plan` apply to a task in `state`? The same test the database condition makes. */
export function planApplies(plan: TransitionPlan, state: TransitionState): boolean {
  if (!plan.allowedFrom.includes(state.status)) return false;
  if (plan.guard.progressBelow !== undefined && !(state.progress < plan.guard.progressBelow)) {
    return false;
  }
  if (plan.guard.retryCount !== undefined && state.retry_count !== plan.guard.retryCount) {
    return false;
  }
  return true;
}

/** Applies a plan in memory (for the client's optimistic view, tests and the emulator-free path). */
export function applyPlan<T extends TransitionState>(task: T, plan: TransitionPlan): T | null {
  if (!planApplies(plan, task)) return null;
  return { ...task, ...plan.set };
}

/**
 * What the pages call: the extractText actions as typed outcomes, over whichever backend the
 * config's `mode` picks. A page never sees `wx.cloud`, `wx.request` or a socket.
 */
import { getConfig, type BackendMode } from '../config';
import {
  LIST_DEFAULT_LIMIT,
  NETWORK_ERROR_MESSAGE,
  answerErrorMessage,
  isErrorCode,
  type ErrorCode,
  type ExtractAnswer,
  type ExtractRequest,
  type QueueSpot,
  type SharedResult,
  type TaskSummary,
  type TaskView,
} from '../domain';
import { createCloudBackend } from './cloud';
import { createLocalBackend } from './local';
import { noteQuota } from './quota';
import { errText, type Backend } from './types';

let backend: Backend | null = null;

export function getBackend(): Backend {
  const mode: BackendMode = getConfig().mode;
  if (!backend || backend.mode !== mode) {
    backend = mode === 'local' ? createLocalBackend() : createCloudBackend();
  }
  return backend;
}

/** A failed call: a code from the catalogue, or NETWORK when the call did not get through. */
export interface Failure {
  ok: false;
  code: ErrorCode | 'NETWORK';
  message: string;
  /** when trying again may work, in seconds (TOO_BUSY: the queue's wait; QUOTA_EXCEEDED: the new day) */
  retryAfterS?: number;
}
export type Outcome<T> = ({ ok: true } & T) | Failure;

async function invoke(request: ExtractRequest): Promise<ExtractAnswer | Failure> {
  try {
    return await getBackend().call(request);
  } catch (err) {
    console.warn('[extractText] call failed', request.action, errText(err));
    return { ok: false, code: 'NETWORK', message: NETWORK_ERROR_MESSAGE };
  }
}

function failure(answer: ExtractAnswer | Failure): Failure {
  // An ok answer of the wrong kind for the action is a server bug: say so generically.
  if (answer.ok) return { ok: false, code: 'INTERNAL', message: answerErrorMessage(null) };
  if (!('error' in answer)) return answer;
  const retryAfterS = answer.error.retryAfterS;
  return {
    ok: false,
    code: isErrorCode(answer.error.code) ? answer.error.code : 'INTERNAL',
    message: answerErrorMessage(answer.error),
    ...(typeof retryAfterS === 'number' && retryAfterS > 0 ? { retryAfterS } : {}),
  };
}

/** A task, and while it waits in the queue, its place (tasks ahead and the wait) when answered. */
export type TaskOutcome = Outcome<{ task: TaskView; queue: QueueSpot | null }>;

async function taskCall(request: ExtractRequest): Promise<TaskOutcome> {
  const answer = await invoke(request);
  if (answer.ok && 'task' in answer) {
    // Any answer that says today's uses updates what the page shows (no call of its own).
    noteQuota(answer.quota);
    return { ok: true, task: answer.task, queue: answer.queue ?? null };
  }
  return failure(answer);
}

export interface Subscribed {
  success: boolean;
  failure: boolean;
}

export function createTask(shareText: string, requestId: string, subscribed: Subscribed) {
  return taskCall({ action: 'create', shareText, requestId, subscribed });
}

export function getTask(taskId: string) {
  return taskCall({ action: 'get', taskId });
}

export function cancelTask(taskId: string) {
  return taskCall({ action: 'cancel', taskId });
}

export function retryTask(taskId: string, subscribed: Subscribed) {
  return taskCall({ action: 'retry', taskId, subscribed });
}

export async function listTasks(
  cursor: string | null,
  limit = LIST_DEFAULT_LIMIT,
): Promise<Outcome<{ tasks: TaskSummary[]; nextCursor: string | null }>> {
  const answer = await invoke({ action: 'list', limit, ...(cursor ? { cursor } : {}) });
  if (answer.ok && 'tasks' in answer) {
    noteQuota(answer.quota);
    return { ok: true, tasks: answer.tasks, nextCursor: answer.nextCursor ?? null };
  }
  return failure(answer);
}

/** Deletes one task of the user (a running one is cancelled first, by the backend). */
export async function removeTask(taskId: string): Promise<Outcome<{ removed: number }>> {
  const answer = await invoke({ action: 'remove', taskId });
  if (answer.ok && 'removed' in answer) return { ok: true, removed: answer.removed };
  return failure(answer);
}

/** Deletes every finished task of the user; running ones are kept. */
export async function clearTasks(): Promise<Outcome<{ removed: number; kept: number }>> {
  const answer = await invoke({ action: 'clear' });
  if (answer.ok && 'kept' in answer)
    return { ok: true, removed: answer.removed, kept: answer.kept };
  return failure(answer);
}

/** Shares a completed task's result (the user's correction, when given): the card's link. */
export async function shareTask(
  taskId: string,
  text: string | null,
): Promise<Outcome<{ path: string; expiresAt: string }>> {
  const answer = await invoke({ action: 'share', taskId, ...(text !== null ? { text } : {}) });
  if (answer.ok && 'share' in answer) {
    return { ok: true, path: answer.share.path, expiresAt: answer.share.expiresAt };
  }
  return failure(answer);
}

/** Stops sharing a task's result: its link answers SHARE_REVOKED from now on. */
export function unshareTask(taskId: string) {
  return taskCall({ action: 'unshare', taskId });
}

/** A friend's read of a shared result, with the link's token. */
export async function readShared(
  taskId: string,
  token: string,
): Promise<Outcome<{ shared: SharedResult }>> {
  const answer = await invoke({ action: 'shared', taskId, token });
  if (answer.ok && 'shared' in answer) return { ok: true, shared: answer.shared };
  return failure(answer);
}

/** Idempotency key of one submission: a double tap or a resend after a network error reuse it. */
export function newRequestId(): string {
  const rand = Math.random().toString(36).slice(2, 12).padEnd(10, '0');
  return `mp-${Date.now().toString(36)}-${rand}`;
}

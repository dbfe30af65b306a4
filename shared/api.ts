/**
 * The `extractText` contract: one schema for what the client sends, and the answer types it gets.
 * The caller is never a field here: the function reads it from WXContext. Every object is strict:
 * an unknown field is INVALID_INPUT naming it, never silently dropped (an old client sending
 * `subscribed.failed` would otherwise subscribe to nothing and never learn why).
 */
import * as z from './zod';
import { MAX_SHARE_TEXT_LENGTH } from './share-text';
import type { ErrorAnswer } from './errors';
import { DAY_MS, SHANGHAI_OFFSET_MS } from './time';
import type { ResultKind } from './result';
import type { Platform } from './share-text';
import type { TaskSummary, TaskView } from './task';

export type { TaskSummary };

const taskId = z.string().check(z.trim(), z.minLength(1), z.maxLength(64));

/** Which templates the user accepted: the same names as the task document's `subscribed`. */
const subscribedInput = z.optional(
  z.strictObject({
    success: z._default(z.boolean(), false),
    failure: z._default(z.boolean(), false),
  }),
);

/**
 * The longest text an owner may share as their correction: the page's bound on a correction
 * (`MAX_EDIT_CHARS` in miniprogram/services/edits.ts), UTF-16 units as the page counts them.
 */
const MAX_SHARED_TEXT_LENGTH = 50_000;

/** A share link's token: 128 random bits, base64url (22 characters); a little slack either way. */
const shareToken = z.string().check(z.regex(/^[A-Za-z0-9_-]{16,64}$/));

/** The page a share card opens: the shared result, read-only. */
const SHARED_PAGE = 'pages/shared/shared';

export const LIST_DEFAULT_LIMIT = 20;
const LIST_MAX_LIMIT = 50;

export const extractRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('create'),
    // Length is checked by the share-text parser, which answers a specific code.
    shareText: z.string().check(z.maxLength(MAX_SHARE_TEXT_LENGTH * 4)),
    requestId: z.optional(z.string().check(z.trim(), z.regex(/^[A-Za-z0-9_.:-]{8,64}$/))),
    subscribed: subscribedInput,
  }),
  z.strictObject({ action: z.literal('get'), taskId }),
  z.strictObject({
    action: z.literal('list'),
    cursor: z.optional(z.string().check(z.maxLength(200))),
    limit: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(LIST_MAX_LIMIT))),
  }),
  z.strictObject({ action: z.literal('cancel'), taskId }),
  // A retry is a new tap: it may carry the templates the user accepted on it.
  z.strictObject({ action: z.literal('retry'), taskId, subscribed: subscribedInput }),
  // A running task is cancelled first, then removed; another user's is NOT_FOUND.
  z.strictObject({ action: z.literal('remove'), taskId }),
  // Removes the caller's finished tasks; running ones stay.
  z.strictObject({ action: z.literal('clear') }),
  // The owner shares a completed task's result (their corrected text, if they corrected it).
  z.strictObject({
    action: z.literal('share'),
    taskId,
    text: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_SHARED_TEXT_LENGTH))),
  }),
  // The owner stops sharing it: the link then answers SHARE_REVOKED.
  z.strictObject({ action: z.literal('unshare'), taskId }),
  // Anyone with the link reads the shared result (and nothing else of the task).
  z.strictObject({ action: z.literal('shared'), taskId, token: shareToken }),
]);

export type ExtractRequest = z.infer<typeof extractRequestSchema>;

/**
 * Today's uses: `used` of `limit` creates admitted this Shanghai day, and when the day (and the
 * count) starts again. Read from the user's ledger: `create` gets it back from the admission's
 * own write, `list` (its first page) reads it beside the page.
 */
export interface Quota {
  used: number;
  limit: number;
  /** ISO time of the next Asia/Shanghai midnight */
  resetsAt: string;
}

/** The next Asia/Shanghai midnight after `now`: when the daily quota starts again. */
export function quotaResetsAt(now: Date): Date {
  const dayStart = Math.floor((now.getTime() + SHANGHAI_OFFSET_MS) / DAY_MS) * DAY_MS;
  return new Date(dayStart + DAY_MS - SHANGHAI_OFFSET_MS);
}

/** The quota as answered: the day's count (never above the limit it is shown against). */
export function quotaOf(used: number, limit: number, now: Date): Quota {
  return {
    used: Math.max(0, Math.min(used, limit)),
    limit,
    resetsAt: quotaResetsAt(now).toISOString(),
  };
}

export interface TaskAnswer {
  ok: true;
  task: TaskView;
  /** while it waits in the queue: tasks ahead of it now, and the wait at the measured drain rate */
  queue?: { ahead: number; waitS: number };
  /** `create` and `retry`: today's uses after this one */
  quota?: Quota;
}
/** A page of history: summaries only (no transcript); `get` answers the full task. */
export interface ListAnswer {
  ok: true;
  tasks: TaskSummary[];
  nextCursor: string | null;
  /** the first page (no cursor): today's uses, when the user's ledger could be read */
  quota?: Quota;
}
export interface RemoveAnswer {
  ok: true;
  /** tasks removed by this call (1 for `remove`) */
  removed: number;
}
export interface ClearAnswer extends RemoveAnswer {
  /** the caller's running tasks, which `clear` leaves in place */
  kept: number;
}
/** `share`: the link a share card carries, and until when it opens. */
export interface ShareAnswer {
  ok: true;
  share: { token: string; path: string; expiresAt: string };
}

/** What a friend sees of a shared task: the result as shared, nothing else of the task. */
export interface SharedResult {
  taskId: string;
  platform: Platform;
  title: string;
  cover: string;
  content: string;
  /** a transcript, or a photo note's own text */
  kind: ResultKind;
  /** the owner corrected the text before sharing it */
  edited: boolean;
  sharedAt: string;
  expiresAt: string;
}
export interface SharedAnswer {
  ok: true;
  shared: SharedResult;
}

/** The path a share card opens for this task and token. */
export function sharedPath(taskId: string, token: string): string {
  return `/${SHARED_PAGE}?task=${encodeURIComponent(taskId)}&s=${encodeURIComponent(token)}`;
}

export type ExtractAnswer =
  TaskAnswer | ListAnswer | RemoveAnswer | ClearAnswer | ShareAnswer | SharedAnswer | ErrorAnswer;

/**
 * What `INVALID_INPUT`'s `detail` says about a malformed request: the first wrong field and the
 * rule it broke, e.g. `shareText: expected string, received number`. Built from the schema's
 * paths and rules only, never from a value the caller sent.
 */
export function describeRequestIssues(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'request: malformed';
  // Stripe's "Received unknown parameter": the field is named, so an old client learns which.
  if (issue.code === 'unrecognized_keys') {
    return `${z.unknownFieldPaths(issue.path, issue.keys).join(', ')}: unknown field`;
  }
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : 'request';
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `${path}: expected one of ${issue.options.map(String).join(', ')}`;
  }
  // zod's messages start with a category ("Invalid input: ", "Too big: "): the rest is the rule.
  return `${path}: ${issue.message.replace(/^[A-Za-z ]+:\s*/, '')}`;
}

/** List cursors are opaque to the client: the created_at and id of the last task seen. */
export function encodeCursor(createdAt: Date, id: string): string {
  return `${createdAt.getTime().toString(36)}.${id}`;
}

/** No task is older than this, so no honest cursor points before it. */
export const CURSOR_EARLIEST = new Date('2024-01-01T00:00:00Z');
/** Clock skew a cursor's time may have past `now` (the servers' clocks, not the client's). */
const CURSOR_SKEW_MS = DAY_MS;

/**
 * Null for anything `encodeCursor` could not have produced for a task that exists: bad syntax, or
 * a time before the product existed or after `now` (a forged cursor would answer an empty page).
 */
export function decodeCursor(
  cursor: string,
  now: Date = new Date(),
): { createdAt: Date; id: string } | null {
  const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  if (!m || !m[1] || !m[2]) return null;
  const ms = parseInt(m[1], 36);
  if (!Number.isSafeInteger(ms)) return null;
  if (ms < CURSOR_EARLIEST.getTime() || ms > now.getTime() + CURSOR_SKEW_MS) return null;
  return { createdAt: new Date(ms), id: m[2] };
}

/**
 * The task document (collection `tasks`) and the client-safe view of it.
 */
import * as z from './zod';
import { NOTICE_STATES, NoticeState } from './notice-state';
import { queueTicketSchema, type QueueTicket } from './queue';
import { resultKind, taskResultSchema, type ResultKind } from './result';
import { TASK_STATUSES, TaskStatus } from './status';
import { PLATFORMS, captionOf, type Platform } from './share-text';
import { shanghaiDay } from './time';

export const TASKS_COLLECTION = 'tasks';

/**
 * A finished task's result, shared by its owner with a friend (the share card opens
 * `pages/shared/shared?task=<id>&s=<token>`). What a friend may see, and for how long:
 *
 * - the result as the owner shares it: its title, cover, platform and text (the owner's corrected
 *   text when they corrected it on the phone, else the text as extracted), whether it was
 *   corrected, when it was shared and until when it is readable. Never the owner (no openid, no
 *   name), the link they pasted (a Xiaohongshu link carries the sharer's access token), the video
 *   link, the task's status or any other task.
 * - for SHARE_DAYS (7) after the owner last shared it: a card is opened within hours or days of
 *   being sent, while a card keeps travelling (forwarded on, to whoever it reaches) for as long as
 *   it opens, carrying what may be a private text; the owner sharing again renews it. The owner
 *   can stop it at once (`unshare`), and deleting the task (or its clean-up after
 *   TASK_RETENTION_DAYS) ends it with the task: the copy lives in the task's own document, so
 *   nothing of it outlives the task.
 *
 * The token is 128 random bits: unguessable, so the link is the permission. It is kept as is (not
 * hashed) because it guards only this document's result, which whoever can read the document can
 * read without it; keeping it lets the owner's second tap give the same link, so the first friend's
 * card keeps working. The security rule keeps tasks unreadable to anyone but their owner; a friend
 * reads only through `extractText`'s `shared`, which answers this snapshot and nothing else.
 */
export const shareLinkSchema = z.strictObject({
  token: z.string().check(z.minLength(16)),
  /** the owner's corrected text when they shared it; null: the result's text as extracted */
  text: z.nullable(z.string()),
  created_at: z.dateLike,
  expires_at: z.dateLike,
  /** when the owner stopped sharing (the token then answers SHARE_REVOKED) */
  revoked_at: z.nullable(z.dateLike),
});
export type ShareLink = z.infer<typeof shareLinkSchema>;

/** How long a shared result stays readable after the owner's last share (see shareLinkSchema). */
export const SHARE_DAYS = 7;

/** Is the share link usable now: not stopped, not expired. */
export function shareLinkActive(link: ShareLink | null, now: Date): link is ShareLink {
  return link !== null && link.revoked_at === null && link.expires_at.getTime() > now.getTime();
}

/** Which subscription templates the user accepted at submit time. */
export const subscribedSchema = z.object({ success: z.boolean(), failure: z.boolean() });
export type Subscribed = z.infer<typeof subscribedSchema>;

/** Where the one notice of a task stands: the table is `notice-state.ts`. */
export type { NoticeState };

export const taskDocSchema = z.object({
  _id: z.string().check(z.minLength(1)),
  _openid: z.string().check(z.minLength(1)),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]]),
  platform: z.enum(PLATFORMS as [Platform, ...Platform[]]),
  share_text: z.string(),
  /** The video's own words from the share text (see captionOf); absent on tasks made before it. */
  caption: z._default(z.nullable(z.string()), null),
  input_url: z.string(),
  request_id: z.nullable(z.string()),
  coze_execute_id: z.nullable(z.string()),
  callback_token_hash: z.string(),
  result: z.nullable(taskResultSchema),
  /** The transcript's opening, written with the result: what the history list shows. */
  snippet: z._default(z.nullable(z.string()), null),
  error_code: z.nullable(z.string()),
  error_message: z.nullable(z.string()),
  progress: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
  /** Starts that may have reached Coze (at most MAX_START_ATTEMPTS); a refused one is not counted. */
  start_attempts: z._default(z.number().check(z.int(), z.minimum(0)), 0),
  /** While pending: its place in the queue (oldest first) and when it may be started. */
  next_dispatch_at: z.nullable(z.dateLike),
  /** Its place in the queue at submit, when it had to wait (the page shows the position from it). */
  queue: z._default(z.nullable(queueTicketSchema), null),
  history_checked_at: z.nullable(z.dateLike),
  subscribed: subscribedSchema,
  notification_state: z.enum(NOTICE_STATES as [NoticeState, ...NoticeState[]]),
  notification_claimed_at: z.nullable(z.dateLike),
  notification_error: z.nullable(z.string()),
  notification_attempts: z.number().check(z.int(), z.minimum(0)),
  /** The result as its owner shared it with friends (completed tasks only); null: never shared. */
  share_link: z._default(z.nullable(shareLinkSchema), null),
  /** The last few callback delivery ids applied (`webhook-id`): a redelivery answers `duplicate`. */
  callback_ids: z._default(z.array(z.string()), []),
  /** Asia/Shanghai calendar day of creation, for the daily quota. */
  day: z.string(),
  created_at: z.dateLike,
  updated_at: z.dateLike,
  started_at: z.nullable(z.dateLike),
  completed_at: z.nullable(z.dateLike),
  expires_at: z.dateLike,
});
export type TaskDoc = z.infer<typeof taskDocSchema>;

export interface NewTaskInput {
  taskId: string;
  openid: string;
  platform: Platform;
  url: string;
  shareText: string;
  requestId: string | null;
  callbackTokenHash: string;
  subscribed: Subscribed;
  now: Date;
  /** the longest it may wait in the queue before giving up (QUEUE_MAX_WAIT_S) */
  queueMaxWaitS: number;
  /** when the queue may take its start over: after the create's own attempt is surely over */
  dueAt: Date;
  queue: QueueTicket | null;
}

export function newTask(input: NewTaskInput): TaskDoc {
  const { now } = input;
  return {
    _id: input.taskId,
    _openid: input.openid,
    status: TaskStatus.Pending,
    platform: input.platform,
    share_text: input.shareText,
    caption: captionOf(input.shareText, input.platform),
    input_url: input.url,
    request_id: input.requestId,
    coze_execute_id: null,
    callback_token_hash: input.callbackTokenHash,
    result: null,
    snippet: null,
    error_code: null,
    error_message: null,
    progress: 0,
    start_attempts: 0,
    next_dispatch_at: input.dueAt,
    queue: input.queue,
    history_checked_at: null,
    subscribed: input.subscribed,
    notification_state: NoticeState.None,
    notification_claimed_at: null,
    notification_error: null,
    notification_attempts: 0,
    share_link: null,
    callback_ids: [],
    day: shanghaiDay(now),
    created_at: now,
    updated_at: now,
    started_at: null,
    completed_at: null,
    // Until it starts, the task expires as a queue wait; a start sets the run's own timeout.
    expires_at: new Date(now.getTime() + input.queueMaxWaitS * 1000),
  };
}

/**
 * The client-safe view: what `extractText` answers and what the page renders. Same field names as
 * the document; no owner id, token hash, request id or sweeper bookkeeping; timestamps as ISO text.
 */
export const taskViewSchema = z.object({
  _id: z.string(),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]]),
  platform: z.enum(PLATFORMS as [Platform, ...Platform[]]),
  input_url: z.string(),
  caption: z.nullable(z.string()),
  coze_execute_id: z.nullable(z.string()),
  result: z.nullable(taskResultSchema),
  error_code: z.nullable(z.string()),
  error_message: z.nullable(z.string()),
  progress: z.number(),
  /** its place in the queue at submit, while it waits (null when it started at once) */
  queue: z.nullable(queueTicketSchema),
  /** until when friends can read the result the owner shared (maybe past); null: not shared */
  shared_until: z.optional(z.nullable(z.string())),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.nullable(z.string()),
  completed_at: z.nullable(z.string()),
  expires_at: z.string(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toTaskView(doc: TaskDoc): TaskView {
  return {
    _id: doc._id,
    status: doc.status,
    platform: doc.platform,
    input_url: doc.input_url,
    caption: doc.caption,
    coze_execute_id: doc.coze_execute_id,
    result: doc.result,
    error_code: doc.error_code,
    error_message: doc.error_message,
    progress: doc.progress,
    queue: doc.queue,
    // Until when it was shared (the page compares with its clock); null when stopped or never.
    shared_until:
      doc.share_link && doc.share_link.revoked_at === null ? iso(doc.share_link.expires_at) : null,
    created_at: iso(doc.created_at),
    updated_at: iso(doc.updated_at),
    started_at: isoOrNull(doc.started_at),
    completed_at: isoOrNull(doc.completed_at),
    expires_at: iso(doc.expires_at),
  };
}

/**
 * Reads a raw document (from the database or a watch snapshot, where dates may be Date objects,
 * ISO text or `{$date}` wrappers already decoded) into the view. Null when it is not a task.
 */
export function viewFromRaw(raw: unknown): TaskView | null {
  const parsed = taskDocSchema.safeParse(raw);
  return parsed.success ? toTaskView(parsed.data) : null;
}

/**
 * One row of the history list: what `list` answers. Never the transcript (a page of long ones
 * would pass callFunction's answer limit); `get` answers the full task.
 */
export interface TaskSummary {
  taskId: string;
  status: TaskStatus;
  platform: Platform;
  /** the result's title */
  title: string | null;
  /** the video's words from the share text */
  caption: string | null;
  /** the transcript's opening */
  snippet: string | null;
  cover: string | null;
  /** what the result's text is (a transcript, or a photo note's own words); null without one */
  kind: ResultKind | null;
  errorCode: string | null;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  /** when the sweeper times a silent task out: lets the list show it as timed out meanwhile */
  expiresAt: string;
}

/**
 * The fields of a task document a summary reads: the database projection `list` asks for, so the
 * function never loads a transcript. `result.title` and `result.cover` are nested paths.
 */
export const SUMMARY_FIELDS = [
  '_id',
  'status',
  'platform',
  'caption',
  'snippet',
  'result.title',
  'result.cover',
  'result.kind',
  'error_code',
  'progress',
  'created_at',
  'started_at',
  'completed_at',
  'updated_at',
  'expires_at',
] as const;

/** A projected document: old tasks may lack the newer fields, which then read as null. */
export const taskSummaryDocSchema = z.object({
  _id: z.string().check(z.minLength(1)),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]]),
  platform: z.enum(PLATFORMS as [Platform, ...Platform[]]),
  caption: z._default(z.nullable(z.string()), null),
  snippet: z._default(z.nullable(z.string()), null),
  result: z._default(
    z.nullable(
      z.object({
        title: z.optional(z.string()),
        cover: z.optional(z.string()),
        kind: z.optional(z.string()),
      }),
    ),
    null,
  ),
  error_code: z._default(z.nullable(z.string()), null),
  progress: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
  created_at: z.dateLike,
  started_at: z._default(z.nullable(z.dateLike), null),
  completed_at: z._default(z.nullable(z.dateLike), null),
  updated_at: z.dateLike,
  expires_at: z.dateLike,
});
export type TaskSummaryDoc = z.infer<typeof taskSummaryDocSchema>;

const textOrNull = (s: string | undefined | null): string | null => (s ? s : null);

export function toTaskSummary(doc: TaskSummaryDoc | TaskDoc): TaskSummary {
  return {
    taskId: doc._id,
    status: doc.status,
    platform: doc.platform,
    title: textOrNull(doc.result?.title),
    caption: doc.caption,
    snippet: doc.snippet,
    cover: textOrNull(doc.result?.cover),
    kind: doc.result ? resultKind(doc.result) : null,
    errorCode: doc.error_code,
    progress: doc.progress,
    createdAt: iso(doc.created_at),
    startedAt: isoOrNull(doc.started_at),
    completedAt: isoOrNull(doc.completed_at),
    updatedAt: iso(doc.updated_at),
    expiresAt: iso(doc.expires_at),
  };
}

/**
 * The task document (collection `tasks`) and the client-safe view of it.
 */
import * as z from 'zod';
import { NOTICE_STATES, NoticeState } from './notice-state';
import { TASK_STATUSES, TaskStatus, type TaskResult } from './status';
import { PLATFORMS, type Platform } from './share-text';

export const TASKS_COLLECTION = 'tasks';

const dateLike = z.union([z.date(), z.string(), z.number()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'invalid date' });
    return z.NEVER;
  }
  return d;
});

export const taskResultSchema = z.object({
  title: z.string(),
  content: z.string(),
  cover: z.string(),
  video_url: z.string(),
});

/** Which subscription templates the user accepted at submit time. */
export const subscribedSchema = z.object({ success: z.boolean(), failure: z.boolean() });
export type Subscribed = z.infer<typeof subscribedSchema>;

/** Where the one notice of a task stands: the table is `notice-state.ts`. */
export { NOTICE_STATES, NoticeState };

export const taskDocSchema = z.object({
  _id: z.string().min(1),
  _openid: z.string().min(1),
  task_uuid: z.string().min(1),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]]),
  platform: z.enum(PLATFORMS as [Platform, ...Platform[]]),
  share_text: z.string(),
  input_url: z.string(),
  request_id: z.string().nullable(),
  coze_execute_id: z.string().nullable(),
  callback_token_hash: z.string(),
  result: taskResultSchema.nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  progress: z.number().int().min(0).max(100),
  retry_count: z.number().int().min(0),
  next_dispatch_at: dateLike.nullable(),
  webhook_received: z.boolean(),
  last_callback_at: dateLike.nullable(),
  history_checked_at: dateLike.nullable(),
  subscribed: subscribedSchema,
  notification_sent: z.boolean(),
  notification_state: z.enum(NOTICE_STATES as [NoticeState, ...NoticeState[]]),
  notification_claimed_at: dateLike.nullable(),
  notification_error: z.string().nullable(),
  notification_attempts: z.number().int().min(0),
  /** The last few callback delivery ids applied (`webhook-id`): a redelivery answers `duplicate`. */
  callback_ids: z.array(z.string()).default([]),
  /** Asia/Shanghai calendar day of creation, for the daily quota. */
  day: z.string(),
  created_at: dateLike,
  updated_at: dateLike,
  started_at: dateLike.nullable(),
  completed_at: dateLike.nullable(),
  expires_at: dateLike,
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
  timeoutS: number;
}

export function newTask(input: NewTaskInput): TaskDoc {
  const { now } = input;
  return {
    _id: input.taskId,
    _openid: input.openid,
    task_uuid: input.taskId,
    status: TaskStatus.Pending,
    platform: input.platform,
    share_text: input.shareText,
    input_url: input.url,
    request_id: input.requestId,
    coze_execute_id: null,
    callback_token_hash: input.callbackTokenHash,
    result: null,
    error_code: null,
    error_message: null,
    progress: 0,
    retry_count: 0,
    next_dispatch_at: null,
    webhook_received: false,
    last_callback_at: null,
    history_checked_at: null,
    subscribed: input.subscribed,
    notification_sent: false,
    notification_state: NoticeState.None,
    notification_claimed_at: null,
    notification_error: null,
    notification_attempts: 0,
    callback_ids: [],
    day: shanghaiDay(now),
    created_at: now,
    updated_at: now,
    started_at: null,
    completed_at: null,
    expires_at: new Date(now.getTime() + input.timeoutS * 1000),
  };
}

/** `YYYY-MM-DD` of the Asia/Shanghai calendar (UTC+8, no daylight saving). */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * The client-safe view: what `extractText` answers and what the page renders. Same field names as
 * the document; no owner id, token hash, request id or sweeper bookkeeping; timestamps as ISO text.
 */
export const taskViewSchema = z.object({
  _id: z.string(),
  task_uuid: z.string(),
  status: z.enum(TASK_STATUSES as [TaskStatus, ...TaskStatus[]]),
  platform: z.enum(PLATFORMS as [Platform, ...Platform[]]),
  input_url: z.string(),
  coze_execute_id: z.string().nullable(),
  result: taskResultSchema.nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  progress: z.number(),
  retry_count: z.number(),
  webhook_received: z.boolean(),
  notification_sent: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  expires_at: z.string(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toTaskView(doc: TaskDoc): TaskView {
  return {
    _id: doc._id,
    task_uuid: doc.task_uuid,
    status: doc.status,
    platform: doc.platform,
    input_url: doc.input_url,
    coze_execute_id: doc.coze_execute_id,
    result: doc.result,
    error_code: doc.error_code,
    error_message: doc.error_message,
    progress: doc.progress,
    retry_count: doc.retry_count,
    webhook_received: doc.webhook_received,
    notification_sent: doc.notification_sent,
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

export type { TaskResult };

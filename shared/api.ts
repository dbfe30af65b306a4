/**
 * The `extractText` contract: one schema for what the client sends, and the answer types it gets.
 * The caller is never a field here: the function reads it from WXContext.
 */
import * as z from 'zod';
import { MAX_SHARE_TEXT_LENGTH, type Platform } from './share-text';
import type { ErrorAnswer } from './errors';
import type { TaskStatus } from './status';
import type { TaskView } from './task';

const taskId = z.string().trim().min(1).max(64);

const subscribedInput = z
  .object({ success: z.boolean().default(false), failed: z.boolean().default(false) })
  .optional();

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 50;

export const extractRequestSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('create'),
    // Length is checked by the share-text parser, which answers a specific code.
    shareText: z.string().max(MAX_SHARE_TEXT_LENGTH * 4),
    requestId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.:-]{8,64}$/)
      .optional(),
    subscribed: subscribedInput,
  }),
  z.object({ action: z.literal('get'), taskId }),
  z.object({
    action: z.literal('list'),
    cursor: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(LIST_MAX_LIMIT).optional(),
  }),
  z.object({ action: z.literal('cancel'), taskId }),
  // A retry is a new tap: it may carry the templates the user accepted on it.
  z.object({ action: z.literal('retry'), taskId, subscribed: subscribedInput }),
]);

export type ExtractRequest = z.infer<typeof extractRequestSchema>;

export interface TaskAnswer {
  ok: true;
  task: TaskView;
}
export interface ListAnswer {
  ok: true;
  tasks: TaskView[];
  nextCursor: string | null;
}
export type ExtractAnswer = TaskAnswer | ListAnswer | ErrorAnswer;

/** One row of the history (`list`): enough to recognise a task without loading it. */
export interface TaskSummary {
  taskId: string;
  status: TaskStatus;
  platform: Platform;
  title: string | null;
  caption: string | null;
  snippet: string | null;
  cover: string | null;
  errorCode: string | null;
  progress: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
}

/** List cursors are opaque to the client: the created_at and id of the last task seen. */
export function encodeCursor(createdAt: Date, id: string): string {
  return `${createdAt.getTime().toString(36)}.${id}`;
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{1,64})$/.exec(cursor);
  if (!m || !m[1] || !m[2]) return null;
  const ms = parseInt(m[1], 36);
  return Number.isFinite(ms) ? { createdAt: new Date(ms), id: m[2] } : null;
}

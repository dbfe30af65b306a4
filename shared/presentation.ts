/**
 * How a task is shown to the user: status labels, the three progress stages, failure reasons,
 * word counts and times. Pure (no wx, no I/O, `now` is passed in) so the mini-program, the demo
 * and tests all render a task the same way.
 */
import { ERROR_MESSAGES, FAILURE_MESSAGES, isErrorCode, isFailureCode } from './errors';
import { PLATFORM_LABELS, PLATFORMS, type Platform } from './share-text';
import { TaskStatus, isTerminal } from './status';
import type { TaskView } from './task';
import { pad2, shanghaiParts } from './time';

export const STATUS_LABELS: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.Pending]: '排队中',
  [TaskStatus.Processing]: '提取中',
  [TaskStatus.Completed]: '已完成',
  [TaskStatus.Failed]: '失败',
  [TaskStatus.Timeout]: '已超时',
  [TaskStatus.Cancelled]: '已取消',
};

/** Badge colours, named after WeUI's semantic tones. */
export type StatusTone = 'info' | 'success' | 'error' | 'warn' | 'muted';

export const STATUS_TONES: Readonly<Record<TaskStatus, StatusTone>> = {
  [TaskStatus.Pending]: 'info',
  [TaskStatus.Processing]: 'info',
  [TaskStatus.Completed]: 'success',
  [TaskStatus.Failed]: 'error',
  [TaskStatus.Timeout]: 'warn',
  [TaskStatus.Cancelled]: 'muted',
};

export function statusLabel(status: TaskStatus): string {
  return STATUS_LABELS[status];
}

/** The supported platforms as one phrase, for the page that asks for a link. */
export const SUPPORTED_PLATFORMS_TEXT = PLATFORMS.map((p) => PLATFORM_LABELS[p]).join('、');

export function platformLabel(platform: Platform): string {
  return PLATFORM_LABELS[platform];
}

/** Media links from the platforms expire (a Douyin video link after about an hour). */
export const VIDEO_LINK_NOTE = '视频链接是临时的，通常 1 小时左右失效，请尽快保存';

/** A call that never reached the function (offline, timeout): not one of the answer codes. */
export const NETWORK_ERROR_MESSAGE = '网络不太稳定，没能连上服务，请检查网络后重试';

/** How long past `expires_at` a silent task is still given before the client calls it timed out. */
export const EXPIRY_GRACE_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Stages

export type StageKey = 'queued' | 'extracting' | 'done';
export type StageState = 'todo' | 'active' | 'done' | 'error';

export interface Stage {
  key: StageKey;
  label: string;
  state: StageState;
}

const STAGE_LABELS: Readonly<Record<StageKey, string>> = {
  queued: '排队',
  extracting: '提取文案',
  done: '完成',
};

const stage = (key: StageKey, state: StageState): Stage => ({
  key,
  label: STAGE_LABELS[key],
  state,
});

/**
 * True when the task is not finished although its deadline (plus a grace period for the
 * sweeper) has passed: the client then shows it as timed out instead of waiting forever.
 */
export function isSilentPastExpiry(
  task: Pick<TaskView, 'status' | 'expires_at'>,
  now: Date,
  graceMs = EXPIRY_GRACE_MS,
): boolean {
  if (isTerminal(task.status)) return false;
  const expires = Date.parse(task.expires_at);
  return Number.isFinite(expires) && now.getTime() > expires + graceMs;
}

/** The status to show: the stored one, or `timeout` for a task silent past its expiry. */
export function effectiveStatus(
  task: Pick<TaskView, 'status' | 'expires_at'>,
  now: Date,
): TaskStatus {
  return isSilentPastExpiry(task, now) ? TaskStatus.Timeout : task.status;
}

/** The three stages (queued, extracting, done) for a task shown with `status`. */
export function progressStages(
  task: Pick<TaskView, 'status' | 'started_at' | 'progress'>,
  status: TaskStatus = task.status,
): Stage[] {
  switch (status) {
    case TaskStatus.Pending:
      return [stage('queued', 'active'), stage('extracting', 'todo'), stage('done', 'todo')];
    case TaskStatus.Processing:
      return [stage('queued', 'done'), stage('extracting', 'active'), stage('done', 'todo')];
    case TaskStatus.Completed:
      return [stage('queued', 'done'), stage('extracting', 'done'), stage('done', 'done')];
    default: {
      // Ended without a result: mark the stage it stopped in.
      const started = task.started_at !== null || task.progress > 0;
      return started
        ? [stage('queued', 'done'), stage('extracting', 'error'), stage('done', 'todo')]
        : [stage('queued', 'error'), stage('extracting', 'todo'), stage('done', 'todo')];
    }
  }
}

/** A percentage for the progress bar: never 0 once submitted, 100 only when done. */
export function progressPercent(task: Pick<TaskView, 'progress'>, status: TaskStatus): number {
  const p = Number.isFinite(task.progress) ? Math.round(task.progress) : 0;
  switch (status) {
    case TaskStatus.Pending:
      return 5;
    case TaskStatus.Processing:
      return Math.min(99, Math.max(10, p));
    case TaskStatus.Completed:
      return 100;
    default:
      return Math.min(99, Math.max(0, p));
  }
}

/** One line under the progress bar. */
export function stageText(task: Pick<TaskView, 'progress'>, status: TaskStatus): string {
  switch (status) {
    case TaskStatus.Pending:
      return '已提交，正在排队等待开始…';
    case TaskStatus.Processing:
      return `正在提取视频里的文案… ${progressPercent(task, status)}%`;
    case TaskStatus.Completed:
      return '提取完成';
    default:
      return STATUS_LABELS[status];
  }
}

// ---------------------------------------------------------------------------------------------
// Reasons and messages

/** Why a task ended without a result, in words the user can act on. */
export function failureReason(
  task: Pick<TaskView, 'status' | 'error_code' | 'error_message'>,
  status: TaskStatus = task.status,
): string {
  if (status === TaskStatus.Cancelled) return FAILURE_MESSAGES.CANCELLED;
  if (status === TaskStatus.Timeout && task.status !== TaskStatus.Timeout) {
    // Timed out on the client's clock: the stored status says nothing yet.
    return FAILURE_MESSAGES.TIMEOUT;
  }
  if (isFailureCode(task.error_code)) return FAILURE_MESSAGES[task.error_code];
  if (task.error_message) return task.error_message;
  return status === TaskStatus.Timeout ? FAILURE_MESSAGES.TIMEOUT : FAILURE_MESSAGES.PROVIDER_ERROR;
}

/** The message for an `{ok: false}` answer: the catalogue's text for a known code. */
export function answerErrorMessage(
  error: { code?: unknown; message?: unknown } | null | undefined,
): string {
  if (error && isErrorCode(error.code)) return ERROR_MESSAGES[error.code];
  if (error && typeof error.message === 'string' && error.message !== '') return error.message;
  return ERROR_MESSAGES.INTERNAL;
}

// ---------------------------------------------------------------------------------------------
// Text and time

// CJK ideographs (basic, extension A, compatibility) counted one each; a surrogate pair in the
// supplementary ideograph planes also counts once. No `u` flag: older WeChat engines lack it.
const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\ud840-\ud87f][\udc00-\udfff]/g;
// Runs of letters or digits (Latin, full-width, Greek, Cyrillic, kana, Hangul) count as one word.
const WORD =
  /[A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3040-\u30ff\uac00-\ud7af]+/g;

/** Word count as Chinese editors count it: each Han character, plus each run of other letters. */
export function countWords(text: string): number {
  if (!text) return 0;
  const han = text.match(HAN)?.length ?? 0;
  const words = text.replace(HAN, ' ').match(WORD)?.length ?? 0;
  return han + words;
}

/** `刚刚`, `5 分钟前`, `今天 14:03`, `昨天 09:10`, `3月8日 20:15`, `2023年3月8日` (Asia/Shanghai). */
export function relativeTime(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const diff = now.getTime() - t;
  if (diff < 60_000) return '刚刚';
  if (diff < 3600_000) return `${Math.floor(diff / 60_000)} 分钟前`;
  const a = shanghaiParts(t);
  const b = shanghaiParts(now);
  const hhmm = `${pad2(a.hour)}:${pad2(a.minute)}`;
  if (a.dayIndex === b.dayIndex) return `今天 ${hhmm}`;
  if (a.dayIndex === b.dayIndex - 1) return `昨天 ${hhmm}`;
  if (a.year === b.year) return `${a.month}月${a.day}日 ${hhmm}`;
  return `${a.year}年${a.month}月${a.day}日`;
}

// ---------------------------------------------------------------------------------------------
// The whole card

export interface TaskCard {
  id: string;
  /** the status shown (a task silent past its expiry shows as timeout) */
  status: TaskStatus;
  statusLabel: string;
  tone: StatusTone;
  terminal: boolean;
  /** finished with a result */
  succeeded: boolean;
  /** the card's heading, e.g. 正在提取 / 提取完成 / 提取失败 */
  headline: string;
  /** shown as timed out by the client's clock while the stored status is still active */
  timedOutLocally: boolean;
  stages: Stage[];
  percent: number;
  stageText: string;
  platformLabel: string;
  inputUrl: string;
  title: string;
  cover: string;
  content: string;
  wordCount: number;
  videoUrl: string;
  /** why it ended without a result; empty otherwise */
  reason: string;
  canCancel: boolean;
  canRetry: boolean;
  createdText: string;
}

const HEADLINES: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.Pending]: '已提交，排队中',
  [TaskStatus.Processing]: '正在提取文案',
  [TaskStatus.Completed]: '提取完成',
  [TaskStatus.Failed]: '提取失败',
  [TaskStatus.Timeout]: '处理超时',
  [TaskStatus.Cancelled]: '已取消',
};

export function presentTask(task: TaskView, now: Date): TaskCard {
  const status = effectiveStatus(task, now);
  const terminal = isTerminal(status);
  const result = status === TaskStatus.Completed ? task.result : null;
  const fallbackTitle = `${PLATFORM_LABELS[task.platform]}视频`;
  return {
    id: task._id,
    status,
    statusLabel: STATUS_LABELS[status],
    tone: STATUS_TONES[status],
    terminal,
    succeeded: status === TaskStatus.Completed,
    headline: HEADLINES[status],
    timedOutLocally: status !== task.status,
    stages: progressStages(task, status),
    percent: progressPercent(task, status),
    stageText: stageText(task, status),
    platformLabel: PLATFORM_LABELS[task.platform],
    inputUrl: task.input_url,
    title: result?.title.trim() || fallbackTitle,
    cover: result?.cover ?? '',
    content: result?.content ?? '',
    wordCount: countWords(result?.content ?? ''),
    videoUrl: result?.video_url ?? '',
    reason: terminal && status !== TaskStatus.Completed ? failureReason(task, status) : '',
    canCancel: !terminal,
    canRetry: terminal && status !== TaskStatus.Completed,
    createdText: relativeTime(task.created_at, now),
  };
}

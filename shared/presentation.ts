/**
 * How a task is shown to the user: status labels, progress, failure reasons and their main
 * action, the wait, word counts, times and history rows. Pure (no wx, no I/O, `now` is passed
 * in) so the mini-program, the demo and tests all render a task the same way.
 */
import type { Quota, TaskSummary } from './api';
import {
  ERROR_MESSAGES,
  FAILURE_MESSAGES,
  isErrorCode,
  isFailureCode,
  type FailureCode,
} from './errors';
import { resultKind } from './result';
import { PLATFORM_LABELS, PLATFORMS, fallbackTitle, type Platform } from './share-text';
import { TaskStatus, isTerminal } from './status';
import type { TaskView } from './task';
import { pad2, shanghaiParts } from './time';

const STATUS_LABELS: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.Pending]: '排队中',
  [TaskStatus.Processing]: '提取中',
  [TaskStatus.Completed]: '已完成',
  [TaskStatus.Failed]: '失败',
  [TaskStatus.Timeout]: '已超时',
  [TaskStatus.Cancelled]: '已取消',
};

/** Badge colours, named after WeUI's semantic tones. */
export type StatusTone = 'info' | 'success' | 'error' | 'warn' | 'muted';

const STATUS_TONES: Readonly<Record<TaskStatus, StatusTone>> = {
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

/** Media links from the platforms expire (a Douyin video link after about an hour). */
export const VIDEO_LINK_NOTE = '视频链接是临时的，通常 1 小时左右失效，请尽快保存';

/** A call that never reached the function (offline, timeout): not one of the answer codes. */
export const NETWORK_ERROR_MESSAGE = '网络不太稳定，没能连上服务，请检查网络后重试';

/** How long past `expires_at` a silent task is still given before the client calls it timed out. */
export const EXPIRY_GRACE_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Status and progress

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

// ---------------------------------------------------------------------------------------------
// Reasons and messages

/** Why a task ended without a result, in words the user can act on. */
export function failureReason(
  task: Pick<TaskView, 'status' | 'error_code' | 'error_message'>,
  status: TaskStatus = task.status,
): string {
  if (status === TaskStatus.Cancelled) return FAILURE_MESSAGES.CANCELLED;
  if (status === TaskStatus.Timeout && task.status !== TaskStatus.Timeout) {
    // Timed out on the client's clock: the stored status says nothing yet. A task still waiting
    // to start is past its queue bound, which the sweeper ends as TOO_BUSY: it never ran.
    return task.status === TaskStatus.Pending
      ? FAILURE_MESSAGES.TOO_BUSY
      : FAILURE_MESSAGES.TIMEOUT;
  }
  if (isFailureCode(task.error_code)) return FAILURE_MESSAGES[task.error_code];
  if (task.error_message) return task.error_message;
  return status === TaskStatus.Timeout ? FAILURE_MESSAGES.TIMEOUT : FAILURE_MESSAGES.PROVIDER_ERROR;
}

/** Whether trying the same link again can help. */
export type FailureNature = 'permanent' | 'transient';
/** The main action a failure offers: run the same link again, or go back for another link. */
export type FailureAction = 'retry' | 'new_link';

/**
 * The one table of failure causes: permanent ones (the video itself cannot give a text) lead back
 * to the form; transient ones (the service, a timeout, a cancel) offer a retry first.
 */
export const FAILURE_OUTCOMES: Readonly<
  Record<FailureCode, { nature: FailureNature; action: FailureAction }>
> = {
  VIDEO_UNAVAILABLE: { nature: 'permanent', action: 'new_link' },
  PHOTO_NOTE: { nature: 'permanent', action: 'new_link' },
  TOO_LONG: { nature: 'permanent', action: 'new_link' },
  NO_SPEECH: { nature: 'permanent', action: 'new_link' },
  PROVIDER_ERROR: { nature: 'transient', action: 'retry' },
  UPSTREAM_UNAVAILABLE: { nature: 'transient', action: 'retry' },
  // Nothing ran and nothing was charged: the same link later, when fewer people are waiting.
  TOO_BUSY: { nature: 'transient', action: 'retry' },
  TIMEOUT: { nature: 'transient', action: 'retry' },
  // The user stopped it; the link may be fine.
  CANCELLED: { nature: 'transient', action: 'retry' },
};

/** The failure cause of a task that ended without a result; an unknown code is transient. */
export function failureOutcome(
  task: Pick<TaskView, 'status' | 'error_code'>,
  status: TaskStatus = task.status,
): { nature: FailureNature; action: FailureAction } {
  if (status === TaskStatus.Cancelled) return FAILURE_OUTCOMES.CANCELLED;
  if (status === TaskStatus.Timeout) return FAILURE_OUTCOMES.TIMEOUT;
  if (isFailureCode(task.error_code)) return FAILURE_OUTCOMES[task.error_code];
  return FAILURE_OUTCOMES.PROVIDER_ERROR;
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
// Links and waiting

/**
 * A link as one short line: host and path when short, else the host and an ellipsis. The full
 * link is what gets copied; this is only what is drawn.
 */
export function shortLink(url: string, max = 32): string {
  const bare = url.replace(/^https?:\/\//i, '');
  const cut = bare.search(/[?#]/);
  const noQuery = (cut === -1 ? bare : bare.slice(0, cut)).replace(/\/+$/, '');
  if (noQuery.length <= max && cut === -1) return noQuery;
  const slash = noQuery.indexOf('/');
  const host = slash === -1 ? noQuery : noQuery.slice(0, slash);
  return host.length < bare.length ? `${host}/…` : host;
}

/** Fewer completed tasks than this say nothing about the wait: the default wording is used. */
const MIN_WAIT_SAMPLES = 3;
/** What the wait is called without history: a workflow run of a short video takes about this. */
const DEFAULT_WAIT_TEXT = '通常约 1 分钟';
const DEFAULT_TYPICAL_MS = 60_000;

/**
 * The typical time from submit to result: the median of the completed tasks' completedAt −
 * createdAt among `recent` (the first history page). Null below MIN_WAIT_SAMPLES.
 */
export function typicalWaitMs(
  recent: readonly Pick<TaskSummary, 'status' | 'createdAt' | 'completedAt'>[],
): number | null {
  const durations = recent
    .filter((t) => t.status === TaskStatus.Completed && t.completedAt)
    .map((t) => Date.parse(t.completedAt ?? '') - Date.parse(t.createdAt))
    .filter((ms) => Number.isFinite(ms) && ms > 0)
    .sort((a, b) => a - b);
  if (durations.length < MIN_WAIT_SAMPLES) return null;
  const mid = Math.floor(durations.length / 2);
  const median =
    durations.length % 2 === 1
      ? durations[mid]!
      : Math.round((durations[mid - 1]! + durations[mid]!) / 2);
  return median;
}

/** `20 秒`, `45 秒`, `1 分钟`, `3 分钟`: rounded the way a person would say it. */
export function durationText(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 10) return `${s} 秒`;
  if (s < 55) return `${Math.round(s / 5) * 5} 秒`;
  if (s < 90) return '1 分钟';
  return `${Math.round(s / 60)} 分钟`;
}

/** Where a waiting task stands in the queue: tasks ahead of it and the estimated wait, seconds. */
export interface QueueSpot {
  ahead: number;
  waitS: number;
}

/**
 * The queue said plainly: how many wait ahead (the progress slot) and about when it starts (the
 * wait line). The wait is the queue's measured drain rate, so it moves as the queue does.
 */
function queueTexts(spot: QueueSpot): { progressText: string; waitText: string } {
  if (spot.ahead <= 0) return { progressText: '马上开始', waitText: '前面没有人了，马上开始提取' };
  return {
    progressText: `前面还有 ${spot.ahead} 个`,
    waitText:
      spot.waitS > 0
        ? `现在提取的人多，预计约 ${longDurationText(spot.waitS * 1000)}后开始`
        : '现在提取的人多，正在排队',
  };
}

/** As `durationText`, and in hours from an hour and a half on: `3 小时`. */
export function longDurationText(ms: number): string {
  return ms < 90 * 60_000 ? durationText(ms) : `${Math.round(ms / 3600_000)} 小时`;
}

/** `5月27日 14:00` in Asia/Shanghai. */
export function dateTimeText(at: Date | number): string {
  const s = shanghaiParts(at);
  return `${s.month}月${s.day}日 ${pad2(s.hour)}:${pad2(s.minute)}`;
}

/** The owner's line about a shared result: until when friends can open it; '' once it ended. */
function sharedText(sharedUntil: string | null, now: Date): string {
  const until = sharedUntil ? Date.parse(sharedUntil) : NaN;
  if (!Number.isFinite(until) || until <= now.getTime()) return '';
  return `已分享，${dateTimeText(until)} 前好友可查看`;
}

/** `14:05` in Asia/Shanghai. */
function clockText(at: Date | number): string {
  const s = shanghaiParts(at);
  return `${pad2(s.hour)}:${pad2(s.minute)}`;
}

/**
 * Today's uses in one line under the submit button: what is left and when the day starts again
 * (Shanghai midnight), or that it is spent and how long until more.
 */
export function quotaText(quota: Quota, now: Date): { text: string; usedUp: boolean } {
  const left = Math.max(0, quota.limit - quota.used);
  if (left > 0) return { text: `今天还可以提取 ${left} 次（每天 0 点重置）`, usedUp: false };
  const untilMs = Date.parse(quota.resetsAt) - now.getTime();
  const until =
    Number.isFinite(untilMs) && untilMs > 0 ? `，还有约 ${longDurationText(untilMs)}` : '';
  return { text: `今天的 ${quota.limit} 次已用完，0 点后可以再提取${until}`, usedUp: true };
}

/**
 * A submit the queue refused (TOO_BUSY): nothing was charged, and when to try again, as a wait
 * and a clock time, so the user need not guess.
 */
export function busyRefusalText(retryAfterS: number | undefined, now: Date): string {
  const s = Math.max(30, Math.round(retryAfterS ?? 300));
  const at = clockText(now.getTime() + s * 1000);
  return `现在提取的人太多了，排不上队，这次没有扣次数。请 ${longDurationText(s * 1000)}后（${at} 左右）再试`;
}

/** One honest line about the wait, from the typical duration (null = no history yet). */
export function waitText(typicalMs: number | null, elapsedMs: number): string {
  const typical = typicalMs ?? DEFAULT_TYPICAL_MS;
  // Well past the usual: say so instead of promising a time that has already passed.
  if (elapsedMs > typical * 2 + 15_000) return '这次比平时慢一些，请再稍等';
  if (typicalMs === null) return DEFAULT_WAIT_TEXT;
  return `最近的提取一般约 ${durationText(typicalMs)}完成`;
}

// ---------------------------------------------------------------------------------------------
// The whole card

/** What a cancelled task says (the catalogue's 已取消 would only repeat the headline). */
export const CANCELLED_TEXT = '你取消了这次提取，链接还可以再提取';

/** A task view as the card reads it; `caption` comes from the share text (null when none). */
export type CardTask = TaskView & { caption?: string | null };

export interface TaskCard {
  id: string;
  /** the status shown (a task silent past its expiry shows as timeout) */
  status: TaskStatus;
  terminal: boolean;
  /** finished with a result */
  succeeded: boolean;
  /** the result is a photo note's own text, not a transcript */
  isNote: boolean;
  /** shared with friends now: until when they can open it ('' when not shared now) */
  sharedText: string;
  /** what the text is called: 文案 (a transcript) or 笔记正文 (a photo note's own text) */
  contentLabel: string;
  /** the state, said once: 排队中 / 正在提取文案 / 提取完成 / 提取失败 / 处理超时 / 已取消 */
  headline: string;
  /** shown as timed out by the client's clock while the stored status is still active */
  timedOutLocally: boolean;
  percent: number;
  /** while running: the percentage, or that it is about to start */
  progressText: string;
  /** while running: how long it usually takes, or, while it waits in the queue, when it starts */
  waitText: string;
  /** it waits in the queue behind others (its place is known) */
  queued: boolean;
  platformLabel: string;
  /** the submitted link as one short line */
  sourceText: string;
  /** the result's title, else the caption of the share text, else e.g. 抖音视频 */
  title: string;
  /** what the video is about (the caption or the result's title); '' when unknown */
  subject: string;
  cover: string;
  content: string;
  wordCount: number;
  videoUrl: string;
  /** the video link as one short line (the full one is copied) */
  videoLinkText: string;
  /** why it ended without a result; empty otherwise */
  reason: string;
  /** the failure can never succeed on the same link */
  permanent: boolean;
  /** the main action of an unsuccessful end; '' while running or when completed */
  mainAction: FailureAction | '';
  /** 重试, or 重新提取 after a cancel */
  retryLabel: string;
  canCancel: boolean;
  canRetry: boolean;
  createdText: string;
}

const HEADLINES: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.Pending]: '排队中',
  [TaskStatus.Processing]: '正在提取文案',
  [TaskStatus.Completed]: '提取完成',
  [TaskStatus.Failed]: '提取失败',
  [TaskStatus.Timeout]: '处理超时',
  [TaskStatus.Cancelled]: '已取消',
};

/** Headlines a failure code says better than 提取失败. */
const FAILURE_HEADLINES: Readonly<Partial<Record<FailureCode, string>>> = {
  // Nothing ran: it waited in the queue past its bound (its quota unit was given back).
  TOO_BUSY: '排队太久，没能开始',
};

/**
 * Everything the task card draws. `typicalMs` is the typical wait from recent tasks
 * (`typicalWaitMs`), null when unknown; `queue`, where a waiting task stands in the queue now
 * (null when it is not waiting behind others, or its place is not known).
 */
export function presentTask(
  task: CardTask,
  now: Date,
  typicalMs: number | null = null,
  queue: QueueSpot | null = null,
): TaskCard {
  const status = effectiveStatus(task, now);
  const terminal = isTerminal(status);
  const succeeded = status === TaskStatus.Completed;
  const result = succeeded ? task.result : null;
  const isNote = resultKind(result) === 'note';
  const ended = terminal && !succeeded;
  const outcome = ended ? failureOutcome(task, status) : null;
  const percent = progressPercent(task, status);
  const waiting = status === TaskStatus.Pending && queue !== null ? queueTexts(queue) : null;
  // A task still waiting when its bound passed (on this phone's clock) never started, like TOO_BUSY.
  const neverStarted = status === TaskStatus.Timeout && task.status === TaskStatus.Pending;
  const failureHeadline = neverStarted
    ? FAILURE_HEADLINES.TOO_BUSY
    : ended && status === TaskStatus.Failed && isFailureCode(task.error_code)
      ? FAILURE_HEADLINES[task.error_code]
      : undefined;
  return {
    id: task._id,
    status,
    terminal,
    succeeded,
    isNote,
    contentLabel: isNote ? '笔记正文' : '文案',
    sharedText: succeeded ? sharedText(task.shared_until ?? null, now) : '',
    headline: isNote ? '已取出笔记的文字' : (failureHeadline ?? HEADLINES[status]),
    timedOutLocally: status !== task.status,
    percent,
    progressText:
      waiting?.progressText ?? (status === TaskStatus.Pending ? '马上开始' : `${percent}%`),
    waitText: terminal
      ? ''
      : (waiting?.waitText ?? waitText(typicalMs, now.getTime() - Date.parse(task.created_at))),
    queued: waiting !== null && (queue?.ahead ?? 0) > 0,
    platformLabel: PLATFORM_LABELS[task.platform],
    sourceText: shortLink(task.input_url),
    title: result?.title.trim() || fallbackTitle(task.platform, task.caption),
    subject: result?.title.trim() || task.caption?.trim() || '',
    cover: result?.cover ?? '',
    content: result?.content ?? '',
    wordCount: countWords(result?.content ?? ''),
    videoUrl: result?.video_url ?? '',
    videoLinkText: result?.video_url ? shortLink(result.video_url) : '',
    reason: !ended
      ? ''
      : status === TaskStatus.Cancelled
        ? CANCELLED_TEXT
        : failureReason(task, status),
    permanent: outcome?.nature === 'permanent',
    mainAction: outcome?.action ?? '',
    retryLabel: status === TaskStatus.Cancelled ? '重新提取' : '重试',
    canCancel: !terminal,
    canRetry: outcome?.nature === 'transient',
    createdText: relativeTime(task.created_at, now),
  };
}

// ---------------------------------------------------------------------------------------------
// The history

export interface HistoryRow {
  id: string;
  title: string;
  /** a line of the text when done; the reason or the progress otherwise */
  detail: string;
  /** the detail is a failure reason */
  detailIsReason: boolean;
  cover: string;
  /** one character on the placeholder tile when there is no cover: 抖 / 快 / 小 / 哔 */
  initial: string;
  platform: Platform;
  statusLabel: string;
  tone: StatusTone;
  meta: string;
  /** finished with a text to copy */
  canCopy: boolean;
  running: boolean;
}

const DETAIL_MAX = 60;

/** One history row: recognisable by its title, a line of text (or why not) and the cover. */
export function presentSummary(task: TaskSummary, now: Date): HistoryRow {
  // A task silent past its expiry shows as timed out, as on the task page.
  const status = effectiveStatus({ status: task.status, expires_at: task.expiresAt }, now);
  const platform = PLATFORM_LABELS[task.platform];
  const done = status === TaskStatus.Completed;
  const running = !isTerminal(status);
  const snippet = (task.snippet ?? '').replace(/\s+/g, ' ').trim();
  let detail: string;
  if (done) detail = snippet || '没有识别到文字';
  else if (running)
    detail =
      status === TaskStatus.Pending
        ? '排队中'
        : `正在提取 ${progressPercent(task, TaskStatus.Processing)}%`;
  else if (status === TaskStatus.Cancelled) detail = CANCELLED_TEXT;
  else
    detail = failureReason(
      { status: task.status, error_code: task.errorCode, error_message: null },
      status,
    );
  return {
    id: task.taskId,
    title: task.title?.trim() || fallbackTitle(task.platform, task.caption),
    detail: detail.length > DETAIL_MAX ? `${detail.slice(0, DETAIL_MAX)}…` : detail,
    detailIsReason: !done && !running && status !== TaskStatus.Cancelled,
    cover: task.cover ?? '',
    initial: platform.slice(0, 1),
    platform: task.platform,
    statusLabel: STATUS_LABELS[status],
    tone: STATUS_TONES[status],
    // 图文: the text is the note's own (a photo note), not a transcript.
    meta: `${platform}${done && task.kind === 'note' ? '图文' : ''} · ${relativeTime(task.createdAt, now)}`,
    canCopy: done && snippet !== '',
    running,
  };
}

/**
 * The error catalogue: stable codes the client can branch on, each with a Chinese message a user
 * can act on. Two families: answers of `extractText` (ErrorCode) and reasons a task ended without
 * a result (FailureCode, stored on the task as `error_code`).
 */

export const ERROR_CODES = [
  'NO_LINK',
  'UNSUPPORTED_PLATFORM',
  'INVALID_INPUT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'TOO_BUSY',
  'CONFLICT',
  'UPSTREAM_UNAVAILABLE',
  'INTERNAL',
  'SHARE_EXPIRED',
  'SHARE_REVOKED',
  'SHARE_GONE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ERROR_MESSAGES: Readonly<Record<ErrorCode, string>> = {
  NO_LINK: '没有找到视频链接，请粘贴 App 里“分享 → 复制链接”得到的完整内容',
  UNSUPPORTED_PLATFORM: '暂不支持这个链接，目前支持抖音、快手、小红书和哔哩哔哩的视频分享链接',
  INVALID_INPUT: '输入内容为空或格式不对，请重新粘贴分享内容',
  NOT_FOUND: '没有找到这条记录，它可能已被删除或不属于你',
  RATE_LIMITED: '同时进行的任务太多了，请等当前任务完成后再试',
  QUOTA_EXCEEDED: '今天的提取次数已用完，明天再来吧',
  // Refused at submit, before anything is charged: the queue would not start it in time.
  TOO_BUSY: '现在提取的人太多了，排不上队，这次没有扣次数，请过几分钟再试',
  CONFLICT: '任务当前的状态不允许这个操作，请刷新后再试',
  UPSTREAM_UNAVAILABLE: '提取服务暂时繁忙，请稍后重试',
  INTERNAL: '服务出了点问题，请稍后重试',
  // A friend's shared link (`shared`): each says what happened and what the friend can do.
  SHARE_EXPIRED: '这条分享已过期（分享后 7 天内可以查看），可以请好友重新分享一次',
  SHARE_REVOKED: '分享的人已经停止分享这条文案了',
  SHARE_GONE: '这条分享已经不在了：分享的人可能删除了这条记录，或链接不完整',
};

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

export const FAILURE_CODES = [
  'VIDEO_UNAVAILABLE',
  'PHOTO_NOTE',
  'TOO_LONG',
  'NO_SPEECH',
  'PROVIDER_ERROR',
  'UPSTREAM_UNAVAILABLE',
  'TOO_BUSY',
  'TIMEOUT',
  'CANCELLED',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export const FAILURE_MESSAGES: Readonly<Record<FailureCode, string>> = {
  VIDEO_UNAVAILABLE: '视频无法访问：可能已被删除、设为私密或仅粉丝可见',
  PHOTO_NOTE: '这是图文笔记，没有可以提取的语音',
  TOO_LONG: '视频太长了，目前支持 30 分钟以内的视频',
  NO_SPEECH: '视频里没有识别到说话的声音',
  PROVIDER_ERROR: '提取服务处理失败，请稍后重试',
  UPSTREAM_UNAVAILABLE: '提取服务暂时繁忙，多次尝试仍未能开始，请稍后重试',
  TOO_BUSY: '现在提取的人太多了，排队太久没能开始，已退回今天的次数，请稍后重试',
  TIMEOUT: '处理超时了，请重试',
  CANCELLED: '已取消',
};

export function isFailureCode(code: unknown): code is FailureCode {
  return typeof code === 'string' && (FAILURE_CODES as readonly string[]).includes(code);
}

/**
 * The codes a Coze workflow may report (the contract: shared/coze-workflow.ts). The other failure
 * codes describe our side (no run could start, the task timed out, the user cancelled), so a
 * workflow cannot claim them.
 */
export const WORKFLOW_FAILURE_CODES = [
  'VIDEO_UNAVAILABLE',
  'PHOTO_NOTE',
  'TOO_LONG',
  'NO_SPEECH',
  'PROVIDER_ERROR',
] as const satisfies readonly FailureCode[];
export type WorkflowFailureCode = (typeof WORKFLOW_FAILURE_CODES)[number];

function isWorkflowFailureCode(code: unknown): code is WorkflowFailureCode {
  return typeof code === 'string' && (WORKFLOW_FAILURE_CODES as readonly string[]).includes(code);
}

/** The code a workflow failure gets when it names none of ours. */
export const PROVIDER_ERROR = 'PROVIDER_ERROR' satisfies WorkflowFailureCode;

const FAILURE_CODE_IN_TEXT = new RegExp(
  `(?<![A-Z0-9_])(${WORKFLOW_FAILURE_CODES.join('|')})(?![A-Z0-9_])`,
);

/**
 * The one reading of a workflow's failure: its text is one of our workflow codes (any case), or
 * names one (`"PHOTO_NOTE: 图文笔记"`, the docs' workflow raises that); anything else, and nothing,
 * is PROVIDER_ERROR. Codes of our own side (TIMEOUT, CANCELLED, ...) are not a workflow's to claim.
 */
export function workflowFailureCode(...texts: (string | null | undefined)[]): WorkflowFailureCode {
  for (const text of texts) {
    const t = (text ?? '').trim();
    const upper = t.toUpperCase();
    if (isWorkflowFailureCode(upper)) return upper;
    const named = FAILURE_CODE_IN_TEXT.exec(t)?.[1];
    if (isWorkflowFailureCode(named)) return named;
  }
  return PROVIDER_ERROR;
}

/** A failure meant for the user: the code is stable, the message is the catalogue's. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Safe to answer: which field is wrong and how, never a value, stack or internal name. */
  readonly publicDetail: string | undefined;
  readonly retryAfterS: number | undefined;
  constructor(
    code: ErrorCode,
    detail?: string,
    opts: { publicDetail?: string; retryAfterS?: number } = {},
  ) {
    // `detail` is for logs only; it never reaches the user.
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'AppError';
    this.code = code;
    this.publicDetail = opts.publicDetail;
    this.retryAfterS = opts.retryAfterS;
  }
}

export interface ErrorAnswer {
  ok: false;
  /**
   * `detail` names the field a malformed request got wrong (e.g. `shareText: expected string`);
   * `retryAfterS` says when trying again may work (TOO_BUSY: the queue's estimated wait).
   */
  error: { code: ErrorCode; message: string; detail?: string; retryAfterS?: number };
}

/** Bound on an answer's `detail`: a field path and a rule, never a long text. */
const MAX_ERROR_DETAIL_LENGTH = 200;

export function errorAnswer(code: ErrorCode, detail?: string): ErrorAnswer {
  const error: ErrorAnswer['error'] = { code, message: ERROR_MESSAGES[code] };
  if (detail) error.detail = detail.slice(0, MAX_ERROR_DETAIL_LENGTH);
  return { ok: false, error };
}

/**
 * Any thrown value becomes a safe answer: an AppError keeps its code (and its public detail),
 * anything else is INTERNAL. Never carries the thrown message, stack or any value from it.
 */
export function toErrorAnswer(err: unknown): ErrorAnswer {
  if (!(err instanceof AppError)) return errorAnswer('INTERNAL');
  const answer = errorAnswer(err.code, err.publicDetail);
  if (err.retryAfterS !== undefined) answer.error.retryAfterS = Math.ceil(err.retryAfterS);
  return answer;
}

/** A one-line description of an error that is safe to log: name, code and a scrubbed message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code =
      (err as { errCode?: unknown; code?: unknown }).errCode ?? (err as { code?: unknown }).code;
    const prefix = code !== undefined ? `${err.name}(${String(code)})` : err.name;
    return `${prefix}: ${redactSecrets(err.message).slice(0, 300)}`;
  }
  return redactSecrets(String(err)).slice(0, 300);
}

/** Strips anything shaped like a credential from text bound for a log line. */
export function redactSecrets(text: string): string {
  return text
    .replace(/whsec_[A-Za-z0-9+/=]+/g, 'whsec_***')
    .replace(/\b(sat|pat)_[A-Za-z0-9]+/g, '$1_***')
    .replace(/(Bearer\s+)[^\s"']+/gi, '$1***')
    .replace(/(secret(?:id|key)?|token|password)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1$2***');
}

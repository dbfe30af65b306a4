/**
 * The Coze Open API client: start an async workflow run, read a run's history.
 *
 * Every answer is validated (zod) before anything is read from it and every call is bounded by a
 * per-attempt timeout. A start is made exactly once: a start whose first attempt may have reached
 * Coze is never sent again (that would be a second paid run under the same token), and one Coze
 * refused is the queue's to try later, not this call's (`startFailureOf` says which it was). A
 * history read is idempotent, so busy and transient failures are retried with exponential backoff
 * within a total deadline. Errors are `CozeError`s that carry a kind, Coze's code and a scrubbed
 * message only: never the token, the request or the raw axios error (its `config` holds the
 * Authorization header).
 *
 * The CN (`https://api.coze.cn`) and global (`https://api.coze.com`) services and the local
 * stand-in differ only in `baseUrl`.
 */
import axios, { type AxiosInstance } from 'axios';
import {
  COZE_CODES,
  envelopeSchema,
  historyAnswerSchema,
  runEndFromHistory,
  startAnswerSchema,
  startRequest,
  type RunEnd,
  type StartRunInput,
} from '../../shared/coze-workflow';
import { AppError, redactSecrets } from '../../shared/errors';
import { nodeHttpAdapter } from './node-http';

export interface CozeClientOptions {
  baseUrl: string;
  token: string;
  workflowId: string;
  /** Bound on one HTTP attempt. */
  timeoutMs: number;
  /** Attempts per history read, the first included; default 3. A start is always one attempt. */
  maxAttempts?: number;
  /** Base of the exponential backoff between attempts, with jitter; default 200. */
  backoffMs?: number;
  /** Bound on one call across all its attempts and backoffs; default timeoutMs * maxAttempts. */
  deadlineMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type CozeErrorKind =
  | 'busy'
  | 'timeout'
  | 'network'
  | 'server'
  | 'token_invalid'
  | 'permission'
  | 'not_published'
  | 'async_not_allowed'
  | 'run_not_found'
  | 'bad_response'
  | 'rejected';

const RETRYABLE_KINDS: ReadonlySet<CozeErrorKind> = new Set([
  'busy',
  'timeout',
  'network',
  'server',
]);

/** Coze's business codes worth telling apart (docs/platform-notes.md, "Coze Open API"). */
const CODE_KINDS: Readonly<Record<number, CozeErrorKind>> = {
  [COZE_CODES.tokenInvalid]: 'token_invalid',
  [COZE_CODES.permission]: 'permission',
  [COZE_CODES.notPublished]: 'not_published',
  [COZE_CODES.rateLimited]: 'busy',
  [COZE_CODES.busy]: 'busy',
  [COZE_CODES.runNotFound]: 'run_not_found',
  [COZE_CODES.asyncNotAllowed]: 'async_not_allowed',
};

const MAX_MESSAGE = 300;

export class CozeError extends Error {
  readonly kind: CozeErrorKind;
  readonly retryable: boolean;
  readonly cozeCode?: number;
  readonly status?: number;
  /** Coze's `detail.logid`: what Coze support asks for. */
  readonly logId?: string;
  /** A network error's system code (ECONNREFUSED, …): tells a request that never left from one cut off. */
  readonly reason?: string;

  constructor(
    kind: CozeErrorKind,
    message: string,
    extra: {
      cozeCode?: number;
      status?: number;
      logId?: string;
      reason?: string;
      retryable?: boolean;
    } = {},
  ) {
    // Callers pass scrubbed text; redact again so no path can put a credential here.
    super(redactSecrets(message).slice(0, MAX_MESSAGE));
    this.name = 'CozeError';
    this.kind = kind;
    // The kind decides, unless a caller (a test double, say) states it.
    this.retryable = extra.retryable ?? RETRYABLE_KINDS.has(kind);
    if (extra.cozeCode !== undefined) this.cozeCode = extra.cozeCode;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.logId !== undefined) this.logId = extra.logId;
    if (extra.reason !== undefined) this.reason = extra.reason;
  }

  /** Every Coze failure is the user's "extraction service unavailable"; the detail is for logs. */
  toAppError(): AppError {
    const parts = [`coze ${this.kind}`];
    if (this.cozeCode !== undefined) parts.push(`code ${this.cozeCode}`);
    if (this.status !== undefined) parts.push(`http ${this.status}`);
    return new AppError('UPSTREAM_UNAVAILABLE', parts.join(' '));
  }
}

/** The Coze workflow API as the functions use it: the only name for it. */
export interface CozeClient {
  startRun(input: StartRunInput): Promise<{ executeId: string; debugUrl?: string }>;
  /** How the run ended, or null while it runs. */
  getRun(executeId: string): Promise<RunEnd | null>;
}

/**
 * What a failed start means for its task:
 * - `not_started`: Coze refused it for rate or load (4009, 5000, HTTP 429) or the request never
 *   reached it (refused connection, no such host): nothing ran, nothing was paid; try later.
 * - `maybe_started`: the request went out and no readable answer came back (timeout, a cut
 *   connection, an unreadable body, a gateway's 5xx): the run may be going; its callbacks must be
 *   accepted and it must not be started again until the sweeper has settled it.
 * - `refused`: an answer no retry can change (bad token, unpublished workflow, plan without async
 *   runs, a malformed request).
 */
export type StartFailure = 'not_started' | 'maybe_started' | 'refused';

/** Network errors raised before a byte of the request left this machine. */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

export function startFailureOf(err: unknown): StartFailure {
  if (!(err instanceof CozeError)) return 'maybe_started';
  switch (err.kind) {
    case 'busy':
      return 'not_started';
    case 'network':
      return err.reason !== undefined && NEVER_SENT.has(err.reason)
        ? 'not_started'
        : 'maybe_started';
    case 'timeout':
    case 'server':
    case 'bad_response':
      return 'maybe_started';
    default:
      return 'refused';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Run history carries the whole spoken text double-encoded; a generous cap still bounds memory.
const MAX_ANSWER_BYTES = 20 * 1024 * 1024;

type CozeRequest = { method: 'GET' | 'POST'; url: string; data?: unknown };

/** One client's settings, checked once, and what every request shares. */
interface ClientContext {
  base: string;
  workflowId: string;
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  deadlineMs: number;
  sleep: (ms: number) => Promise<void>;
  http: AxiosInstance;
  /** Strips the token from text that came from the far side (it could echo it). */
  scrub(text: string): string;
}

function clientContext(opts: CozeClientOptions): ClientContext {
  if (typeof opts.token !== 'string' || opts.token.trim() === '') {
    throw new Error('createCozeClient: token is empty');
  }
  if (!/^https?:\/\//i.test(opts.baseUrl)) {
    throw new Error('createCozeClient: baseUrl must be an http(s) URL');
  }
  if (!(opts.timeoutMs > 0)) throw new Error('createCozeClient: timeoutMs must be positive');
  const token = opts.token;
  const maxAttempts = Math.max(1, Math.floor(opts.maxAttempts ?? 3));
  return {
    base: opts.baseUrl.replace(/\/+$/, ''),
    workflowId: opts.workflowId,
    timeoutMs: opts.timeoutMs,
    maxAttempts,
    backoffMs: Math.max(0, opts.backoffMs ?? 200),
    deadlineMs: opts.deadlineMs ?? opts.timeoutMs * maxAttempts,
    sleep: opts.sleep ?? defaultSleep,
    http: axios.create({
      // Node's http/https under axios (./node-http.ts), in tests and in the bundle alike: axios'
      // own Node adapter does not fit the bundle budget, its fetch adapter costs two to three
      // times the CPU.
      adapter: nodeHttpAdapter,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      // Status and body are judged below, so a 4xx/5xx never becomes an axios error carrying config.
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
      maxContentLength: MAX_ANSWER_BYTES,
    }),
    scrub: (text) => redactSecrets(token.length >= 4 ? text.split(token).join('***') : text),
  };
}

/** One HTTP exchange: the answer parsed, or a CozeError saying what went wrong. */
async function attempt<T>(
  ctx: ClientContext,
  label: string,
  request: CozeRequest,
  timeoutMs: number,
  parse: (json: unknown) => T | null,
): Promise<T> {
  let res;
  try {
    res = await ctx.http.request<string>({
      ...request,
      timeout: timeoutMs,
      // axios' timeout watches the socket; the signal also bounds a server that trickles bytes.
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw transportError(label, err, timeoutMs);
  }
  const status = res.status;
  const json = parseJson(typeof res.data === 'string' ? res.data : '');
  const env = envelopeSchema.safeParse(json);
  if (env.success && env.data.code !== 0) {
    const code = env.data.code;
    const kind = CODE_KINDS[code] ?? (status >= 500 ? 'server' : 'rejected');
    const msg = env.data.msg ? `: ${ctx.scrub(env.data.msg).slice(0, 200)}` : '';
    throw new CozeError(kind, `${label}: coze code ${code}${msg}`, {
      cozeCode: code,
      status,
      ...(env.data.detail?.logid ? { logId: env.data.detail.logid } : {}),
    });
  }
  // Rate limiting by a gateway in front of Coze: the same as Coze's own busy codes.
  if (status === 429) throw new CozeError('busy', `${label}: http 429`, { status });
  if (status >= 500) throw new CozeError('server', `${label}: http ${status}`, { status });
  if (status < 200 || status >= 300) {
    throw new CozeError('rejected', `${label}: http ${status}`, { status });
  }
  const parsed = env.success ? parse(json) : null;
  if (parsed === null) {
    throw new CozeError(
      'bad_response',
      `${label}: answer is ${json === undefined ? 'not JSON' : 'not the expected shape'}`,
      { status },
    );
  }
  return parsed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An idempotent read: retryable failures again until maxAttempts or the deadline. */
async function withRetries<T>(
  ctx: ClientContext,
  label: string,
  request: CozeRequest,
  parse: (json: unknown) => T | null,
): Promise<T> {
  const deadline = Date.now() + ctx.deadlineMs;
  for (let n = 1; ; n++) {
    const remaining = deadline - Date.now();
    try {
      return await attempt(
        ctx,
        label,
        request,
        Math.max(1, Math.min(ctx.timeoutMs, remaining)),
        parse,
      );
    } catch (err) {
      const e = err instanceof CozeError ? err : new CozeError('network', `${label}: failed`);
      if (!e.retryable || n >= ctx.maxAttempts) throw withAttempts(e, n);
      const delay = jitter(ctx.backoffMs * 2 ** (n - 1));
      // No time left for a useful attempt after the backoff: give up now rather than overrun.
      if (Date.now() + delay >= deadline) throw withAttempts(e, n);
      await ctx.sleep(delay);
    }
  }
}

/** Starts the run: one attempt, never repeated (see `StartFailure`). */
async function startRun(ctx: ClientContext, input: StartRunInput) {
  const answer = await attempt(
    ctx,
    'start run',
    {
      method: 'POST',
      url: `${ctx.base}/v1/workflow/run`,
      data: startRequest(ctx.workflowId, input),
    },
    ctx.timeoutMs,
    (json) => {
      const r = startAnswerSchema.safeParse(json);
      return r.success ? r.data : null;
    },
  );
  return answer.debug_url
    ? { executeId: answer.execute_id, debugUrl: answer.debug_url }
    : { executeId: answer.execute_id };
}

/**
 * The run's outcome from its history. Only the entry of this execute id counts: an answer that
 * lists other runs, or none, is "not known yet" (`run_not_found`), never another run's text.
 */
async function readRun(ctx: ClientContext, executeId: string): Promise<RunEnd | null> {
  if (typeof executeId !== 'string' || executeId === '') {
    throw new CozeError('run_not_found', 'run history: empty execute id');
  }
  const entries = await withRetries(
    ctx,
    'run history',
    {
      method: 'GET',
      url: `${ctx.base}/v1/workflows/${encodeURIComponent(ctx.workflowId)}/run_histories/${encodeURIComponent(executeId)}`,
    },
    (json) => {
      const r = historyAnswerSchema.safeParse(json);
      return r.success ? r.data.data : null;
    },
  );
  const entry = entries.find((e) => e.execute_id === executeId);
  if (!entry) throw new CozeError('run_not_found', 'run history: no entry for this run');
  return runEndFromHistory(entry, ctx.scrub);
}

export function createCozeClient(opts: CozeClientOptions): CozeClient {
  const ctx = clientContext(opts);
  return {
    startRun: (input) => startRun(ctx, input),
    getRun: (executeId) => readRun(ctx, executeId),
  };
}

// ---------------------------------------------------------------------------------------------

function jitter(ms: number): number {
  // Half fixed, half random: spreads concurrent retries without ever retrying at once.
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

function withAttempts(e: CozeError, attempts: number): CozeError {
  if (attempts <= 1) return e;
  const extra: { cozeCode?: number; status?: number; logId?: string; reason?: string } = {};
  if (e.cozeCode !== undefined) extra.cozeCode = e.cozeCode;
  if (e.status !== undefined) extra.status = e.status;
  if (e.logId !== undefined) extra.logId = e.logId;
  if (e.reason !== undefined) extra.reason = e.reason;
  return new CozeError(e.kind, `${e.message} (after ${attempts} attempts)`, {
    ...extra,
    retryable: e.retryable,
  });
}

/** An axios failure without an answer. Only its code is read: its message may carry the URL. */
function transportError(label: string, err: unknown, timeoutMs: number): CozeError {
  const code = axios.isAxiosError(err) || isCoded(err) ? String(err.code ?? '') : '';
  if (
    code === 'ECONNABORTED' ||
    code === 'ETIMEDOUT' ||
    code === 'ERR_CANCELED' ||
    axios.isCancel(err)
  ) {
    return new CozeError('timeout', `${label}: no answer within ${timeoutMs} ms`);
  }
  if (code === 'ERR_FR_MAX_CONTENT_LENGTH_EXCEEDED' || code === 'ERR_BAD_RESPONSE') {
    return new CozeError('bad_response', `${label}: answer too large or unreadable`);
  }
  // A network error carries the system's reason (ECONNREFUSED, …) as its code or in its causes.
  const reason = causeCode(err) ?? code;
  const known = /^[A-Z_]+$/.test(reason);
  return new CozeError('network', `${label}: network error${known ? ` ${reason}` : ''}`, {
    ...(known ? { reason } : {}),
  });
}

function causeCode(err: unknown): string | undefined {
  let cause = (err as { cause?: unknown } | null)?.cause;
  for (let depth = 0; cause && depth < 4; depth++) {
    if (isCoded(cause) && typeof cause.code === 'string' && /^E[A-Z_]+$/.test(cause.code)) {
      return cause.code;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

function isCoded(err: unknown): err is { code?: unknown } {
  return typeof err === 'object' && err !== null && 'code' in err;
}

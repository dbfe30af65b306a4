/**
 * The Coze Open API client: start an async workflow run, read a run's history.
 *
 * Every answer is validated (zod) before anything is read from it, every call is bounded by a
 * per-attempt timeout and a total deadline, and busy/transient failures are retried with
 * exponential backoff. Errors are `CozeError`s that carry a kind, Coze's code and a scrubbed
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
  runOutcomeFromHistory,
  startAnswerSchema,
  startRequest,
  type RunOutcome,
  type StartRunInput,
} from '../../shared/coze-workflow';
import { AppError, redactSecrets } from '../../shared/errors';
import { nodeHttpAdapter } from './node-http';

export type { RunOutcome, StartRunInput } from '../../shared/coze-workflow';

export interface CozeClientOptions {
  baseUrl: string;
  token: string;
  workflowId: string;
  /** Bound on one HTTP attempt. */
  timeoutMs: number;
  /** Attempts per call, the first included; default 3. */
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

  constructor(
    kind: CozeErrorKind,
    message: string,
    extra: { cozeCode?: number; status?: number; logId?: string; retryable?: boolean } = {},
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
  }

  /** Every Coze failure is the user's "extraction service unavailable"; the detail is for logs. */
  toAppError(): AppError {
    const parts = [`coze ${this.kind}`];
    if (this.cozeCode !== undefined) parts.push(`code ${this.cozeCode}`);
    if (this.status !== undefined) parts.push(`http ${this.status}`);
    return new AppError('UPSTREAM_UNAVAILABLE', parts.join(' '));
  }
}

// ---------------------------------------------------------------------------------------------

export interface CozeClient {
  startRun(input: StartRunInput): Promise<{ executeId: string; debugUrl?: string }>;
  getRun(executeId: string): Promise<RunOutcome>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// Run history carries the whole spoken text double-encoded; a generous cap still bounds memory.
const MAX_ANSWER_BYTES = 20 * 1024 * 1024;

export function createCozeClient(opts: CozeClientOptions): CozeClient {
  if (typeof opts.token !== 'string' || opts.token.trim() === '') {
    throw new Error('createCozeClient: token is empty');
  }
  if (!/^https?:\/\//i.test(opts.baseUrl)) {
    throw new Error('createCozeClient: baseUrl must be an http(s) URL');
  }
  if (!(opts.timeoutMs > 0)) throw new Error('createCozeClient: timeoutMs must be positive');
  const base = opts.baseUrl.replace(/\/+$/, '');
  const maxAttempts = Math.max(1, Math.floor(opts.maxAttempts ?? 3));
  const backoffMs = Math.max(0, opts.backoffMs ?? 200);
  const deadlineMs = opts.deadlineMs ?? opts.timeoutMs * maxAttempts;
  const sleep = opts.sleep ?? defaultSleep;
  const token = opts.token;

  // Messages from the far side could echo the token; strip it whatever its shape.
  const scrub = (text: string): string =>
    redactSecrets(token.length >= 4 ? text.split(token).join('***') : text);

  const http: AxiosInstance = axios.create({
    // Node's http/https under axios (./node-http.ts), in tests and in the bundle alike: axios' own
    // Node adapter does not fit the bundle budget, its fetch adapter costs two to three times the CPU.
    adapter: nodeHttpAdapter,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    // Status and body are judged below, so a 4xx/5xx never becomes an axios error carrying config.
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
  });

  async function attempt<T>(
    label: string,
    request: { method: 'GET' | 'POST'; url: string; data?: unknown },
    timeoutMs: number,
    parse: (json: unknown) => T | null,
  ): Promise<T> {
    let res;
    try {
      res = await http.request<string>({
        ...request,
        timeout: timeoutMs,
        // axios' timeout watches the socket; the signal also bounds a server that trickles bytes.
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw transportError(label, err, timeoutMs);
    }
    const status = res.status;
    const text = typeof res.data === 'string' ? res.data : '';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const env = envelopeSchema.safeParse(json);
    if (env.success && env.data.code !== 0) {
      const code = env.data.code;
      const kind = CODE_KINDS[code] ?? (status >= 500 ? 'server' : 'rejected');
      const msg = env.data.msg ? `: ${scrub(env.data.msg).slice(0, 200)}` : '';
      throw new CozeError(kind, `${label}: coze code ${code}${msg}`, {
        cozeCode: code,
        status,
        ...(env.data.detail?.logid ? { logId: env.data.detail.logid } : {}),
      });
    }
    if (status >= 500) throw new CozeError('server', `${label}: http ${status}`, { status });
    // Rate limiting by a gateway in front of Coze: the same as Coze's own busy codes.
    if (status === 429) throw new CozeError('busy', `${label}: http 429`, { status });
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

  /** Retries retryable failures until maxAttempts or the deadline, whichever comes first. */
  async function call<T>(
    label: string,
    request: { method: 'GET' | 'POST'; url: string; data?: unknown },
    parse: (json: unknown) => T | null,
  ): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    for (let n = 1; ; n++) {
      const remaining = deadline - Date.now();
      try {
        return await attempt(
          label,
          request,
          Math.max(1, Math.min(opts.timeoutMs, remaining)),
          parse,
        );
      } catch (err) {
        const e = err instanceof CozeError ? err : new CozeError('network', `${label}: failed`);
        if (!e.retryable || n >= maxAttempts) throw withAttempts(e, n);
        const delay = jitter(backoffMs * 2 ** (n - 1));
        // No time left for a useful attempt after the backoff: give up now rather than overrun.
        if (Date.now() + delay >= deadline) throw withAttempts(e, n);
        await sleep(delay);
      }
    }
  }

  return {
    async startRun(input) {
      const answer = await call(
        'start run',
        {
          method: 'POST',
          url: `${base}/v1/workflow/run`,
          data: startRequest(opts.workflowId, input),
        },
        (json) => {
          const r = startAnswerSchema.safeParse(json);
          return r.success ? r.data : null;
        },
      );
      return answer.debug_url
        ? { executeId: answer.execute_id, debugUrl: answer.debug_url }
        : { executeId: answer.execute_id };
    },

    async getRun(executeId) {
      if (typeof executeId !== 'string' || executeId === '') {
        throw new CozeError('run_not_found', 'run history: empty execute id');
      }
      const entries = await call(
        'run history',
        {
          method: 'GET',
          url: `${base}/v1/workflows/${encodeURIComponent(opts.workflowId)}/run_histories/${encodeURIComponent(executeId)}`,
        },
        (json) => {
          const r = historyAnswerSchema.safeParse(json);
          return r.success ? r.data.data : null;
        },
      );
      const entry = entries.find((e) => e.execute_id === executeId) ?? entries[0];
      if (!entry) throw new CozeError('run_not_found', 'run history: no entry for this run');
      return runOutcomeFromHistory(entry, scrub);
    },
  };
}

// ---------------------------------------------------------------------------------------------

function jitter(ms: number): number {
  // Half fixed, half random: spreads concurrent retries without ever retrying at once.
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

function withAttempts(e: CozeError, attempts: number): CozeError {
  if (attempts <= 1) return e;
  const extra: { cozeCode?: number; status?: number; logId?: string } = {};
  if (e.cozeCode !== undefined) extra.cozeCode = e.cozeCode;
  if (e.status !== undefined) extra.status = e.status;
  if (e.logId !== undefined) extra.logId = e.logId;
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
  return new CozeError(
    'network',
    `${label}: network error${/^[A-Z_]+$/.test(reason) ? ` ${reason}` : ''}`,
  );
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

/**
 * A stand-in for the Coze Open API on the local stack, mounted under `/coze`, so that
 * `COZE_API_BASE=http://127.0.0.1:$PORT/coze` works with the unchanged Coze client.
 *
 * It answers the real request and response shapes of the contract (shared/coze-workflow.ts: async
 * run start, run history with the double-encoded output, Coze's error codes) and plays OUR
 * workflow (docs/coze-workflow.md, simulated-workflow.ts):
 * progress callbacks, then a signed `completed` or `failed` callback to the run's `callback_url`.
 * Its results are plainly marked as simulated. Fault knobs, for tests: callbacks dropped,
 * duplicated or reordered, and a share of starts answering "busy".
 *
 * Runs are kept in `<dataDir>/coze-standin.json` (written atomically), so run history survives a
 * restart and unfinished runs carry on from their start time.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { readBody, sendJson } from '../emulator/routes';
import { type CallbackBodyInput, type CallbackType } from '../shared/callback';
import { signCallback } from '../shared/signing';
import { resultKind } from '../shared/result';
import {
  CALLBACK_URL_PATTERN,
  COZE_CODES,
  START_INPUTS,
  type StartParameters,
} from '../shared/coze-workflow';
import { redactSecrets } from '../shared/errors';
import {
  debugUrl,
  historyEntry,
  newExecuteId,
  storeSchema,
  type StandinDelivery,
  type StandinRun,
} from './runs';
import {
  CALLBACK_MODES,
  isCallbackMode,
  planFor,
  simulateOutcome,
  type CallbackMode,
  type PlannedOutcome,
  type Step,
} from './simulated-workflow';

export { CALLBACK_MODES, historyEntry, simulateOutcome };
export type { CallbackMode, PlannedOutcome, StandinDelivery, StandinRun };

export interface CozeStandinOptions {
  dataDir: string;
  token: string;
  workflowId: string;
  webhookSecret: string;
  /** COZE_STANDIN_DELAY_MS: time from start to the final callback; default 1500. */
  delayMs?: number;
  callbackMode?: CallbackMode;
  /** 0..1: share of starts answering code 5000 (busy). */
  createErrorRate?: number;
  /** How a start that did start the run is answered (COZE_STANDIN_START_ANSWER); default normal. */
  startAnswer?: StartAnswerMode;
  random?: () => number;
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * How a start that did start its run is answered: `normal`; `truncated` JSON or an `empty` body
 * (HTTP 200, as a broken gateway might); `slow`, after SLOW_START_MS, past any start's timeout.
 * In all three faults the run is going: the backend must treat the start as maybe started.
 */
export const START_ANSWER_MODES = ['normal', 'truncated', 'empty', 'slow'] as const;
export type StartAnswerMode = (typeof START_ANSWER_MODES)[number];
const SLOW_START_MS = 12_000;

function isStartAnswerMode(v: unknown): v is StartAnswerMode {
  return (START_ANSWER_MODES as readonly unknown[]).includes(v);
}

/** The fault knobs, changeable while the stand-in runs; a change applies to runs started after it. */
export interface StandinSettings {
  delayMs: number;
  callbackMode: CallbackMode;
  createErrorRate: number;
  startAnswer: StartAnswerMode;
}

/** A callback as it was posted (what a replay re-posts: the same bytes and headers, kept in memory only). */
export interface RecordedCallback {
  seq: number;
  executeId: string;
  taskId: string;
  webhookId: string;
  type: CallbackType;
  progress: number;
  at: number;
  httpStatus: number | null;
  replayOf: number | null;
}

export interface CozeStandin {
  prefix: '/coze';
  settings(): StandinSettings;
  /** Validates and applies a change of knobs; answers the knobs now in force. */
  configure(patch: Partial<StandinSettings>): StandinSettings;
  /** The callbacks posted since start, oldest first (no body, no headers: they carry the token). */
  recorded(): RecordedCallback[];
  /** Posts a recorded callback again, byte for byte; answers the webhook's status and answer. */
  replay(seq: number): Promise<{ httpStatus: number | null; answer: string }>;
  handler(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Copies of every run known, oldest first. */
  runs(): StandinRun[];
  /**
   * Resolves once no callback is in flight or still scheduled: every run has carried out its whole
   * plan (or the stand-in was closed).
   */
  settle(): Promise<void>;
  /** Cancels timers and in-flight posts; unfinished runs resume when a stand-in reopens the data. */
  close(): Promise<void>;
}

const PREFIX = '/coze';
const DEFAULT_DELAY_MS = 1500;
const MAX_DELAY_MS = 600_000;
// A short bound, like the workflow's HTTP node timeout: a slow webhook must not stall the run.
const CALLBACK_TIMEOUT_MS = 5000;
const MAX_REQUEST_BYTES = 1024 * 1024;
// Coze keeps run history about 7 days.
const HISTORY_KEEP_MS = 7 * 24 * 3600 * 1000;
const STORE_FILE = 'coze-standin.json';
const PERSIST_DEBOUNCE_MS = 25;
const MAX_KEPT_RUNS = 5000;

// ---------------------------------------------------------------------------------------------
// Options from the environment

export function standinOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  base: { dataDir: string; token: string; workflowId: string; webhookSecret: string },
): CozeStandinOptions {
  const out: CozeStandinOptions = { ...base };
  const delay = env.COZE_STANDIN_DELAY_MS?.trim();
  if (delay) {
    if (!/^\d+$/.test(delay) || Number(delay) > MAX_DELAY_MS) {
      throw new Error(
        `COZE_STANDIN_DELAY_MS must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}, got ${JSON.stringify(delay)}`,
      );
    }
    out.delayMs = Number(delay);
  }
  const mode = env.COZE_STANDIN_CALLBACK?.trim().toLowerCase();
  if (mode) {
    if (!isCallbackMode(mode)) {
      throw new Error(
        `COZE_STANDIN_CALLBACK must be one of ${CALLBACK_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
      );
    }
    out.callbackMode = mode;
  }
  const rate = env.COZE_STANDIN_CREATE_ERROR_RATE?.trim();
  if (rate) {
    const n = Number(rate);
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(rate) || !(n >= 0 && n <= 1)) {
      throw new Error(
        `COZE_STANDIN_CREATE_ERROR_RATE must be a number from 0 to 1, got ${JSON.stringify(rate)}`,
      );
    }
    out.createErrorRate = n;
  }
  const startAnswer = env.COZE_STANDIN_START_ANSWER?.trim().toLowerCase();
  if (startAnswer) {
    if (!isStartAnswerMode(startAnswer)) {
      throw new Error(
        `COZE_STANDIN_START_ANSWER must be one of ${START_ANSWER_MODES.join(', ')}, got ${JSON.stringify(startAnswer)}`,
      );
    }
    out.startAnswer = startAnswer;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function checkSettings(s: StandinSettings): StandinSettings {
  const { delayMs, callbackMode, createErrorRate, startAnswer } = s;
  if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS)) {
    throw new Error(`coze stand-in: delayMs must be 0..${MAX_DELAY_MS}`);
  }
  if (!isCallbackMode(callbackMode))
    throw new Error(`coze stand-in: unknown callbackMode ${String(callbackMode)}`);
  if (!(createErrorRate >= 0 && createErrorRate <= 1))
    throw new Error('coze stand-in: createErrorRate must be 0..1');
  if (!isStartAnswerMode(startAnswer))
    throw new Error(`coze stand-in: unknown startAnswer ${String(startAnswer)}`);
  return { delayMs, callbackMode, createErrorRate, startAnswer };
}

const MAX_RECORDED = 500;
type Recorded = RecordedCallback & { headers: Record<string, string>; body: string; url: string };

export function createCozeStandin(opts: CozeStandinOptions): CozeStandin {
  let knobs = checkSettings({
    delayMs: opts.delayMs ?? DEFAULT_DELAY_MS,
    callbackMode: opts.callbackMode ?? 'normal',
    createErrorRate: opts.createErrorRate ?? 0,
    startAnswer: opts.startAnswer ?? 'normal',
  });
  const recorded: (RecordedCallback & {
    headers: Record<string, string>;
    body: string;
    url: string;
  })[] = [];
  let recordSeq = 0;
  if (!opts.token) throw new Error('coze stand-in: token is empty');
  // Fails now, not at the first callback, when the secret is unusable (the message has no secret).
  signCallback(opts.webhookSecret, 'probe', 0, '');

  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const sink = opts.log ?? ((line: string) => console.log(line));
  // Every line is scrubbed: a share text or an error could carry something credential-shaped.
  const log = (line: string) => sink(redactSecrets(`[coze-standin] ${line}`));

  const storePath = join(opts.dataDir, STORE_FILE);
  const runs = new Map<string, StandinRun>();
  const loops = new Set<Promise<void>>();
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const aborter = new AbortController();
  let closed = false;
  let flushTimer: NodeJS.Timeout | null = null;

  mkdirSync(opts.dataDir, { recursive: true });
  load();

  function load(): void {
    if (!existsSync(storePath)) return;
    let parsed;
    try {
      parsed = storeSchema.safeParse(JSON.parse(readFileSync(storePath, 'utf8')));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      // Keep the unreadable file for a human and start empty rather than refuse to start.
      const aside = `${storePath}.unreadable-${now()}`;
      renameSync(storePath, aside);
      log(`stored runs unreadable; moved to ${aside}`);
      return;
    }
    const keepAfter = now() - HISTORY_KEEP_MS;
    for (const run of parsed.data.runs)
      if (run.startedAt >= keepAfter) runs.set(run.executeId, run);
  }

  /** Writes the store now: a temporary file renamed over the old one. */
  function flush(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    const keepAfter = now() - HISTORY_KEEP_MS;
    for (const [id, run] of runs) if (run.startedAt < keepAfter) runs.delete(id);
    // Oldest first (insertion order): drop the oldest beyond the cap so the file stays small.
    for (const id of runs.keys()) {
      if (runs.size <= MAX_KEPT_RUNS) break;
      runs.delete(id);
    }
    const tmp = `${storePath}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, runs: [...runs.values()] }));
    // rename is atomic on one filesystem: a reader or a crash sees the old file or the new one.
    renameSync(tmp, storePath);
  }

  /**
   * Coalesces writes: a benchmark's hundreds of runs would otherwise rewrite the whole file on
   * every callback. A crash inside the window at worst re-sends a step on resume.
   */
  function persist(): void {
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      try {
        flush();
      } catch (err) {
        // A full disk must not crash the local stack from a timer; the next write tries again.
        log(`could not write ${storePath}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }, PERSIST_DEBOUNCE_MS);
  }

  /** Resolves after `ms`, or at once when the stand-in closes. */
  function wait(ms: number): Promise<void> {
    if (closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(
          () => {
            waits.delete(entry);
            resolve();
          },
          Math.max(0, ms),
        ),
        resolve,
      };
      waits.add(entry);
    });
  }

  function track(p: Promise<void>): void {
    loops.add(p);
    void p.finally(() => loops.delete(p));
  }

  /** Carries out the run's plan from where it stands, each step at startedAt + step.at. */
  async function drive(run: StandinRun): Promise<void> {
    const plan = planFor(run);
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i]!;
      if (run.stepsDone.includes(i)) continue;
      await wait(run.startedAt + step.at - now());
      if (closed) return;
      const key = String(i);
      let webhookId = run.webhookIds[key];
      if (!webhookId) {
        webhookId = `msg_${randomUUID().replace(/-/g, '')}`;
        run.webhookIds[key] = webhookId;
        persist();
      }
      for (let c = 0; c < step.copies && !closed; c++) await deliver(run, step, webhookId);
      if (closed) return;
      if (step.final && run.finishedAt === null) run.finishedAt = now();
      run.stepsDone.push(i);
      persist();
    }
  }

  async function deliver(run: StandinRun, step: Step, webhookId: string): Promise<void> {
    const { outcome } = run;
    // As sign_callback sends it: `kind` always said (transcript unless the note's own text).
    const output =
      step.type === 'workflow.execution.completed' && outcome.kind === 'completed'
        ? { ...outcome.result, kind: resultKind(outcome.result) }
        : { title: '', content: '', cover: '', video_url: '' };
    const error =
      step.type === 'workflow.execution.failed' && outcome.kind === 'failed'
        ? { code: outcome.errorCode, message: outcome.errorMessage }
        : { code: '', message: '' };
    // The exact text that is signed and sent, as the workflow's code node builds it.
    const callback = {
      type: step.type,
      data: {
        task_id: run.taskId,
        execute_id: run.executeId,
        callback_token: run.callbackToken,
        progress: step.progress,
        output,
        error,
      },
    } satisfies CallbackBodyInput;
    const body = JSON.stringify(callback);
    const at = now();
    const timestamp = Math.floor(at / 1000);
    const delivery: StandinDelivery = {
      type: step.type,
      progress: step.progress,
      webhookId,
      at,
      httpStatus: null,
    };
    const what = `run ${run.executeId} task ${run.taskId}: ${step.type} ${step.progress} (${webhookId})`;
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signCallback(opts.webhookSecret, webhookId, timestamp, body),
    };
    const record: Recorded = {
      seq: ++recordSeq,
      executeId: run.executeId,
      taskId: run.taskId,
      webhookId,
      type: step.type,
      progress: step.progress,
      at,
      httpStatus: null,
      replayOf: null,
      headers,
      body,
      url: run.callbackUrl,
    };
    recorded.push(record);
    if (recorded.length > MAX_RECORDED) recorded.splice(0, recorded.length - MAX_RECORDED);
    try {
      const res = await fetch(run.callbackUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), aborter.signal]),
      });
      // The answer is not needed, only its status; drain it so the socket is freed.
      await res.arrayBuffer().catch(() => undefined);
      delivery.httpStatus = res.status;
      record.httpStatus = res.status;
      log(`${what} -> ${res.status}`);
    } catch (err) {
      // Like the HTTP node set to ignore exceptions: logged, never retried, the run goes on.
      if (!closed) log(`${what} -> post failed (${fetchFailure(err)}); not retried`);
    }
    run.deliveries.push(delivery);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const rawUrl = req.url ?? '/';
      const url = rawUrl.startsWith(PREFIX) ? rawUrl.slice(PREFIX.length) || '/' : rawUrl;
      const path = url.split('?')[0] ?? '/';
      const body = await readBody(req, MAX_REQUEST_BYTES);
      if (!authorized(req)) {
        return answer(res, 401, {
          code: COZE_CODES.tokenInvalid,
          msg: 'authentication is invalid: check the access token',
        });
      }
      if (req.method === 'POST' && path === '/v1/workflow/run') return startRun(body, res);
      const m = /^\/v1\/workflows\/([^/]+)\/run_histories\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) return history(decode(m[1]!), decode(m[2]!), res);
      return answer(res, 404, {
        code: COZE_CODES.invalidRequest,
        msg: `no such API in the Coze stand-in: ${req.method} ${path}`,
      });
    } catch (err) {
      log(`internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent)
        answer(res, 500, { code: COZE_CODES.busy, msg: 'stand-in internal error' });
      else res.end();
    }
  }

  function authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${opts.token}`;
  }

  function startRun(body: Buffer | null, res: ServerResponse): void {
    const invalid = (msg: string) => answer(res, 200, { code: COZE_CODES.invalidRequest, msg });
    if (body === null) {
      return answer(res, 413, { code: COZE_CODES.invalidRequest, msg: 'request body too large' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return invalid('invalid request body: not JSON');
    }
    const req = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (req.workflow_id !== opts.workflowId) return notPublished(res);
    if (req.is_async !== true)
      return invalid('the stand-in runs workflows only with is_async: true');
    const params = (
      typeof req.parameters === 'object' && req.parameters !== null ? req.parameters : {}
    ) as Record<string, unknown>;
    const missing = START_INPUTS.filter((n) => typeof params[n] !== 'string' || params[n] === '');
    if (missing.length > 0) return invalid(`missing required parameter: ${missing.join(', ')}`);
    const p = params as StartParameters;
    if (!CALLBACK_URL_PATTERN.test(p.callback_url)) {
      return invalid('parameter callback_url is not an http(s) URL');
    }
    if (closed) {
      return answer(res, 503, {
        code: COZE_CODES.busy,
        msg: 'busy: the stand-in is shutting down',
      });
    }
    const { delayMs, callbackMode: mode, createErrorRate: errorRate } = knobs;
    if (errorRate > 0 && random() < errorRate) {
      log(`start for task ${p.task_id}: answering 5000 busy (COZE_STANDIN_CREATE_ERROR_RATE)`);
      return answer(res, 200, { code: COZE_CODES.busy, msg: 'busy' });
    }
    const executeId = newExecuteId();
    const run: StandinRun = {
      executeId,
      workflowId: opts.workflowId,
      taskId: p.task_id,
      shareText: p.share_text,
      callbackUrl: p.callback_url,
      callbackToken: p.callback_token,
      startedAt: now(),
      delayMs,
      mode,
      outcome: simulateOutcome(p.share_text, executeId),
      stepsDone: [],
      webhookIds: {},
      finishedAt: null,
      deliveries: [],
    };
    runs.set(executeId, run);
    persist();
    track(drive(run));
    log(
      `run ${executeId} started for task ${p.task_id} (${mode}, ${delayMs} ms, ends ${run.outcome.kind})`,
    );
    answerStart(res, executeId);
  }

  /** The start's answer, as the `startAnswer` knob says; the run is going whatever it says. */
  function answerStart(res: ServerResponse, executeId: string): void {
    const ok = { code: 0, msg: 'Success', execute_id: executeId, debug_url: debugUrl(executeId) };
    const mode = knobs.startAnswer;
    if (mode !== 'normal')
      log(`run ${executeId}: start answered ${mode} (COZE_STANDIN_START_ANSWER)`);
    switch (mode) {
      case 'normal':
        return answer(res, 200, ok);
      case 'truncated':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(ok).slice(0, 24));
      case 'empty':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 0 });
        return void res.end();
      case 'slow':
        track(wait(SLOW_START_MS).then(() => (res.destroyed ? undefined : answer(res, 200, ok))));
        return;
    }
  }

  function history(workflowId: string, executeId: string, res: ServerResponse): void {
    if (workflowId !== opts.workflowId) return notPublished(res);
    const run = runs.get(executeId);
    if (!run || run.workflowId !== workflowId) {
      return answer(res, 200, { code: COZE_CODES.runNotFound, msg: 'execute record not found' });
    }
    answer(res, 200, { code: 0, msg: '', data: [historyEntry(run)] });
  }

  function notPublished(res: ServerResponse): void {
    answer(res, 200, { code: COZE_CODES.notPublished, msg: 'workflow not found or not published' });
  }

  // Resume what a previous process left unfinished.
  for (const run of runs.values()) {
    if (run.stepsDone.length < planFor(run).length) {
      log(`resuming run ${run.executeId} for task ${run.taskId}`);
      track(drive(run));
    }
  }

  async function replay(seq: number): Promise<{ httpStatus: number | null; answer: string }> {
    const original = recorded.find((r) => r.seq === seq);
    if (!original) throw new Error(`no recorded callback #${seq}`);
    const copy: Recorded = {
      ...original,
      seq: ++recordSeq,
      at: now(),
      httpStatus: null,
      replayOf: seq,
    };
    recorded.push(copy);
    try {
      const res = await fetch(original.url, {
        method: 'POST',
        headers: original.headers,
        body: original.body,
        signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), aborter.signal]),
      });
      const answer = await res.text();
      copy.httpStatus = res.status;
      log(`replayed callback #${seq} (${original.webhookId}) -> ${res.status}`);
      return { httpStatus: res.status, answer: answer.slice(0, 500) };
    } catch (err) {
      return { httpStatus: null, answer: fetchFailure(err) };
    }
  }

  return {
    prefix: PREFIX,
    handler,
    settings: () => ({ ...knobs }),
    configure(patch) {
      knobs = checkSettings({ ...knobs, ...patch });
      log(
        `settings: callbacks ${knobs.callbackMode}, start error rate ${knobs.createErrorRate}, start answer ${knobs.startAnswer}, run ${knobs.delayMs} ms`,
      );
      return { ...knobs };
    },
    recorded: () => recorded.map(({ headers: _h, body: _b, url: _u, ...meta }) => ({ ...meta })),
    replay,
    runs: () => [...runs.values()].map((r) => structuredClone(r)),
    async settle() {
      while (loops.size > 0) await Promise.allSettled([...loops]);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const w of waits) {
        clearTimeout(w.timer);
        w.resolve();
      }
      waits.clear();
      aborter.abort();
      await Promise.allSettled([...loops]);
      flush();
    },
  };
}

// ---------------------------------------------------------------------------------------------

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Every Coze answer carries a log id, in the body and in `x-tt-logid`. */
function answer(res: ServerResponse, status: number, body: object): void {
  const logid = randomUUID().replace(/-/g, '');
  sendJson(res, status, { ...body, detail: { logid } }, { 'x-tt-logid': logid });
}

function fetchFailure(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const code =
      typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
    if (err.name === 'TimeoutError') return `no answer within ${CALLBACK_TIMEOUT_MS} ms`;
    return typeof code === 'string' ? `${err.message}: ${code}` : err.message;
  }
  return String(err);
}

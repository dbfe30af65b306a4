/**
 * A stand-in for the Coze Open API on the local stack, mounted under `/coze`, so that
 * `COZE_API_BASE=http://127.0.0.1:$PORT/coze` works with the unchanged Coze client.
 *
 * It answers the real request and response shapes (async run start, run history with the
 * double-encoded output, Coze's error codes) and plays OUR workflow (docs/coze-workflow.md):
 * progress callbacks, then a signed `completed` or `failed` callback to the run's `callback_url`.
 * Its results are plainly marked as simulated. Fault knobs, for tests: callbacks dropped,
 * duplicated or reordered, and a share of starts answering "busy".
 *
 * Runs are kept in `<dataDir>/coze-standin.json` (written atomically), so run history survives a
 * restart and unfinished runs carry on from their start time.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import * as z from 'zod';
import { CALLBACK_TYPES, signCallback, type CallbackType } from '../shared/callback';
import { FAILURE_MESSAGES, redactSecrets } from '../shared/errors';
import { PLATFORM_LABELS, parseShareText, type Platform } from '../shared/share-text';
import type { TaskResult } from '../shared/status';

export const CALLBACK_MODES = ['normal', 'drop', 'duplicate', 'reorder'] as const;
export type CallbackMode = (typeof CALLBACK_MODES)[number];

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
  random?: () => number;
  log?: (line: string) => void;
  now?: () => number;
}

export type StandinOutcome =
  | { status: 'Success'; output: TaskResult }
  | { status: 'Fail'; errorCode: string; errorMessage: string };

export interface StandinDelivery {
  type: CallbackType;
  progress: number;
  webhookId: string;
  /** ms since epoch, when the post was made */
  at: number;
  /** the webhook's HTTP status; null when the post failed */
  httpStatus: number | null;
}

export interface StandinRun {
  executeId: string;
  workflowId: string;
  taskId: string;
  shareText: string;
  callbackUrl: string;
  /** Kept so a restarted stand-in can still sign its callbacks; local data only. */
  callbackToken: string;
  /** ms since epoch */
  startedAt: number;
  delayMs: number;
  mode: CallbackMode;
  outcome: StandinOutcome;
  /** Indexes of the callback plan's steps already carried out. */
  stepsDone: number[];
  /** webhook-id per plan step, fixed before the first post so a re-delivery reuses it. */
  webhookIds: Record<string, string>;
  /** When the final step ran (the run history says Running until then). */
  finishedAt: number | null;
  deliveries: StandinDelivery[];
}

export interface CozeStandin {
  prefix: '/coze';
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
const SIMULATED_MEDIA = 'https://example.invalid/coze-standin';

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
  return out;
}

function isCallbackMode(v: string): v is CallbackMode {
  return (CALLBACK_MODES as readonly string[]).includes(v);
}

// ---------------------------------------------------------------------------------------------
// What the simulated workflow does with a share text

interface FoundLink {
  platform: Platform | null;
  url: string;
  path: string;
}

function findLink(shareText: string): FoundLink | null {
  const parsed = parseShareText(shareText);
  // Links the product would refuse still get an answer here: the stand-in plays the workflow,
  // and a `.../fail` link must fail even where the parser would not accept its path.
  const raw = parsed.ok
    ? parsed.url
    : /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/i.exec(shareText)?.[0];
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return { platform: parsed.ok ? parsed.platform : null, url: raw, path: u.pathname };
  } catch {
    return null;
  }
}

function simulatedFailure(code: 'VIDEO_UNAVAILABLE' | 'PHOTO_NOTE', why: string): StandinOutcome {
  return {
    status: 'Fail',
    errorCode: code,
    errorMessage: `${FAILURE_MESSAGES[code]}（本地模拟：${why}）`,
  };
}

export function simulateOutcome(shareText: string, executeId: string): StandinOutcome {
  const link = findLink(shareText);
  if (!link) return simulatedFailure('VIDEO_UNAVAILABLE', '分享内容里没有可访问的链接');
  if (/fail/i.test(link.path)) return simulatedFailure('VIDEO_UNAVAILABLE', '链接路径含 fail');
  if (link.platform === 'douyin' && /\/note\//.test(link.path)) {
    return simulatedFailure('PHOTO_NOTE', '抖音 /note/ 链接是图文笔记');
  }
  const label = link.platform ? PLATFORM_LABELS[link.platform] : '';
  const segment = link.path.split('/').filter(Boolean).pop() ?? '';
  return {
    status: 'Success',
    output: {
      title: `【模拟】${label}视频 ${segment}`.replace(/\s+$/, ''),
      content:
        `（本地模拟结果，非真实识别）这段文字由本地开发环境的 Coze 替身生成，不是视频里真正说的话。` +
        `链接是 ${link.url}。接入真正的 Coze 工作流后，这里会是视频语音的逐字文案。` +
        `大家好，欢迎收看本期视频，记得点赞关注哦 😊。`,
      cover: `${SIMULATED_MEDIA}/cover/${executeId}.jpg`,
      video_url: `${SIMULATED_MEDIA}/video/${executeId}.mp4`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The callback plan of a run

interface Step {
  /** ms after the start */
  at: number;
  type: CallbackType;
  progress: number;
  /** deliveries of this step, all with its one webhook-id */
  copies: number;
  /** the step that ends the run (its history turns final) */
  final: boolean;
}

function planFor(run: Pick<StandinRun, 'delayMs' | 'mode' | 'outcome'>): Step[] {
  const d = run.delayMs;
  const finalType: CallbackType =
    run.outcome.status === 'Success' ? 'workflow.execution.completed' : 'workflow.execution.failed';
  const p30: Step = {
    at: Math.round(d / 3),
    type: 'workflow.execution.progress',
    progress: 30,
    copies: 1,
    final: false,
  };
  const p70: Step = { ...p30, at: Math.round((2 * d) / 3), progress: 70 };
  const end: Step = { at: d, type: finalType, progress: 100, copies: 1, final: true };
  switch (run.mode) {
    case 'normal':
      return [p30, p70, end];
    case 'drop':
      // The run still ends on time: the history tells the truth though nobody was called.
      return [p30, p70, end].map((s) => ({ ...s, copies: 0 }));
    case 'duplicate':
      // Each delivery twice under one id (a transport retry), then the final once more under a
      // new id (the user re-ran the last node): the webhook must take both as no-ops.
      return [
        { ...p30, copies: 2 },
        { ...p70, copies: 2 },
        { ...end, copies: 2 },
        { ...end, final: false },
      ];
    case 'reorder':
      return [p30, end, { ...p70, at: d }];
  }
}

// ---------------------------------------------------------------------------------------------
// Persistence

const outcomeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('Success'),
    output: z.object({
      title: z.string(),
      content: z.string(),
      cover: z.string(),
      video_url: z.string(),
    }),
  }),
  z.object({ status: z.literal('Fail'), errorCode: z.string(), errorMessage: z.string() }),
]);

const runSchema = z.object({
  executeId: z.string().min(1),
  workflowId: z.string(),
  taskId: z.string(),
  shareText: z.string(),
  callbackUrl: z.string(),
  callbackToken: z.string(),
  startedAt: z.number(),
  delayMs: z.number().min(0),
  mode: z.enum(CALLBACK_MODES),
  outcome: outcomeSchema,
  stepsDone: z.array(z.number().int()),
  webhookIds: z.record(z.string(), z.string()),
  finishedAt: z.number().nullable(),
  deliveries: z.array(
    z.object({
      type: z.enum(CALLBACK_TYPES),
      progress: z.number(),
      webhookId: z.string(),
      at: z.number(),
      httpStatus: z.number().nullable(),
    }),
  ),
});

const storeSchema = z.object({ version: z.literal(1), runs: z.array(runSchema) });

// ---------------------------------------------------------------------------------------------

export function createCozeStandin(opts: CozeStandinOptions): CozeStandin {
  const delayMs = opts.delayMs ?? DEFAULT_DELAY_MS;
  const mode = opts.callbackMode ?? 'normal';
  const errorRate = opts.createErrorRate ?? 0;
  if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS)) {
    throw new Error(`coze stand-in: delayMs must be 0..${MAX_DELAY_MS}`);
  }
  if (!isCallbackMode(mode)) throw new Error(`coze stand-in: unknown callbackMode ${String(mode)}`);
  if (!(errorRate >= 0 && errorRate <= 1))
    throw new Error('coze stand-in: createErrorRate must be 0..1');
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
    const failed = run.outcome.status === 'Fail' ? run.outcome : null;
    const output =
      step.type === 'workflow.execution.completed' && run.outcome.status === 'Success'
        ? run.outcome.output
        : { title: '', content: '', cover: '', video_url: '' };
    const error =
      step.type === 'workflow.execution.failed' && failed
        ? { code: failed.errorCode, message: failed.errorMessage }
        : { code: '', message: '' };
    // The exact text that is signed and sent, as the workflow's code node builds it.
    const body = JSON.stringify({
      type: step.type,
      data: {
        task_id: run.taskId,
        execute_id: run.executeId,
        callback_token: run.callbackToken,
        progress: step.progress,
        output,
        error,
      },
    });
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
    try {
      const res = await fetch(run.callbackUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signCallback(opts.webhookSecret, webhookId, timestamp, body),
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(CALLBACK_TIMEOUT_MS), aborter.signal]),
      });
      // The answer is not needed, only its status; drain it so the socket is freed.
      await res.arrayBuffer().catch(() => undefined);
      delivery.httpStatus = res.status;
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
      const body = await readBody(req);
      if (!authorized(req)) {
        return answer(res, 401, {
          code: 4100,
          msg: 'authentication is invalid: check the access token',
        });
      }
      if (req.method === 'POST' && path === '/v1/workflow/run') return startRun(body, res);
      const m = /^\/v1\/workflows\/([^/]+)\/run_histories\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) return history(decode(m[1]!), decode(m[2]!), res);
      return answer(res, 404, {
        code: 4000,
        msg: `no such API in the Coze stand-in: ${req.method} ${path}`,
      });
    } catch (err) {
      log(`internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) answer(res, 500, { code: 5000, msg: 'stand-in internal error' });
      else res.end();
    }
  }

  function authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${opts.token}`;
  }

  function startRun(body: Buffer | null, res: ServerResponse): void {
    if (body === null) return answer(res, 413, { code: 4000, msg: 'request body too large' });
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(res, 200, { code: 4000, msg: 'invalid request body: not JSON' });
    }
    const req = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    if (req.workflow_id !== opts.workflowId) {
      return answer(res, 200, { code: 4200, msg: 'workflow not found or not published' });
    }
    if (req.is_async !== true) {
      return answer(res, 200, {
        code: 4000,
        msg: 'the stand-in runs workflows only with is_async: true',
      });
    }
    const params = (
      typeof req.parameters === 'object' && req.parameters !== null ? req.parameters : {}
    ) as Record<string, unknown>;
    const names = ['share_text', 'task_id', 'callback_url', 'callback_token'] as const;
    const missing = names.filter((n) => typeof params[n] !== 'string' || params[n] === '');
    if (missing.length > 0) {
      return answer(res, 200, {
        code: 4000,
        msg: `missing required parameter: ${missing.join(', ')}`,
      });
    }
    const p = params as Record<(typeof names)[number], string>;
    if (!/^https?:\/\/[^\s]+$/i.test(p.callback_url)) {
      return answer(res, 200, { code: 4000, msg: 'parameter callback_url is not an http(s) URL' });
    }
    if (closed) return answer(res, 503, { code: 5000, msg: 'busy: the stand-in is shutting down' });
    if (errorRate > 0 && random() < errorRate) {
      log(`start for task ${p.task_id}: answering 5000 busy (COZE_STANDIN_CREATE_ERROR_RATE)`);
      return answer(res, 200, { code: 5000, msg: 'busy' });
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
      `run ${executeId} started for task ${p.task_id} (${mode}, ${delayMs} ms, ends ${run.outcome.status})`,
    );
    answer(res, 200, {
      code: 0,
      msg: 'Success',
      execute_id: executeId,
      debug_url: debugUrl(executeId),
    });
  }

  function history(workflowId: string, executeId: string, res: ServerResponse): void {
    if (workflowId !== opts.workflowId) {
      return answer(res, 200, { code: 4200, msg: 'workflow not found or not published' });
    }
    const run = runs.get(executeId);
    if (!run || run.workflowId !== workflowId) {
      return answer(res, 200, { code: 4314, msg: 'execute record not found' });
    }
    const finished = run.finishedAt !== null;
    const status = !finished ? 'Running' : run.outcome.status;
    const inner =
      finished && run.outcome.status === 'Success' ? JSON.stringify(run.outcome.output) : '';
    const fail = finished && run.outcome.status === 'Fail' ? run.outcome : null;
    answer(res, 200, {
      code: 0,
      msg: '',
      data: [
        {
          execute_id: run.executeId,
          execute_status: status,
          create_time: Math.floor(run.startedAt / 1000),
          update_time: Math.floor((run.finishedAt ?? run.startedAt) / 1000),
          // Double-encoded, as Coze does: a JSON text whose `Output` is itself a JSON text.
          output: JSON.stringify({ Output: inner }),
          error_code: fail ? fail.errorCode : finished ? '0' : '',
          // As the docs' workflow raises it: "<CODE>: <message>".
          error_message: fail ? `${fail.errorCode}: ${fail.errorMessage}` : '',
          debug_url: debugUrl(run.executeId),
        },
      ],
    });
  }

  function debugUrl(executeId: string): string {
    return `${SIMULATED_MEDIA}/debug?execute_id=${executeId}`;
  }

  // Resume what a previous process left unfinished.
  for (const run of runs.values()) {
    if (run.stepsDone.length < planFor(run).length) {
      log(`resuming run ${run.executeId} for task ${run.taskId}`);
      track(drive(run));
    }
  }

  return {
    prefix: PREFIX,
    handler,
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

/** Coze execute ids are 19-digit numbers as strings. */
function newExecuteId(): string {
  return `7${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The body, or null when it is over the limit (the rest is drained, not buffered). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body: object): void {
  const logid = randomUUID().replace(/-/g, '');
  const text = JSON.stringify({ ...body, detail: { logid } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-tt-logid': logid,
  });
  res.end(text);
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

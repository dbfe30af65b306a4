/**
 * A stand-in for the Coze Open API on the local stack, mounted under `/coze`, so that
 * `COZE_API_BASE=http://127.0.0.1:$PORT/coze` works with the unchanged Coze client.
 *
 * It answers the real request and response shapes of the contract (shared/coze-workflow.ts: async
 * run start, run history with the double-encoded output, Coze's error codes, one rate bucket for
 * starts and history reads) and plays OUR workflow (docs/coze-workflow.md, simulated-workflow.ts):
 * progress callbacks, then a signed `completed` or `failed` callback to the run's `callback_url`.
 * Its results are plainly marked as simulated. Fault knobs (settings.ts): callbacks dropped,
 * duplicated or reordered, a share of starts answering "busy", broken start answers, a QPS limit.
 *
 * The parts: settings.ts (the knobs), rate-bucket.ts (the QPS limit and its traffic),
 * run-store.ts (runs kept across restarts), courier.ts (callbacks posted, recorded, replayed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../emulator/http/router';
import { randomUUID } from 'node:crypto';
import {
  CALLBACK_URL_PATTERN,
  COZE_CODES,
  START_INPUTS,
  type StartParameters,
} from '../shared/coze-workflow';
import { redactSecrets } from '../shared/errors';
import { signCallback } from '../shared/signing';
import { Courier, type RecordedCallback } from './courier';
import { RateBucket, type TrafficSecond } from './rate-bucket';
import { RunStore } from './run-store';
import { debugUrl, historyEntry, newExecuteId, type StandinRun } from './runs';
import {
  DEFAULT_SETTINGS,
  SLOW_START_MS,
  checkSettings,
  settingsFromEnv,
  type StandinSettings,
} from './settings';
import { planFor, simulateOutcome } from './simulated-workflow';

export interface CozeStandinOptions extends Partial<StandinSettings> {
  dataDir: string;
  token: string;
  workflowId: string;
  webhookSecret: string;
  random?: () => number;
  log?: (line: string) => void;
  now?: () => number;
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
  /** Calls taken and refused per second (the QPS limit's record), since `since` ms. */
  traffic(since?: number): TrafficSecond[];
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
const MAX_REQUEST_BYTES = 1024 * 1024;

/** The stand-in's options from the environment (COZE_STANDIN_*); throws naming a bad setting. */
export function standinOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  base: { dataDir: string; token: string; workflowId: string; webhookSecret: string },
): CozeStandinOptions {
  return { ...base, ...settingsFromEnv(env) };
}

export function createCozeStandin(opts: CozeStandinOptions): CozeStandin {
  let knobs = checkSettings({
    delayMs: opts.delayMs ?? DEFAULT_SETTINGS.delayMs,
    callbackMode: opts.callbackMode ?? DEFAULT_SETTINGS.callbackMode,
    createErrorRate: opts.createErrorRate ?? DEFAULT_SETTINGS.createErrorRate,
    startAnswer: opts.startAnswer ?? DEFAULT_SETTINGS.startAnswer,
    qps: opts.qps ?? DEFAULT_SETTINGS.qps,
  });
  if (!opts.token) throw new Error('coze stand-in: token is empty');
  // Fails now, not at the first callback, when the secret is unusable (the message has no secret).
  signCallback(opts.webhookSecret, 'probe', 0, '');

  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const sink = opts.log ?? ((line: string) => console.log(line));
  // Every line is scrubbed: a share text or an error could carry something credential-shaped.
  const log = (line: string) => sink(redactSecrets(`[coze-standin] ${line}`));

  const store = new RunStore(opts.dataDir, now, log);
  const courier = new Courier(store, opts.webhookSecret, now, log);
  const bucket = new RateBucket(knobs.qps, now());
  const api = cozeApi({ opts, knobs: () => knobs, store, courier, bucket, random, now, log });

  // Resume what a previous process left unfinished.
  for (const run of store.runs.values()) {
    if (run.stepsDone.length < planFor(run).length) {
      log(`resuming run ${run.executeId} for task ${run.taskId}`);
      courier.drive(run);
    }
  }

  return {
    prefix: PREFIX,
    handler: api,
    settings: () => ({ ...knobs }),
    configure(patch) {
      const before = knobs.qps;
      knobs = checkSettings({ ...knobs, ...patch });
      if (knobs.qps !== before) bucket.setQps(knobs.qps, now());
      log(
        `settings: callbacks ${knobs.callbackMode}, start error rate ${knobs.createErrorRate}, start answer ${knobs.startAnswer}, run ${knobs.delayMs} ms, ${knobs.qps ? `${knobs.qps} calls a second` : 'no rate limit'}`,
      );
      return { ...knobs };
    },
    recorded: () => courier.list(),
    replay: (seq) => courier.replay(seq),
    traffic: (since) => bucket.traffic(since),
    runs: () => [...store.runs.values()].map((r) => structuredClone(r)),
    settle: () => courier.settle(),
    async close() {
      if (courier.isClosed) return;
      await courier.close();
      store.flush();
    },
  };
}

interface ApiParts {
  opts: CozeStandinOptions;
  knobs(): StandinSettings;
  store: RunStore;
  courier: Courier;
  bucket: RateBucket;
  random(): number;
  now(): number;
  log(line: string): void;
}

/** The HTTP side: the two Coze APIs the backend calls, behind the token and the rate bucket. */
function cozeApi(p: ApiParts) {
  const { opts, courier, log } = p;

  return async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const rawUrl = req.url ?? '/';
      const url = rawUrl.startsWith(PREFIX) ? rawUrl.slice(PREFIX.length) || '/' : rawUrl;
      const path = url.split('?')[0] ?? '/';
      const body = await readBody(req, MAX_REQUEST_BYTES);
      if (req.headers.authorization !== `Bearer ${opts.token}`) {
        return answer(res, 401, {
          code: COZE_CODES.tokenInvalid,
          msg: 'authentication is invalid: check the access token',
        });
      }
      const history = /^\/v1\/workflows\/([^/]+)\/run_histories\/([^/]+)$/.exec(path);
      const kind =
        req.method === 'POST' && path === '/v1/workflow/run'
          ? 'start'
          : req.method === 'GET' && history
            ? 'history'
            : null;
      if (!kind) {
        return answer(res, 404, {
          code: COZE_CODES.invalidRequest,
          msg: `no such API in the Coze stand-in: ${req.method} ${path}`,
        });
      }
      // One bucket for starts and history reads, as Coze's plan QPS is.
      if (!p.bucket.take(kind, p.now())) {
        return answer(res, 429, {
          code: COZE_CODES.rateLimited,
          msg: `too many requests: the plan allows ${p.knobs().qps} a second (COZE_STANDIN_QPS)`,
        });
      }
      if (kind === 'start') return startRun(p, body, res);
      return answerHistory(p, decode(history![1]!), decode(history![2]!), res);
    } catch (err) {
      log(`internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent)
        answer(res, 500, { code: COZE_CODES.busy, msg: 'stand-in internal error' });
      else res.end();
    }
  };

  function startRun(p: ApiParts, body: Buffer | null, res: ServerResponse): void {
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
    const par = params as StartParameters;
    if (!CALLBACK_URL_PATTERN.test(par.callback_url)) {
      return invalid('parameter callback_url is not an http(s) URL');
    }
    if (courier.isClosed) {
      return answer(res, 503, {
        code: COZE_CODES.busy,
        msg: 'busy: the stand-in is shutting down',
      });
    }
    const { delayMs, callbackMode: mode, createErrorRate } = p.knobs();
    if (createErrorRate > 0 && p.random() < createErrorRate) {
      log(`start for task ${par.task_id}: answering 5000 busy (COZE_STANDIN_CREATE_ERROR_RATE)`);
      return answer(res, 200, { code: COZE_CODES.busy, msg: 'busy' });
    }
    const executeId = newExecuteId();
    const run: StandinRun = {
      executeId,
      workflowId: opts.workflowId,
      taskId: par.task_id,
      shareText: par.share_text,
      callbackUrl: par.callback_url,
      callbackToken: par.callback_token,
      startedAt: p.now(),
      delayMs,
      mode,
      outcome: simulateOutcome(par.share_text, executeId),
      stepsDone: [],
      webhookIds: {},
      finishedAt: null,
      deliveries: [],
    };
    p.store.runs.set(executeId, run);
    p.store.persist();
    courier.drive(run);
    log(
      `run ${executeId} started for task ${par.task_id} (${mode}, ${delayMs} ms, ends ${run.outcome.kind})`,
    );
    answerStart(p, res, executeId);
  }

  /** The start's answer, as the `startAnswer` knob says; the run is going whatever it says. */
  function answerStart(p: ApiParts, res: ServerResponse, executeId: string): void {
    const ok = { code: 0, msg: 'Success', execute_id: executeId, debug_url: debugUrl(executeId) };
    const mode = p.knobs().startAnswer;
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
        courier.track(
          courier
            .wait(SLOW_START_MS)
            .then(() => (res.destroyed ? undefined : answer(res, 200, ok))),
        );
        return;
    }
  }

  function answerHistory(p: ApiParts, workflowId: string, executeId: string, res: ServerResponse) {
    if (workflowId !== opts.workflowId) return notPublished(res);
    const run = p.store.runs.get(executeId);
    if (!run || run.workflowId !== workflowId) {
      return answer(res, 200, { code: COZE_CODES.runNotFound, msg: 'execute record not found' });
    }
    answer(res, 200, { code: 0, msg: '', data: [historyEntry(run)] });
  }
}

function notPublished(res: ServerResponse): void {
  answer(res, 200, { code: COZE_CODES.notPublished, msg: 'workflow not found or not published' });
}

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

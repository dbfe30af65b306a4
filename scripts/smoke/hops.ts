/**
 * The smoke's hops, each a check with its own verdict and, when it fails, the one thing to fix.
 *
 * The smoke's task is written with the operator's credentials, never through `extractText` (which
 * serves WeChat callers only): it belongs to SMOKE_OWNER, which no WeChat user can be (an openid
 * never has a colon), so it is in no user's history; it accepts no notice (subscribed to nothing),
 * so nothing is ever sent, by the webhook or the sweeper; it goes through no ledger, so it counts
 * against no quota; and the smoke removes it at the end, whatever happened. Its run is started by
 * the production start step (`startTask`) with the Coze token from `.env`.
 */
import { randomBytes } from 'node:crypto';
import { callbackBodySchema, type CallbackBody } from '../../shared/callback';
import { signedHeaders } from '../../shared/signing';
import { FAILURE_MESSAGES, isFailureCode } from '../../shared/errors';
import { parseShareText } from '../../shared/share-text';
import { TaskStatus, isTerminal } from '../../shared/status';
import { newTask, type TaskDoc } from '../../shared/task';
import {
  CozeError,
  type CozeClient,
  type CozeErrorKind,
} from '../../cloudfunctions/_adapters/coze';
import { mintCallbackToken, newTaskId } from '../../cloudfunctions/_adapters/ids';
import { createLogger } from '../../cloudfunctions/_adapters/log';
import { startTask } from '../../cloudfunctions/_pipeline/starts';
import type { SmokeTarget } from './target';

/** The owner of every smoke task: a colon never appears in a WeChat openid. */
export const SMOKE_OWNER = 'smoke:operator';
const SMOKE_TASK_PREFIX = 'smoke-';

/** A hop that did not pass: what was seen, and the one thing to fix. */
export class HopFailure extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export interface HopResult<T> {
  value: T;
  /** what was seen, one line */
  detail: string;
}

const HTTP_TIMEOUT_MS = 15_000;

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new HopFailure(
      `no answer from ${url} (${cause ?? (e instanceof Error ? e.name : 'error')})`,
      "WEBHOOK_URL's host does not answer: check the domain in the CloudBase console (环境 → HTTP 访问服务 → 默认域名) and that HTTP access is on",
    );
  }
  return { status: res.status, text: (await res.text()).slice(0, 300) };
}

/** What a 404 from the route means, by its body: our handler's JSON or the platform's page. */
const isOurNotFound = (text: string) => text.includes('"NOT_FOUND"');

function unexpected(status: number, text: string): HopFailure {
  if (status === 404 && !isOurNotFound(text)) {
    return new HopFailure(
      `HTTP 404 from the platform: no route`,
      'the route /webhook/coze is missing: npm run deploy creates it (or npx tcb service create -p /webhook/coze -f webhookHandler --envId <ENV_ID>)',
    );
  }
  if (status >= 500) {
    return new HopFailure(
      `HTTP ${status}: the function did not answer`,
      'webhookHandler failed at cold start: its log names the setting (npx tcb fn log webhookHandler --envId <ENV_ID>, look for cold_start_failed), fix it in .env and npm run deploy',
    );
  }
  return new HopFailure(
    `HTTP ${status}`,
    'WEBHOOK_URL does not reach webhookHandler: check it is https://<domain>/webhook/coze',
  );
}

/** Hop: the route answers an unsigned call 401 (the function runs and checks signatures). */
export async function checkRoute(target: SmokeTarget): Promise<HopResult<null>> {
  const r = await post(target.config.WEBHOOK_URL, '{}', {});
  if (r.status !== 401) throw unexpected(r.status, r.text);
  return { value: null, detail: '401 for an unsigned call: webhookHandler runs behind the route' };
}

/** A signed callback, as the workflow's sign_callback node makes it. */
function signedCallback(secret: string, body: CallbackBody) {
  const raw = JSON.stringify(body);
  const id = `msg_smoke_${randomBytes(12).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    raw,
    headers: {
      ...signedHeaders(secret, id, timestamp, raw),
    },
  };
}

function progressCallback(taskId: string, token: string): CallbackBody {
  return callbackBodySchema.parse({
    type: 'workflow.execution.progress',
    data: { task_id: taskId, execute_id: '', callback_token: token, progress: 1 },
  });
}

/** Hop: a callback signed with `.env`'s secret for a task that does not exist answers 404. */
export async function checkSecret(target: SmokeTarget): Promise<HopResult<null>> {
  const unknownTask = `${SMOKE_TASK_PREFIX}unknown-${newTaskId()}`;
  const cb = signedCallback(
    target.config.WEBHOOK_SECRET,
    progressCallback(unknownTask, randomBytes(16).toString('hex')),
  );
  const r = await post(target.config.WEBHOOK_URL, cb.raw, cb.headers);
  if (r.status === 401) {
    throw new HopFailure(
      'HTTP 401: the signature was refused',
      "the deployed WEBHOOK_SECRET is not .env's: npm run deploy gives the functions .env's secret (and paste the same one into sign_callback)",
    );
  }
  if (r.status !== 404 || !isOurNotFound(r.text)) throw unexpected(r.status, r.text);
  return {
    value: null,
    detail: '404 for a signed call about no task: the webhook verifies with this secret',
  };
}

export interface SmokeTask {
  task: TaskDoc;
  token: string;
}

/** Hop: the smoke task, written with the operator's credentials (leftovers of an earlier smoke go first). */
export async function createSmokeTask(
  target: SmokeTarget,
  shareText: string,
  opts: { testInputs: boolean; waitS: number },
): Promise<HopResult<SmokeTask>> {
  const parsed = parseShareText(shareText);
  if (!parsed.ok) {
    throw new HopFailure(
      `the share text was refused (${parsed.code})`,
      'pass a Douyin, Kuaishou, Xiaohongshu or Bilibili share text with a link: --share-text "..."',
    );
  }
  const { token, hash } = mintCallbackToken();
  const now = new Date();
  const task = newTask({
    taskId: `${SMOKE_TASK_PREFIX}${newTaskId()}`,
    openid: SMOKE_OWNER,
    platform: parsed.platform,
    url: parsed.url,
    shareText,
    requestId: null,
    callbackTokenHash: hash,
    // Accepts no notice: nothing is ever sent for it.
    subscribed: { success: false, failure: false },
    now,
    queueMaxWaitS: opts.waitS + 60,
    // The smoke starts its own run: the queue never takes it (nor, with --print-test-inputs, whose
    // run is started in the Coze editor, ends its wait while the operator is still pasting).
    dueAt: new Date(now.getTime() + (opts.waitS + 60) * 1000),
    queue: null,
  });
  let removed: number;
  try {
    removed = await target.store.removeFinishedOwned(SMOKE_OWNER);
    await target.store.insert(task);
  } catch (e) {
    throw new HopFailure(
      `the database refused (${e instanceof Error ? e.message.slice(0, 120) : String(e)})`,
      target.local
        ? 'the local stack is not answering: run npm start again'
        : "TCB_API_KEY_ID / TCB_API_KEY cannot write ENV_ID's tasks collection: use a key allowed to manage the environment, and run npm run db:init first",
    );
  }
  return {
    value: { task, token },
    detail: `task ${task._id} (${parsed.platform}), owner ${SMOKE_OWNER}, no notice${removed ? `; ${removed} leftover smoke task(s) removed` : ''}`,
  };
}

/** Hop: a callback signed right but carrying another token is refused 401 (the per-task check). */
export async function checkToken(target: SmokeTarget, t: SmokeTask): Promise<HopResult<null>> {
  const cb = signedCallback(
    target.config.WEBHOOK_SECRET,
    progressCallback(t.task._id, randomBytes(16).toString('hex')),
  );
  const r = await post(target.config.WEBHOOK_URL, cb.raw, cb.headers);
  if (r.status !== 401) {
    throw new HopFailure(
      `HTTP ${r.status} for a callback with the wrong token`,
      r.status === 404
        ? 'webhookHandler does not see the task the smoke wrote: ENV_ID in .env is not the environment WEBHOOK_URL points at'
        : 'webhookHandler must refuse a wrong callback token: deploy this version (npm run deploy)',
    );
  }
  return { value: null, detail: "401 for a signed callback with another task's token" };
}

const START_FIX: Partial<Record<CozeErrorKind, string>> = {
  token_invalid:
    'COZE_API_TOKEN is not valid for COZE_API_BASE (a coze.cn token on api.coze.com answers 4100): create a service token (sat_) on the right service',
  permission:
    "the token may not run this workflow (4101): give it workflow run and run-history permission on the workflow's space, and use it with its own service (api.coze.cn or api.coze.com)",
  not_published: 'the workflow is not published (4200): publish it in the editor (发布)',
  async_not_allowed:
    'asynchronous runs need a paid Coze plan (6003): upgrade the plan that owns the workflow',
  busy: 'Coze answered busy (4009/5000): run the smoke again in a minute',
  timeout: 'Coze did not answer in time: check this machine reaches COZE_API_BASE, then run again',
  network: 'COZE_API_BASE cannot be reached from this machine: check it and the network',
  server: 'Coze answered a server error: run again later',
  rejected:
    'Coze refused the start: check COZE_WORKFLOW_ID and that the Start node has exactly share_text, task_id, callback_url, callback_token (String)',
  bad_response: 'Coze answered something unreadable: check COZE_API_BASE is the API host',
};

/** Hop: the run starts, through the production start step, with the Coze token from `.env`. */
export async function startRun(target: SmokeTarget, t: SmokeTask): Promise<HopResult<string>> {
  let error: unknown = null;
  // The same client, remembering why a start failed (startTask keeps only the outcome).
  const coze: CozeClient = {
    startRun: (input) =>
      target.coze.startRun(input).catch((e: unknown) => {
        error = e;
        throw e;
      }),
    getRun: (id) => target.coze.getRun(id),
  };
  const { outcome, task } = await startTask(
    {
      store: target.store,
      config: target.config,
      coze,
      log: createLogger('smoke', () => undefined),
      now: () => new Date(),
      send: () => Promise.reject(new Error('the smoke never sends a subscription message')),
    },
    t.task,
    // The token the smoke task was written with (its hash is on the task).
    { token: t.token, hash: t.task.callback_token_hash },
  );
  if (outcome === 'started' && task.coze_execute_id) {
    t.task = task;
    return { value: task.coze_execute_id, detail: `execute_id ${task.coze_execute_id}` };
  }
  const kind = error instanceof CozeError ? error.kind : undefined;
  const code =
    error instanceof CozeError && error.cozeCode !== undefined ? ` ${error.cozeCode}` : '';
  throw new HopFailure(
    `the start was ${outcome === 'refused' ? 'refused' : outcome === 'not_started' ? 'refused for now' : 'not answered'}${kind ? ` (${kind}${code})` : ''}`,
    (kind && START_FIX[kind]) ?? 'check COZE_API_BASE, COZE_API_TOKEN and COZE_WORKFLOW_ID',
  );
}

const FAILURE_FIX: Record<string, string> = {
  VIDEO_UNAVAILABLE:
    "the workflow could not resolve the link: pass a public, live video with --share-text; if it is one, open the run in Coze and check parse_link's output",
  PHOTO_NOTE: 'the link is a photo note: pass a video with --share-text',
  TOO_LONG: 'the video is over 30 minutes: pass a shorter one with --share-text',
  NO_SPEECH:
    "the transcription was empty: pass a video with speech; if it has some, check transcribe's output in the run",
  PROVIDER_ERROR:
    'a plugin failed or answered something unexpected: open the run in Coze (its execute_id is above) and look at the node that failed',
  TIMEOUT:
    'the run neither called back nor finished in time: open the run in Coze (its execute_id is above)',
};

export interface WatchOptions {
  waitS: number;
  pollMs: number;
  /** a line per change seen (progress, the end) */
  onChange(line: string): void;
}

/** What the watch reads: the task, and the run's history when no callback came. */
export interface Watched {
  local: boolean;
  store: Pick<SmokeTarget['store'], 'get'>;
  coze: Pick<CozeClient, 'getRun'>;
}

/** The task as the watch last saw it, with the callbacks that moved it. */
interface Seen {
  task: TaskDoc;
  /** delivery ids applied while the task was active */
  activeIds: Set<string>;
}

/**
 * Hop: the callback arrives and finishes the task. Watches the document (polling, as any client
 * outside WeChat must). A finish by callback writes the callback's delivery id with it; the
 * sweeper's finish from run history writes none, and it only acts after RECONCILE_AFTER_S of
 * silence, so a new delivery id at the finish tells the two apart.
 */
export async function awaitCallback(
  target: Watched,
  t: SmokeTask,
  opts: WatchOptions,
): Promise<HopResult<TaskDoc>> {
  const started = Date.now();
  const deadline = started + opts.waitS * 1000;
  const seen: Seen = { task: t.task, activeIds: new Set(t.task.callback_ids) };
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  for (;;) {
    let doc: TaskDoc | null = null;
    try {
      doc = await target.store.get(t.task._id);
    } catch {
      // A failed read is retried until the deadline.
    }
    if (doc === null && Date.now() > started + 5000 && !(await exists(target, t))) {
      throw new HopFailure('the smoke task is gone', 'something removed it: run the smoke again');
    }
    if (doc) {
      if (doc.progress !== seen.task.progress && !isTerminal(doc.status)) {
        opts.onChange(`progress ${doc.progress} at ${at()}`);
      }
      if (isTerminal(doc.status)) {
        const byCallback = doc.callback_ids.some((id) => !seen.activeIds.has(id));
        return finished(target, doc, byCallback, at());
      }
      for (const id of doc.callback_ids) seen.activeIds.add(id);
      seen.task = doc;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
  throw await noCallback(target, seen.task, opts.waitS);
}

async function exists(target: Watched, t: SmokeTask): Promise<boolean> {
  try {
    return (await target.store.get(t.task._id)) !== null;
  } catch {
    return true;
  }
}

function finished(
  target: Watched,
  doc: TaskDoc,
  byCallback: boolean,
  at: string,
): HopResult<TaskDoc> {
  if (doc.status === TaskStatus.Completed && byCallback) {
    const words = [...(doc.result?.content ?? '')].length;
    return {
      value: doc,
      detail: `completed by the callback at ${at}: "${(doc.result?.title ?? '').slice(0, 40)}", ${words} characters of text`,
    };
  }
  if (doc.status === TaskStatus.Completed) {
    throw new HopFailure(
      `completed at ${at}, but from the run history, not by a callback`,
      `the run finished and its callback never arrived: in the workflow, post_callback must POST to {{callback_url}} with the three webhook-* headers and the raw body {{sign_callback.body}}, and sign_callback must hold .env's WEBHOOK_SECRET (${target.local ? 'the local stack prints it' : 'see docs/coze-workflow.md'})`,
    );
  }
  const code = doc.error_code ?? '';
  const reason = isFailureCode(code) ? FAILURE_MESSAGES[code] : '';
  throw new HopFailure(
    `${doc.status} ${code}${reason ? ` (${reason})` : ''} at ${at}${byCallback ? ', reported by the workflow' : ''}`,
    FAILURE_FIX[code] ?? 'open the run in Coze and look at the node that failed',
  );
}

async function noCallback(target: Watched, task: TaskDoc, waitS: number): Promise<HopFailure> {
  const executeId = task.coze_execute_id;
  let run = 'unknown';
  if (executeId) {
    try {
      const end = await target.coze.getRun(executeId);
      run = end ? end.event.type : 'running';
    } catch (e) {
      run = e instanceof CozeError ? `unreadable (${e.kind})` : 'unreadable';
    }
  }
  const heard = task.callback_ids.length
    ? `${task.callback_ids.length} progress callback(s)`
    : 'no callback';
  return new HopFailure(
    `${heard} in ${waitS} s; the run is ${run}`,
    run === 'running'
      ? 'the run is still going: open it in Coze, or run the smoke again with a longer --wait-s'
      : "the workflow's callback never reached the webhook: check post_callback's URL is {{callback_url}}, its headers and raw body, and the secret in sign_callback",
  );
}

/** Hop (always): the smoke task removed, so nothing of it stays. */
export async function removeSmokeTask(target: SmokeTarget, t: SmokeTask): Promise<HopResult<null>> {
  try {
    await target.store.remove(t.task._id);
  } catch (e) {
    throw new HopFailure(
      `could not remove ${t.task._id} (${e instanceof Error ? e.message.slice(0, 80) : String(e)})`,
      `remove it in the console (数据库 → tasks → _id ${t.task._id}); it belongs to ${SMOKE_OWNER}, so no user sees it meanwhile`,
    );
  }
  return { value: null, detail: `task ${t.task._id} removed` };
}

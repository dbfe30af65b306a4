/**
 * The fault suite's world: the product on the local stack (built functions, Coze stand-in, real
 * HTTP), a few users who submit many tasks at once and follow them with the live watch, an optional
 * man in the middle on the callbacks, and the invariants every task must satisfy at the end.
 *
 * Everything the users do goes through HTTP as the mini-program's would; the database is read from
 * the stack's journals (every write, in order), never through a back door that could hide a fault.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractAnswer } from '../../shared/api';
import { TaskStatus, isTerminal, MAX_START_ATTEMPTS } from '../../shared/status';
import type { Doc } from '../../emulator/database/ejson';
import {
  callFunction,
  grantSubscriptions,
  watch,
  type WatchError,
  type WatchSnapshot,
} from '../../emulator/client';
import { simulateOutcome } from '../../standin/simulated-workflow';
import { freePort, startProductStack, type ProductStack } from '../../scripts/local-stack';
import {
  CallbackProxy,
  type Forwarded,
  type InterceptedCallback,
  type ProxyDecision,
} from './callback-proxy';
import { shanghaiDay } from '../../shared/time';
import { JournalFollower } from './journal';

/**
 * The sweeper's cadence and the limits, explicit for the scenarios. What a scenario waits for
 * (reconciling a silent task, taking over a stale notice claim, a dispatch backoff) is at its
 * minimum, so faults resolve in seconds. What it must never hit by being slow is far above any
 * run: a task times out after an hour, and a start may take 3 s instead of the 700 ms a user
 * waits on (still far inside the function's 10 s). A start whose answer comes after its bound is
 * not a fault these scenarios inject: when its run's final callback is then lost too, the task
 * has no execute id to reconcile with and can only time out (a gap of the product, not of the test).
 */
export const FAST_ENV: Record<string, string> = {
  COZE_STANDIN_DELAY_MS: '250',
  RECONCILE_AFTER_S: '5',
  TASK_TIMEOUT_S: '3600',
  // Never reached where Coze takes starts: before the first sweep, a create's estimate counts the
  // timer's whole minute (the scenarios drive the sweeper themselves).
  QUEUE_MAX_WAIT_S: '600',
  NOTICE_CLAIM_STALE_S: '11',
  COZE_START_TIMEOUT_MS: '3000',
  MAX_ACTIVE_TASKS_PER_USER: '10',
  DAILY_QUOTA_PER_USER: '1000',
  COZE_QPS: '100',
  SWEEP_BATCH_LIMIT: '500',
};

/**
 * How long a world may take to settle before that is called a violation: far above need (a
 * scenario settles in seconds on a quiet machine, and well under a minute on a loaded one).
 */
export const DRIVE_DEADLINE_MS = 400_000;

/**
 * The sweeper's cadence while a world settles (every minute in the cloud): every two seconds lets a
 * world settle within a few of the scenario's waits, and each idle sweep still costs an invocation.
 */
const SWEEP_EVERY_MS = 2000;

export type Expectation = 'success' | 'fail';

export interface UserSpec {
  openid: string;
  subscribed: { success: boolean; failure: boolean };
  /** one-time grants of each template recorded before the run (what accepted prompts give) */
  grants: { success: number; failure: number };
}

export interface TaskRecord {
  id: string;
  owner: string;
  index: number;
  shareText: string;
  expect: Expectation;
  requestId: string;
  createMs: number;
  cancelled: boolean;
}

export interface WorldOptions {
  /** prefix of the users' openids: letters, digits, `-` */
  name: string;
  env?: Record<string, string>;
  users?: number;
  tasksPerUser?: number;
  /** put a man in the middle on every callback */
  proxy?: (cb: InterceptedCallback) => ProxyDecision;
  /** default 2: the suite runs several stacks at once, and cold starts cost CPU */
  instancesPerFunction?: number;
  /**
   * A submit may be refused with TOO_BUSY (the queue's estimated wait is past its bound), counted
   * in `busyRefusals` instead of being a violation: only where the scenario's Coze refuses starts.
   */
  allowBusyRefusal?: boolean;
}

interface WatchStep {
  status: string;
  progress: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const RANK: Record<string, number> = {
  [TaskStatus.Pending]: 0,
  [TaskStatus.Processing]: 1,
  [TaskStatus.Completed]: 2,
  [TaskStatus.Failed]: 2,
  [TaskStatus.Timeout]: 2,
  [TaskStatus.Cancelled]: 2,
};

/** Fields a client answer must never carry (the document's internals). */
const INTERNAL_FIELDS = [
  '_openid',
  'callback_token_hash',
  'request_id',
  'share_text',
  'notification_state',
];

/** Share texts in the apps' formats; every fourth one's run fails (its path says `fail`). */
function shareTextFor(tag: string, i: number): { text: string; expect: Expectation } {
  const code = `${tag}${i}x${Math.random().toString(36).slice(2, 7)}`.replace(/[^A-Za-z0-9]/g, '');
  const fail = i % 4 === 3;
  const links = [
    `7.94 复制打开抖音，看看【作品${i}】 https://v.douyin.com/${fail ? 'fail' : ''}${code}/ :9pm`,
    `https://v.kuaishou.com/${fail ? 'fail' : ''}${code} 老街的烟火气 点击链接，打开【快手】直接观看！`,
    `阿花发布了一篇小红书笔记，快来看吧！ http://xhslink.com/${fail ? 'fail' : ''}${code}，复制本条信息`,
    `【哔哩哔哩】 https://b23.tv/${fail ? 'fail' : ''}${code}`,
  ];
  return { text: links[i % links.length] ?? links[0]!, expect: fail ? 'fail' : 'success' };
}

function isAnswer(x: unknown): x is ExtractAnswer {
  return typeof x === 'object' && x !== null && typeof (x as { ok?: unknown }).ok === 'boolean';
}

export class UserWatch {
  readonly steps = new Map<string, WatchStep[]>();
  readonly foreign: string[] = [];
  snapshots = 0;
  reconnects = 0;
  private handle: { close(): void } | null = null;
  private stopped = false;

  constructor(
    private readonly url: () => string,
    readonly openid: string,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.handle = watch(
      this.url(),
      this.openid,
      'tasks',
      { _openid: '{openid}' },
      (s) => this.take(s),
      (e) => this.lost(e),
    );
  }

  private take(s: WatchSnapshot): void {
    this.snapshots++;
    const docs: Doc[] = [...s.docChanges.map((c) => c.doc), ...s.docs];
    for (const doc of docs) {
      if (doc._openid !== this.openid) this.foreign.push(String(doc._id));
    }
    for (const change of s.docChanges) {
      if (change.dataType === 'remove') continue;
      const doc = change.doc;
      const list = this.steps.get(change.docId) ?? [];
      const step = { status: String(doc.status), progress: Number(doc.progress) };
      const last = list[list.length - 1];
      if (!last || last.status !== step.status || last.progress !== step.progress) list.push(step);
      this.steps.set(change.docId, list);
    }
  }

  private lost(_e: WatchError): void {
    this.handle = null;
    if (this.stopped) return;
    this.reconnects++;
    // The mini-program re-watches with backoff; a restarting stack comes back within a second.
    setTimeout(() => this.start(), 150);
  }

  stop(): void {
    this.stopped = true;
    this.handle?.close();
    this.handle = null;
  }
}

export class FaultWorld {
  readonly users: UserSpec[];
  readonly tasks: TaskRecord[] = [];
  /** every answer a client or the Coze side got, as text */
  readonly answers: string[] = [];
  readonly violations: string[] = [];
  /** submits refused at once with TOO_BUSY (`allowBusyRefusal`) */
  busyRefusals = 0;
  readonly watches = new Map<string, UserWatch>();
  readonly journal: JournalFollower;
  /** every callback token any run was given (the stand-in's memory survives restarts via its file) */
  private readonly tokens = new Set<string>();
  /** bumped when a restart begins and again when the stack is back: a request that saw it change failed because of it */
  private generation = 0;
  private restarting = false;
  /** submits that failed in transport while the stack restarted, then were resent */
  resent = 0;
  /** tasks not yet ended when the stack went down */
  openAtRestart = 0;

  private constructor(
    readonly opts: WorldOptions,
    readonly dataDir: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    public product: ProductStack,
    readonly proxy: CallbackProxy | null,
    readonly logs: string[],
  ) {
    const n = opts.users ?? 3;
    const per = this.tasksPerUser;
    const specs: Omit<UserSpec, 'openid'>[] = [
      // Accepted both prompts on every submit.
      { subscribed: { success: true, failure: true }, grants: { success: per, failure: per } },
      // Accepted only the success prompt.
      { subscribed: { success: true, failure: false }, grants: { success: per, failure: 0 } },
      // Says yes to both, but only two grants were ever recorded: the rest must fail with 43101.
      { subscribed: { success: true, failure: true }, grants: { success: 2, failure: 0 } },
    ];
    this.users = Array.from({ length: n }, (_, i) => ({
      ...specs[i % specs.length]!,
      openid: `${opts.name}-u${i}`,
    }));
    this.journal = new JournalFollower(dataDir, 'tasks');
  }

  static async start(opts: WorldOptions): Promise<FaultWorld> {
    const dataDir = mkdtempSync(join(tmpdir(), `svt-fault-${opts.name}-`));
    const port = await freePort();
    const env: Record<string, string> = { ...FAST_ENV, ...opts.env };
    const proxy = opts.proxy
      ? await CallbackProxy.start(`http://127.0.0.1:${port}/webhook/coze`, opts.proxy)
      : null;
    if (proxy) env.WEBHOOK_URL = proxy.url;
    const logs: string[] = [];
    const product = await FaultWorld.boot(port, dataDir, env, opts, logs);
    const world = new FaultWorld(opts, dataDir, port, env, product, proxy, logs);
    for (const u of world.users) {
      const ids: string[] = [
        ...Array<string>(u.grants.success).fill(world.templates.success),
        ...Array<string>(u.grants.failure).fill(world.templates.failure),
      ];
      if (ids.length) await grantSubscriptions(product.url, u.openid, ids);
      const w = new UserWatch(() => world.product.url, u.openid);
      world.watches.set(u.openid, w);
      w.start();
    }
    return world;
  }

  private static boot(
    port: number,
    dataDir: string,
    env: Record<string, string>,
    opts: WorldOptions,
    logs: string[],
  ): Promise<ProductStack> {
    return startProductStack({
      port,
      dataDir,
      env,
      timersEnabled: false,
      instancesPerFunction: opts.instancesPerFunction ?? 2,
      // A starved machine makes an invocation slow, never a verdict: the cloud's 10 s is not
      // what these suites test.
      minFunctionTimeoutS: 120,
      log: (line) => logs.push(line),
    });
  }

  get url(): string {
    return this.product.url;
  }

  /** Four per user: every platform once, one run in four fails, and the third user runs out of grants. */
  get tasksPerUser(): number {
    return this.opts.tasksPerUser ?? 4;
  }

  /** Waits for a state (never for a time): polls `ready` until it holds or the deadline says it never will. */
  async until(what: string, ready: () => boolean, deadlineMs = DRIVE_DEADLINE_MS): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (!ready()) {
      if (Date.now() > end)
        throw new Error(`${this.opts.name}: ${what} not reached within ${deadlineMs} ms`);
      await sleep(20);
    }
  }

  get templates(): { success: string; failure: string } {
    return {
      success: this.product.env.SUBSCRIBE_TEMPLATE_SUCCESS_ID ?? '',
      failure: this.product.env.SUBSCRIBE_TEMPLATE_FAILURE_ID ?? '',
    };
  }

  userOf(openid: string): UserSpec | undefined {
    return this.users.find((u) => u.openid === openid);
  }

  /** One `extractText` call as `openid`; the answer text is kept for the secret scan. */
  async call(openid: string, data: unknown): Promise<ExtractAnswer> {
    const out = await callFunction(this.url, 'extractText', data, openid);
    this.answers.push(JSON.stringify(out));
    if (!isAnswer(out))
      throw new Error(`extractText answered a non-answer: ${JSON.stringify(out)}`);
    return out;
  }

  /**
   * Submits one task as a user would; a transport failure while the stack restarts is retried with
   * the same requestId (which must give back the same task). Any other failure is a violation.
   */
  async submit(user: UserSpec, index: number): Promise<TaskRecord | null> {
    const { text, expect } = shareTextFor(user.openid.replace(/-/g, ''), index);
    const requestId = `${user.openid}.${index}.${Math.random().toString(36).slice(2, 10)}`;
    const started = Date.now();
    for (let attempt = 0; attempt < 200; attempt++) {
      const generation = this.generation;
      const duringRestart = this.restarting;
      try {
        const answer = await this.call(user.openid, {
          action: 'create',
          shareText: text,
          requestId,
          subscribed: user.subscribed,
        });
        if (!answer.ok && answer.error.code === 'TOO_BUSY' && this.opts.allowBusyRefusal) {
          this.busyRefusals++;
          return null;
        }
        if (!answer.ok || !('task' in answer)) {
          this.violations.push(`create ${user.openid}#${index} refused: ${JSON.stringify(answer)}`);
          return null;
        }
        const rec: TaskRecord = {
          id: answer.task._id,
          owner: user.openid,
          index,
          shareText: text,
          expect,
          requestId,
          createMs: Date.now() - started,
          cancelled: false,
        };
        this.tasks.push(rec);
        return rec;
      } catch (err) {
        this.resent++;
        const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
        // This process hosts the stacks too: starved, it can miss its own fetch's 10 s connect
        // deadline. That request never reached the stack, so it is sent again like any other.
        const neverSent = cause?.code === 'UND_ERR_CONNECT_TIMEOUT';
        if (!neverSent && !duringRestart && !this.restarting && generation === this.generation) {
          this.violations.push(
            `create ${user.openid}#${index} failed outside a restart: ${String(err)}${
              cause ? ` (${String(cause.code ?? '')} ${String(cause.message ?? '')})` : ''
            }`,
          );
        }
        await sleep(100);
      }
    }
    this.violations.push(`create ${user.openid}#${index} never answered`);
    return null;
  }

  /**
   * Every user submits all their tasks at once (or spread over `spreadMs`); `afterCreate` runs as
   * soon as a task's create answered (e.g. the user cancels it).
   */
  async submitAll(
    opts: { spreadMs?: number; afterCreate?: (t: TaskRecord) => Promise<void> } = {},
  ): Promise<void> {
    const per = this.tasksPerUser;
    const spread = opts.spreadMs ?? 0;
    const jobs: Promise<unknown>[] = [];
    for (const u of this.users) {
      for (let i = 0; i < per; i++) {
        const delay = spread > 0 ? Math.round((spread * i) / per) : 0;
        jobs.push(
          sleep(delay)
            .then(() => this.submit(u, i))
            .then((t) => (t && opts.afterCreate ? opts.afterCreate(t) : undefined)),
        );
      }
    }
    await Promise.all(jobs);
  }

  /** Closes the whole stack (runtime, instances, stand-in) and starts it again on the same data. */
  async restart(downMs = 300): Promise<void> {
    this.restarting = true;
    this.generation++;
    try {
      this.collectTokens();
      this.openAtRestart = [...this.docs().values()].filter(
        (d) => !isTerminal(d.status as TaskStatus),
      ).length;
      await this.product.close();
      await sleep(downMs);
      this.product = await FaultWorld.boot(this.port, this.dataDir, this.env, this.opts, this.logs);
    } finally {
      // Requests in flight across the restart may fail only later: they saw the generation change.
      this.generation++;
      this.restarting = false;
    }
  }

  private collectTokens(): void {
    for (const run of this.product.standin?.runs() ?? []) this.tokens.add(run.callbackToken);
  }

  /** Quota units the world's users hold for today (from the ledgers' journal). */
  async chargedToday(): Promise<number> {
    const ledgers = new JournalFollower(this.dataDir, 'ledgers');
    ledgers.poll();
    const day = shanghaiDay(new Date());
    let total = 0;
    for (const doc of ledgers.latest().values()) {
      total += Number((doc.counts as Record<string, unknown> | undefined)?.[day] ?? 0);
    }
    return total;
  }

  /** Latest document of every task of this world (from the journal). */
  docs(): Map<string, Doc> {
    const all = this.journal.latest();
    const out = new Map<string, Doc>();
    for (const t of this.tasks) {
      const d = all.get(t.id);
      if (d) out.set(t.id, d);
    }
    return out;
  }

  /** Every task ended and its notice is decided (sent, skipped or failed for good). */
  settled(): boolean {
    const docs = this.docs();
    return this.tasks.every((t) => {
      const d = docs.get(t.id);
      if (!d || !isTerminal(d.status as TaskStatus)) return false;
      return d.notification_state !== 'none' && d.notification_state !== 'claimed';
    });
  }

  async quiesce(): Promise<void> {
    await this.product.standin?.settle();
    await this.proxy?.idle();
  }

  /**
   * Lets the runs and callbacks play out, running the sweeper every two seconds (as its timer
   * would, only faster) until every task is settled; then one more sweep that must change nothing.
   */
  async driveToEnd(deadlineMs = DRIVE_DEADLINE_MS): Promise<number> {
    const until = Date.now() + deadlineMs;
    let sweeps = 0;
    for (;;) {
      await this.quiesce();
      if (this.settled()) break;
      if (Date.now() > until) {
        const docs = this.docs();
        const open = this.tasks
          .map((t) => docs.get(t.id))
          .filter(
            (d) =>
              !d ||
              !isTerminal(d.status as TaskStatus) ||
              ['none', 'claimed'].includes(d.notification_state as string),
          )
          .map((d) =>
            d ? `${d._id}:${d.status}/${d.notification_state}/${d.progress}` : 'missing',
          );
        this.violations.push(`not settled within ${deadlineMs} ms: ${open.join(', ')}`);
        break;
      }
      await sleep(SWEEP_EVERY_MS);
      await this.product.stack.runTimer('taskSweeper');
      sweeps++;
    }
    await this.product.stack.runTimer('taskSweeper');
    await this.quiesce();
    return sweeps + 1;
  }

  secrets(): { label: string; value: string }[] {
    this.collectTokens();
    const secret = this.product.env.WEBHOOK_SECRET ?? '';
    const out = [
      { label: 'WEBHOOK_SECRET', value: secret },
      { label: 'WEBHOOK_SECRET key', value: secret.replace(/^whsec_/, '') },
      { label: 'COZE_API_TOKEN', value: this.product.env.COZE_API_TOKEN ?? '' },
    ];
    for (const t of this.tokens) out.push({ label: 'a callback token', value: t });
    return out.filter((s) => s.value.length >= 8);
  }

  /** Checks every invariant; returns the violations (empty when all hold). */
  check(opts: { allowQueueGiveUp?: boolean; extraAnswers?: string[] } = {}): string[] {
    const v = [...this.violations];
    this.journal.poll();
    const docs = this.docs();
    const runs = this.product.standin?.runs() ?? [];
    const outbox = this.product.stack.outbox();
    const ids = new Set(this.tasks.map((t) => t.id));

    // Every create gave its own task (requestIds are unique per submit).
    if (ids.size !== this.tasks.length) v.push(`two submits answered the same task`);
    for (const u of this.users) {
      const mine = [...this.journal.latest().values()].filter((d) => d._openid === u.openid);
      const expected = this.tasks.filter((t) => t.owner === u.openid).length;
      if (mine.length !== expected) {
        v.push(`${u.openid}: ${mine.length} task documents for ${expected} submits`);
      }
    }

    const perTemplateSent = new Map<string, number>();
    for (const m of outbox) {
      const key = `${m.touser}|${m.templateId}`;
      perTemplateSent.set(key, (perTemplateSent.get(key) ?? 0) + 1);
      const taskId = /taskId=([0-9a-f-]{36})/.exec(m.page ?? '')?.[1];
      const task = this.tasks.find((t) => t.id === taskId);
      if (!task) v.push(`a notice for no task of this run: ${m.page ?? '(no page)'}`);
      else if (task.owner !== m.touser)
        v.push(`${task.id}: notice sent to ${m.touser}, not its owner`);
    }

    for (const t of this.tasks) {
      const d = docs.get(t.id);
      const tag = `${t.owner}#${t.index} ${t.id}`;
      if (!d) {
        v.push(`${tag}: no document`);
        continue;
      }
      const status = String(d.status);
      // 1. The right terminal state.
      if (t.cancelled) {
        if (status !== TaskStatus.Cancelled)
          v.push(`${tag}: cancelled by its user, ended ${status}`);
      } else if (
        opts.allowQueueGiveUp &&
        status === TaskStatus.Failed &&
        d.error_code === 'TOO_BUSY'
      ) {
        // Coze refused every start for rate: it waited out its bound, and nothing ran.
        if (d.start_attempts !== 0) {
          v.push(
            `${tag}: gave up waiting after ${String(d.start_attempts)} starts that may have run`,
          );
        }
      } else if (t.expect === 'success') {
        const want = simulateOutcome(String(d.input_url), 'x');
        const result = d.result as { title?: unknown; content?: unknown; cover?: unknown } | null;
        const mineRuns = runs.filter((r) => r.taskId === t.id).map((r) => r.executeId);
        if (status !== TaskStatus.Completed) v.push(`${tag}: ended ${status}, expected completed`);
        else if (want.kind !== 'completed' || !result) v.push(`${tag}: completed without a result`);
        else {
          if (result.title !== want.result.title || result.content !== want.result.content) {
            v.push(`${tag}: result is not its run's output`);
          }
          if (!mineRuns.some((id) => String(result.cover).includes(id))) {
            v.push(`${tag}: result came from no run of this task`);
          }
        }
        if (d.progress !== 100 && status === TaskStatus.Completed)
          v.push(`${tag}: completed at ${String(d.progress)}%`);
      } else if (status !== TaskStatus.Failed || d.error_code !== 'VIDEO_UNAVAILABLE') {
        v.push(
          `${tag}: ended ${status}/${String(d.error_code)}, expected failed/VIDEO_UNAVAILABLE`,
        );
      }
      if (typeof d.start_attempts !== 'number' || d.start_attempts > MAX_START_ATTEMPTS) {
        v.push(`${tag}: start_attempts ${String(d.start_attempts)}`);
      }

      // 2. No backwards step, in the database (every write) and in the owner's watch.
      const hist = this.journal.history(t.id);
      let terminal: Doc | null = null;
      for (let i = 1; i < hist.length; i++) {
        const a = hist[i - 1]!;
        const b = hist[i]!;
        const ra = RANK[String(a.status)] ?? -1;
        const rb = RANK[String(b.status)] ?? -1;
        if (rb < ra) v.push(`${tag}: status went back ${String(a.status)} -> ${String(b.status)}`);
        if (Number(b.progress) < Number(a.progress)) {
          v.push(`${tag}: progress went back ${String(a.progress)} -> ${String(b.progress)}`);
        }
        if (Number(b.start_attempts) < Number(a.start_attempts)) {
          v.push(`${tag}: start_attempts went back`);
        }
        if (a.notification_state === 'sent' && b.notification_state !== 'sent') {
          v.push(`${tag}: a sent notice became ${String(b.notification_state)}`);
        }
        if (isTerminal(a.status as TaskStatus)) terminal ??= a;
        if (terminal) {
          for (const k of ['status', 'result', 'error_code', 'completed_at'] as const) {
            if (JSON.stringify(b[k]) !== JSON.stringify(terminal[k])) {
              v.push(`${tag}: ${k} changed after the task ended`);
            }
          }
        }
      }
      const seen = this.watches.get(t.owner)?.steps.get(t.id) ?? [];
      for (let i = 1; i < seen.length; i++) {
        const a = seen[i - 1]!;
        const b = seen[i]!;
        if ((RANK[b.status] ?? -1) < (RANK[a.status] ?? -1) || b.progress < a.progress) {
          v.push(
            `${tag}: the watch showed ${a.status}/${a.progress} then ${b.status}/${b.progress}`,
          );
        }
        if (isTerminal(a.status as TaskStatus) && b.status !== a.status) {
          v.push(`${tag}: the watch showed a final status change`);
        }
      }
      if (!seen.some((s) => s.status === status))
        v.push(`${tag}: the watch never showed ${status}`);

      // 3. Exactly one notice per finished task, to its owner, when subscribed and granted.
      const user = this.userOf(t.owner);
      // A queue wait that ran out sends nothing: waiting never spends the user's one-time grant.
      const kind =
        status === TaskStatus.Completed
          ? 'success'
          : (status === TaskStatus.Failed && d.error_code !== 'TOO_BUSY') ||
              status === TaskStatus.Timeout
            ? 'failure'
            : null;
      const sent = outbox.filter((m) => (m.page ?? '').includes(t.id));
      const wanted =
        kind !== null &&
        user !== undefined &&
        (kind === 'success' ? user.subscribed.success : user.subscribed.failure);
      if (!wanted) {
        if (sent.length) v.push(`${tag}: ${sent.length} notice(s) though none was asked for`);
        if (d.notification_state !== 'skipped')
          v.push(`${tag}: notice ${String(d.notification_state)}, expected skipped`);
      } else {
        const template = kind === 'success' ? this.templates.success : this.templates.failure;
        const granted = kind === 'success' ? user.grants.success : user.grants.failure;
        if (sent.length > 1) v.push(`${tag}: ${sent.length} notices`);
        if (sent.some((m) => m.templateId !== template))
          v.push(`${tag}: notice with the wrong template`);
        if (sent.length === 1 && d.notification_state !== 'sent') {
          v.push(`${tag}: notice sent but recorded ${String(d.notification_state)}`);
        }
        if (sent.length === 0) {
          const used = perTemplateSent.get(`${t.owner}|${template}`) ?? 0;
          const refused =
            d.notification_state === 'failed' && d.notification_error === 'errCode 43101';
          // Without a grant left WeChat refuses (43101): the only acceptable reason for no notice.
          if (!(refused && used >= granted)) {
            v.push(
              `${tag}: no notice (state ${String(d.notification_state)}, ${String(d.notification_error)}; ${used}/${granted} grants used)`,
            );
          }
        }
      }
    }
    for (const [key, n] of perTemplateSent) {
      const [openid, template] = key.split('|');
      const user = this.userOf(openid ?? '');
      const granted = !user
        ? 0
        : template === this.templates.success
          ? user.grants.success
          : user.grants.failure;
      if (n > granted) v.push(`${openid}: ${n} notices of ${template} on ${granted} grants`);
    }

    // 4. No other user's data in anyone's watch.
    for (const w of this.watches.values()) {
      if (w.foreign.length)
        v.push(
          `${w.openid}'s watch showed other users' documents: ${w.foreign.slice(0, 3).join(', ')}`,
        );
    }

    // 5. No secret in any answer or log line; no internal field in an answer.
    const texts: { where: string; text: string }[] = [
      ...this.answers.map((text, i) => ({ where: `answer ${i}`, text })),
      ...(this.proxy?.forwarded ?? []).map((f: Forwarded, i) => ({
        where: `webhook answer ${i}`,
        text: f.answer,
      })),
      ...(opts.extraAnswers ?? []).map((text, i) => ({ where: `extra answer ${i}`, text })),
      ...this.logs.map((text, i) => ({ where: `log line ${i}`, text })),
    ];
    const secrets = this.secrets();
    for (const { where, text } of texts) {
      for (const s of secrets) {
        if (text.includes(s.value)) v.push(`${s.label} in ${where}`);
      }
    }
    for (const [i, text] of this.answers.entries()) {
      for (const f of INTERNAL_FIELDS)
        if (text.includes(`"${f}"`)) v.push(`answer ${i} carries ${f}`);
    }
    return v;
  }

  /**
   * Every user tries to read, cancel and retry two of each other user's tasks (one run meant to
   * succeed, one meant to fail), lists their own, and watches the others': all must come back as
   * not found / empty / refused.
   */
  async probeIsolation(): Promise<string[]> {
    const v: string[] = [];
    const jobs: Promise<void>[] = [];
    for (const u of this.users) {
      const others = this.tasks.filter((t) => t.owner !== u.openid);
      // Ownership is checked per document whatever the fault, so two tasks per owner stand for all:
      // one of each ending, since retry and cancel answer by status.
      const probed = [...new Set(others.map((t) => t.owner))].flatMap((owner) =>
        (['success', 'fail'] as const)
          .map((e) => others.find((t) => t.owner === owner && t.expect === e))
          .filter((t): t is TaskRecord => t !== undefined),
      );
      for (const t of probed) {
        for (const action of ['get', 'cancel', 'retry'] as const) {
          jobs.push(
            this.call(u.openid, { action, taskId: t.id }).then((a) => {
              if (a.ok || a.error.code !== 'NOT_FOUND') {
                v.push(
                  `${u.openid} ${action} ${t.owner}'s task: ${JSON.stringify(a).slice(0, 120)}`,
                );
              }
            }),
          );
        }
      }
      jobs.push(
        this.call(u.openid, { action: 'list', limit: 50 }).then((a) => {
          const own = new Set(this.tasks.filter((t) => t.owner === u.openid).map((t) => t.id));
          if (!a.ok || !('tasks' in a)) v.push(`${u.openid} list failed`);
          else {
            for (const t of a.tasks)
              if (!own.has(t.taskId)) v.push(`${u.openid} listed ${t.taskId}`);
            if (a.tasks.length !== Math.min(own.size, 50))
              v.push(`${u.openid} listed ${a.tasks.length} of ${own.size}`);
          }
        }),
      );
      const other = others[0];
      if (other) {
        jobs.push(
          this.probeWatch(u.openid, { _id: other.id }, 'empty').then((r) => void (r && v.push(r))),
        );
        jobs.push(
          this.probeWatch(u.openid, { _openid: other.owner }, 'refused').then(
            (r) => void (r && v.push(r)),
          ),
        );
      }
    }
    await Promise.all(jobs);
    return v;
  }

  private probeWatch(
    openid: string,
    where: Record<string, unknown>,
    expect: 'empty' | 'refused',
  ): Promise<string | null> {
    return new Promise((resolve) => {
      // The first snapshot or the refusal comes within milliseconds; the bound only ends a hang.
      const timer = setTimeout(() => {
        h.close();
        resolve(`${openid} watch ${JSON.stringify(where)}: no answer`);
      }, DRIVE_DEADLINE_MS / 4);
      const h = watch(
        this.url,
        openid,
        'tasks',
        where,
        (s) => {
          clearTimeout(timer);
          h.close();
          const leaked = s.docs.length > 0;
          resolve(
            expect === 'empty' && !leaked
              ? null
              : `${openid} watch ${JSON.stringify(where)} saw ${s.docs.length} document(s)`,
          );
        },
        (e) => {
          clearTimeout(timer);
          resolve(
            expect === 'refused' && e.code === 'PERMISSION_DENIED'
              ? null
              : `${openid} watch ${JSON.stringify(where)}: ${e.code}`,
          );
        },
      );
    });
  }

  async close(): Promise<void> {
    for (const w of this.watches.values()) w.stop();
    await this.proxy?.close();
    await this.product.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

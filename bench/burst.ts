/**
 * The viral day: more submissions than Coze takes, on the local stack with the stand-in limited to
 * COZE_STANDIN_QPS calls a second (starts and history reads together, as Coze's one bucket), the
 * backend told the same COZE_QPS, runs of `runMs`, and the sweeper on its real one-minute timer.
 * Measured from one run: starts per second over the backlog against the QPS, refused start calls
 * per started run, submit → start and submit → done, end states, database operations per task,
 * and the curves (queue length, starts and refusals per second, the dispatcher's rate) over time.
 */
import { QUEUE_COLLECTION, QUEUE_STATE_ID } from '../shared/queue';
import { TaskStatus } from '../shared/status';
import { TASKS_COLLECTION, viewFromRaw } from '../shared/task';
import type { ExtractAnswer } from '../shared/api';
import { callFunction } from '../emulator/client';
import { startProductStack, type ProductStack } from '../scripts/local-stack';
import { meter } from './cost';
import { percentile, round } from './stats';
import type { TimelineChart } from './report';

export interface BurstPlan {
  /** submissions */
  n: number;
  /** submissions a second */
  rate: number;
  /** the upstream's calls a second (stand-in) and the backend's COZE_QPS */
  qps: number;
  runMs: number;
  /** QUEUE_MAX_WAIT_S; the backend's default when absent */
  queueMaxWaitS?: number;
  /** extractText and webhookHandler instances (the stack's default is 10) */
  instances: number;
  /** how long to wait, at most, for every accepted task to end after the last submission */
  settleMs: number;
}

export interface BurstResult {
  plan: BurstPlan;
  submitted: number;
  accepted: number;
  /** accepted tasks the create left waiting in the queue (the rest it started itself) */
  waited: number;
  /** when the sweeper's timer first ran after the first submission */
  first_sweep_s: number | null;
  /** refused at submit (TOO_BUSY, nothing charged), and the other refusals by code */
  refused_at_submit: Record<string, number>;
  /** end states of the accepted tasks: status, or status/code for failures */
  end_states: Record<string, number>;
  started_runs: number;
  /** start calls the upstream refused for rate, per started run */
  refused_starts_per_run: number;
  refused_starts: number;
  refused_reads: number;
  /** from the first submission to the last run's start */
  last_start_s: number;
  /** the target's bound: 1.15 × N / QPS + 15 s */
  last_start_bound_s: number;
  /** starts a second while tasks waited (first submission to last start) */
  starts_per_s: number;
  submit_to_start_s: Spread;
  submit_to_done_s: Spread;
  submit_answer_ms: Spread;
  /** every invocation's database reads and writes during the burst, per accepted task */
  db_ops_per_task: number;
  db_ops_by_function: Record<string, number>;
  invocations: Record<string, number>;
  timeline: TimelineChart;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Spread {
  p50: number;
  p95: number;
  max: number;
}

function spread(values: readonly number[]): Spread {
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    max: round(percentile(values, 100)),
  };
}

let seq = 0;
function shareText(): string {
  seq++;
  const code = `q${seq.toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  return `复制打开抖音，看看【排队${seq}】 https://v.douyin.com/${code}/`;
}

interface Submission {
  at: number;
  answeredAt: number;
  openid: string;
  taskId: string | null;
  /** the create left it waiting in the queue */
  waited: boolean;
  code: string | null;
}

async function submitOne(url: string, openid: string): Promise<Submission> {
  const at = Date.now();
  const a = (await callFunction(
    url,
    'extractText',
    {
      action: 'create',
      shareText: shareText(),
      requestId: `burst-${at.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      subscribed: { success: true, failure: true },
    },
    openid,
  )) as ExtractAnswer;
  const answeredAt = Date.now();
  const taskId = a.ok && 'task' in a ? a.task._id : null;
  // The page reads its task once when it starts following it (the watch's opening `get`).
  if (taskId) await callFunction(url, 'extractText', { action: 'get', taskId }, openid);
  const waited = a.ok && 'task' in a && a.task.status === TaskStatus.Pending;
  return { at, answeredAt, openid, taskId, waited, code: a.ok ? null : a.error.code };
}

interface TaskEnd {
  status: string;
  code: string | null;
  startedAt: number | null;
  completedAt: number | null;
}

/** How a task stands, read from the stack's data (not through a function: nothing is counted). */
function endOf(product: ProductStack, s: Submission): TaskEnd {
  const [doc] = product.stack.data.find(TASKS_COLLECTION, { _id: s.taskId });
  const view = doc ? viewFromRaw(doc) : null;
  if (!view) return { status: 'missing', code: null, startedAt: null, completedAt: null };
  return {
    status: view.status,
    code: view.error_code,
    startedAt: view.started_at ? Date.parse(view.started_at) : null,
    completedAt: view.completed_at ? Date.parse(view.completed_at) : null,
  };
}

/** The backlog, the dispatcher's rate and the upstream's traffic, sampled every second. */
function sampler(product: ProductStack) {
  const points = { backlog: [] as [number, number][], qps: [] as [number, number][] };
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      try {
        const at = Date.now();
        const [state] = product.stack.data.find(QUEUE_COLLECTION, { _id: QUEUE_STATE_ID });
        const waiting = product.stack.data.find(TASKS_COLLECTION, { status: TaskStatus.Pending });
        points.backlog.push([at, waiting.length]);
        points.qps.push([at, Number(state?.qps ?? 0)]);
      } catch {
        // A sample missed under load; the next one comes in a second.
      }
      await sleep(1000);
    }
  })();
  return {
    points,
    async stop() {
      stop = true;
      await loop;
    },
  };
}

export async function burst(
  plan: BurstPlan,
  dataDir: string,
  log: (line: string) => void,
): Promise<BurstResult> {
  // The sweeper runs on its own cron, every minute, as in the cloud.
  const product = await startProductStack({
    dataDir,
    env: burstEnv(plan),
    timersEnabled: true,
    instancesPerFunction: plan.instances,
  });
  try {
    const users = Math.ceil(plan.n / 3);
    log(
      `burst: ${plan.n} submissions from ${users} users at ${plan.rate}/s, upstream ${plan.qps} calls/s, runs of ${plan.runMs} ms${plan.queueMaxWaitS ? `, QUEUE_MAX_WAIT_S ${plan.queueMaxWaitS}` : ''}`,
    );
    // Every invocation from here on is counted (the sweeper's included).
    const metering = meter(product.stack.monitor);
    const sweeps: number[] = [];
    const offSweeps = product.stack.monitor.on((e) => {
      if (e.type === 'invocation.started' && e.fn === 'taskSweeper') sweeps.push(e.at);
    });
    const samples = sampler(product);
    const first = Date.now();
    const subs = await submitAll(plan, product.url, users, first);
    const accepted = subs.filter((s) => s.taskId !== null);
    log(`burst: ${accepted.length} of ${subs.length} accepted; waiting for every one to end`);
    const ends = await waitForEnds(product, accepted, plan.settleMs, log);
    await product.standin?.settle();
    await samples.stop();
    const metered = metering.stop();
    offSweeps();
    const observed: Observed = {
      plan,
      first,
      subs,
      accepted,
      ends,
      sweeps,
      metered,
      samples: samples.points,
      starts: firstStarts(product.standin?.runs() ?? []),
      traffic: product.standin?.traffic(first - 1000) ?? [],
    };
    return summarize(observed);
  } finally {
    await product.close();
  }
}

function burstEnv(plan: BurstPlan): Record<string, string> {
  return {
    COZE_STANDIN_DELAY_MS: String(plan.runMs),
    COZE_STANDIN_QPS: String(plan.qps),
    COZE_QPS: String(plan.qps),
    MAX_ACTIVE_TASKS_PER_USER: '3',
    DAILY_QUOTA_PER_USER: '1000',
    ...(plan.queueMaxWaitS ? { QUEUE_MAX_WAIT_S: String(plan.queueMaxWaitS) } : {}),
  };
}

/** The submissions at the plan's rate; a user's three tasks are a third of the window apart. */
async function submitAll(
  plan: BurstPlan,
  url: string,
  users: number,
  first: number,
): Promise<Submission[]> {
  const jobs: Promise<Submission>[] = [];
  for (let i = 0; i < plan.n; i++) {
    const wait = first + (i * 1000) / plan.rate - Date.now();
    if (wait > 0) await sleep(wait);
    jobs.push(submitOne(url, `burst-u${i % users}`));
  }
  return Promise.all(jobs);
}

/** Every accepted task's end, read every 10 s until none waits or runs (or the settle time). */
async function waitForEnds(
  product: ProductStack,
  accepted: Submission[],
  settleMs: number,
  log: (line: string) => void,
): Promise<TaskEnd[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const ends = accepted.map((s) => endOf(product, s));
    const open = ends.filter((e) => e.status === 'pending' || e.status === 'processing').length;
    if (open === 0 || Date.now() > deadline) return ends;
    log(`burst: ${open} still waiting or running`);
    await sleep(10_000);
  }
}

/** Each task's first run start (a restart is a second run of the same task). */
function firstStarts(runs: { taskId: string; startedAt: number }[]): Map<string, number> {
  const startOf = new Map<string, number>();
  for (const r of runs) {
    const seen = startOf.get(r.taskId);
    if (seen === undefined || r.startedAt < seen) startOf.set(r.taskId, r.startedAt);
  }
  return startOf;
}

/** What one burst recorded, for the summary. */
interface Observed {
  plan: BurstPlan;
  first: number;
  subs: Submission[];
  accepted: Submission[];
  ends: TaskEnd[];
  sweeps: number[];
  metered: ReturnType<ReturnType<typeof meter>['stop']>;
  samples: ReturnType<typeof sampler>['points'];
  starts: Map<string, number>;
  traffic: ReturnType<NonNullable<ProductStack['standin']>['traffic']>;
}

function countBy<T>(items: readonly T[], key: (item: T) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function summarize(o: Observed): BurstResult {
  const { plan, first, subs, accepted, ends, starts: startOf, traffic } = o;
  const refusedStarts = traffic.reduce((n, t) => n + t.refusedStarts, 0);
  const refusedReads = traffic.reduce((n, t) => n + t.refused - t.refusedStarts, 0);
  const startTimes = [...startOf.values()].sort((a, b) => a - b);
  const lastStart = startTimes[startTimes.length - 1] ?? first;
  const byFn: Record<string, number> = {};
  for (const m of o.metered) byFn[m.fn] = (byFn[m.fn] ?? 0) + m.reads + m.writes;
  const ops = Object.values(byFn).reduce((a, b) => a + b, 0);
  const perTask = (n: number) => round(n / Math.max(1, accepted.length), 2);
  const toStart: number[] = [];
  const toDone: number[] = [];
  accepted.forEach((s, i) => {
    const started = startOf.get(s.taskId!);
    if (started !== undefined) toStart.push((started - s.at) / 1000);
    const done = ends[i]?.completedAt;
    if (done && ends[i]?.status === TaskStatus.Completed) toDone.push((done - s.at) / 1000);
  });
  return {
    plan,
    submitted: subs.length,
    accepted: accepted.length,
    waited: accepted.filter((s) => s.waited).length,
    first_sweep_s: o.sweeps.length ? round((o.sweeps[0]! - first) / 1000, 1) : null,
    refused_at_submit: countBy(subs, (s) => s.code),
    end_states: countBy(ends, (e) =>
      e.status === TaskStatus.Completed ? e.status : `${e.status}/${e.code ?? '-'}`,
    ),
    started_runs: startOf.size,
    refused_starts_per_run: round(refusedStarts / Math.max(1, startOf.size), 3),
    refused_starts: refusedStarts,
    refused_reads: refusedReads,
    last_start_s: round((lastStart - first) / 1000, 1),
    last_start_bound_s: round((1.15 * plan.n) / plan.qps + 15, 1),
    starts_per_s: round(startOf.size / Math.max(1, (lastStart - first) / 1000), 2),
    submit_to_start_s: spread(toStart),
    submit_to_done_s: spread(toDone),
    submit_answer_ms: spread(subs.map((s) => s.answeredAt - s.at)),
    db_ops_per_task: perTask(ops),
    db_ops_by_function: Object.fromEntries(Object.entries(byFn).map(([fn, n]) => [fn, perTask(n)])),
    invocations: countBy(o.metered, (m) => m.fn),
    timeline: timelineOf(o),
  };
}

function timelineOf(o: Observed): BurstResult['timeline'] {
  const { plan, traffic } = o;
  const rel = (t: number) => t - o.first;
  return {
    file: plan.queueMaxWaitS ? 'burst-bounded.svg' : 'burst.svg',
    title: `Burst: ${plan.n} submissions at ${plan.rate}/s, upstream ${plan.qps} calls/s`,
    series: [
      {
        name: 'tasks waiting',
        axis: 'count',
        points: o.samples.backlog.map(([t, v]) => [rel(t), v]),
      },
      {
        name: 'runs started /s',
        axis: 'rate',
        points: traffic.map((t) => [rel(t.at), t.started]),
      },
      {
        name: 'calls refused /s',
        axis: 'rate',
        points: traffic.map((t) => [rel(t.at), t.refused]),
      },
      {
        name: 'dispatcher rate /s',
        axis: 'rate',
        points: o.samples.qps.map(([t, v]) => [rel(t), v]),
      },
    ],
    limits: [{ name: 'configured QPS', axis: 'rate', value: plan.qps }],
  };
}

/**
 * What each client design costs per task, counted by the local stack while it runs (its monitor):
 * function invocations, database reads and writes per invocation, function wall time and GB-s at
 * the memory cloudbaserc.json gives each function, and the live watch's pushes.
 *
 * Attribution: a client invocation (submit, `get`) carries its caller's openid, and each design's
 * clients have their own; a callback (HTTP, no openid) names its task in the function's log lines
 * (`"task"` field), and the task belongs to a design; the sweeper's timer runs belong to no task
 * and are reported per run, apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Monitor, WatchPushes } from '../emulator';
import { round } from './stats';

/** One finished invocation, as the monitor counted it, with the task ids its log lines name. */
export interface Metered {
  invocationId: string;
  fn: string;
  source: string;
  openid?: string;
  /** the monitor's sequence number of its start (orders a client's calls even within one ms) */
  startSeq: number;
  /** inside the instance (what the cloud bills) */
  runMs: number;
  /** from arrival to answer: runMs plus any wait for a free instance */
  durationMs: number;
  reads: number;
  writes: number;
  /**
   * The tasks its log lines name: first those that came while it ran, last one first (its own
   * closing line; a line still arriving from the instance's previous invocation comes earlier),
   * then those that came after its answer.
   */
  tasks: string[];
}

export interface Cost {
  invocations: number;
  db_reads: number;
  db_writes: number;
  /** reads + writes (a transaction's open and close are not counted) */
  db_ops: number;
  /** function wall time inside the instance (a wait for a free instance is not billed) */
  function_ms: number;
  /** function_ms × the function's memorySize */
  gb_s: number;
  /** snapshots the live watch sent (the answer to each subscription included) */
  watch_pushes: number;
}

/** Per task, for one design; `calls` splits it by kind of invocation (per task too). */
export interface DesignCost extends Cost {
  tasks: number;
  calls: Record<string, Omit<Cost, 'watch_pushes'>>;
}

export interface CostReport {
  /** watch, polling_1s, polling_2s, polling_5s: per task */
  cost_per_task: Record<string, DesignCost>;
  /** the sweeper's timer, per run (it runs every minute in the cloud, whatever the tasks) */
  sweeper_per_run: Omit<Cost, 'watch_pushes'> & { runs: number };
  /** mean database reads and writes, and p50 wall time, of one invocation of each kind */
  per_call: Record<
    string,
    { count: number; reads: number; writes: number; run_ms_p50: number; total_ms_p50: number }
  >;
  /** invocations of the phase no design or timer could be found for (0 when attribution held) */
  unattributed: number;
  /** those per function, and the attributed invocations whose lines named more than one task */
  attribution: { unattributed_by_fn: Record<string, number>; several_tasks: number };
  memory_mb: Record<string, number>;
}

export interface FollowedTask {
  design: string;
  taskId: string;
  openid: string;
}

const rcSchema = z.object({
  functions: z.array(z.object({ name: z.string(), memorySize: z.number().int().positive() })),
});

/** Each function's configured memory (MB), as cloudbaserc.json deploys it. */
export function memorySizes(root: string): Record<string, number> {
  const rc = rcSchema.parse(JSON.parse(readFileSync(join(root, 'cloudbaserc.json'), 'utf8')));
  return Object.fromEntries(rc.functions.map((f) => [f.name, f.memorySize]));
}

/** The task a structured log line names, if any. */
function taskOfLine(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const o = JSON.parse(line) as unknown;
    if (o && typeof o === 'object' && 'task' in o && typeof o.task === 'string') return o.task;
  } catch {
    // not one of the structured lines
  }
  return null;
}

/** Records every invocation that starts and finishes between now and `stop()`. */
export function meter(monitor: Monitor): { stop(): Metered[] } {
  const done: Metered[] = [];
  const during = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  const started = new Map<string, number>();
  const off = monitor.on((e) => {
    if (e.type === 'invocation.started') started.set(e.invocationId, e.seq);
    else if (e.type === 'log' && e.invocationId) {
      const task = taskOfLine(e.line);
      if (!task) return;
      const into = started.has(e.invocationId) ? during : after;
      into.set(e.invocationId, [...(into.get(e.invocationId) ?? []), task]);
    } else if (e.type === 'invocation.finished') {
      const startSeq = started.get(e.invocationId);
      // Started before the meter: another phase's.
      if (startSeq === undefined) return;
      started.delete(e.invocationId);
      done.push({
        invocationId: e.invocationId,
        fn: e.fn,
        source: e.source,
        ...(e.openid ? { openid: e.openid } : {}),
        startSeq,
        runMs: e.runMs,
        durationMs: e.durationMs,
        reads: e.reads,
        writes: e.writes,
        tasks: [],
      });
    }
  });
  return {
    stop() {
      off();
      return done.map((m) => ({
        ...m,
        tasks: [
          ...(during.get(m.invocationId) ?? []).reverse(),
          ...(after.get(m.invocationId) ?? []),
        ],
      }));
    },
  };
}

const ZERO = (): Omit<Cost, 'watch_pushes'> => ({
  invocations: 0,
  db_reads: 0,
  db_writes: 0,
  db_ops: 0,
  function_ms: 0,
  gb_s: 0,
});

function add(to: Omit<Cost, 'watch_pushes'>, m: Metered, memoryMb: number): void {
  to.invocations++;
  to.db_reads += m.reads;
  to.db_writes += m.writes;
  to.db_ops += m.reads + m.writes;
  to.function_ms += m.runMs;
  to.gb_s += (m.runMs / 1000) * (memoryMb / 1024);
}

function scaled<T extends Omit<Cost, 'watch_pushes'>>(c: T, n: number): T {
  const d = n || 1;
  return {
    ...c,
    invocations: round(c.invocations / d, 2),
    db_reads: round(c.db_reads / d, 2),
    db_writes: round(c.db_writes / d, 2),
    db_ops: round(c.db_ops / d, 2),
    function_ms: round(c.function_ms / d, 1),
    gb_s: round(c.gb_s / d, 5),
  };
}

/** The JSON key of a design: `watch`, `polling 1000` → `polling_1s`. */
export function designKey(design: string): string {
  const m = /^polling (\d+)$/.exec(design);
  return m ? `polling_${Number(m[1]) / 1000}s` : design;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? (s[Math.ceil(s.length / 2) - 1] as number) : NaN;
}

/**
 * Charges every metered invocation to a design (by openid, else by the task its lines name), or to
 * the sweeper; a client's first invocation is its submit (each client awaits it before anything).
 */
export function costReport(
  metered: Metered[],
  followed: FollowedTask[],
  memoryMb: Record<string, number>,
  pushes: Record<string, WatchPushes>,
): CostReport {
  const designByOpenid = new Map(followed.map((f) => [f.openid, f.design]));
  const designByTask = new Map(followed.map((f) => [f.taskId, f.design]));
  const firstCall = new Map<string, string>();
  for (const m of [...metered].sort((a, b) => a.startSeq - b.startSeq)) {
    if (m.openid && !firstCall.has(m.openid)) firstCall.set(m.openid, m.invocationId);
  }
  const totals = new Map<string, Omit<Cost, 'watch_pushes'>>();
  const calls = new Map<string, Map<string, Omit<Cost, 'watch_pushes'>>>();
  const perCall = new Map<string, Metered[]>();
  const sweeper = ZERO();
  let unattributed = 0;
  const unattributedByFn: Record<string, number> = {};
  let severalTasks = 0;
  for (const m of metered) {
    const mem = memoryMb[m.fn] ?? 0;
    let design: string | undefined;
    let kind: string;
    if (m.openid && designByOpenid.has(m.openid)) {
      design = designByOpenid.get(m.openid);
      kind = firstCall.get(m.openid) === m.invocationId ? 'submit' : 'get';
    } else {
      design = m.tasks.map((t) => designByTask.get(t)).find((d) => d !== undefined);
      kind = 'callback';
    }
    if (design === undefined) {
      if (m.source === 'timer') {
        add(sweeper, m, mem);
        perCall.set('sweep', [...(perCall.get('sweep') ?? []), m]);
      } else {
        unattributed++;
        unattributedByFn[m.fn] = (unattributedByFn[m.fn] ?? 0) + 1;
      }
      continue;
    }
    if (new Set(m.tasks).size > 1) severalTasks++;
    perCall.set(kind, [...(perCall.get(kind) ?? []), m]);
    const t = totals.get(design) ?? ZERO();
    add(t, m, mem);
    totals.set(design, t);
    const byKind = calls.get(design) ?? new Map<string, Omit<Cost, 'watch_pushes'>>();
    const k = byKind.get(kind) ?? ZERO();
    add(k, m, mem);
    byKind.set(kind, k);
    calls.set(design, byKind);
  }
  const cost_per_task: Record<string, DesignCost> = {};
  for (const design of [...new Set(followed.map((f) => f.design))]) {
    const mine = followed.filter((f) => f.design === design);
    const n = mine.length;
    const snapshots = mine.reduce(
      (sum, f) => sum + (pushes[f.openid]?.init ?? 0) + (pushes[f.openid]?.change ?? 0),
      0,
    );
    cost_per_task[designKey(design)] = {
      tasks: n,
      ...scaled(totals.get(design) ?? ZERO(), n),
      watch_pushes: round(snapshots / (n || 1), 2),
      calls: Object.fromEntries(
        [...(calls.get(design) ?? new Map<string, Omit<Cost, 'watch_pushes'>>())].map(
          ([kind, c]) => [kind, scaled(c, n)],
        ),
      ),
    };
  }
  const per_call: CostReport['per_call'] = {};
  for (const [kind, ms] of perCall) {
    per_call[kind] = {
      count: ms.length,
      reads: round(ms.reduce((s, m) => s + m.reads, 0) / ms.length, 2),
      writes: round(ms.reduce((s, m) => s + m.writes, 0) / ms.length, 2),
      run_ms_p50: round(median(ms.map((m) => m.runMs))),
      total_ms_p50: round(median(ms.map((m) => m.durationMs))),
    };
  }
  return {
    cost_per_task,
    sweeper_per_run: { runs: sweeper.invocations, ...scaled(sweeper, sweeper.invocations) },
    per_call,
    unattributed,
    attribution: { unattributed_by_fn: unattributedByFn, several_tasks: severalTasks },
    memory_mb: memoryMb,
  };
}

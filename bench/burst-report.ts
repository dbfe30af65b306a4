/** The burst scenario's targets and its section of the report (bench/burst.ts measures it). */
import type { BurstResult } from './burst';
import { target, type TargetResult } from './targets';

/** The viral day's two runs: the queue draining, and a bounded wait refusing at submit. */
export interface BurstReport {
  burst: BurstResult;
  /** submissions at 10 × the upstream's QPS with a short QUEUE_MAX_WAIT_S */
  bounded: BurstResult;
}

const count = (states: Record<string, number>, pred: (key: string) => boolean) =>
  Object.entries(states)
    .filter(([k]) => pred(k))
    .reduce((n, [, v]) => n + v, 0);

/** Accepted tasks that did not complete (the first run: every accepted task must complete). */
const notCompleted = (b: BurstResult) => b.accepted - (b.end_states.completed ?? 0);

/** Accepted tasks that then ended for waiting (TOO_BUSY) or timed out. */
const failedForWaiting = (b: BurstResult) =>
  count(b.end_states, (k) => k.endsWith('/TOO_BUSY') || k.startsWith('timeout'));

export function burstTargets(r: BurstReport): TargetResult[] {
  const b = r.burst;
  const q = r.bounded;
  return [
    target('burst: accepted tasks not completed', notCompleted(b), '', '≤', 0),
    target(
      'burst: last run started after the first submit',
      b.last_start_s,
      's',
      '≤',
      b.last_start_bound_s,
    ),
    target('burst: refused start calls per started run', b.refused_starts_per_run, '', '≤', 0.3),
    target(
      'burst: database operations per task',
      Math.round((b.db_ops_per_task + queueWatchReads(b)) * 100) / 100,
      '',
      '≤',
      12,
    ),
    target('10× burst: accepted, then failed for waiting', failedForWaiting(q), '', '≤', 0),
    target(
      '10× burst: refused at submit (TOO_BUSY)',
      q.refused_at_submit.TOO_BUSY ?? 0,
      '',
      '≥',
      1,
    ),
  ];
}

/**
 * The page's watch on the queue's state: its first snapshot is one read, for each task that waited
 * (counted by design: the local stack's watch is not a function invocation, so its monitor does
 * not see it).
 */
function queueWatchReads(b: BurstResult): number {
  return Math.round((b.waited / Math.max(1, b.accepted)) * 100) / 100;
}

const spread = (s: { p50: number; p95: number; max: number }) => `${s.p50} / ${s.p95} / ${s.max}`;
const states = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

function table(b: BurstResult, label: string): string[] {
  return [
    `| ${label} | ${b.plan.n} at ${b.plan.rate}/s, upstream ${b.plan.qps}/s, runs ${b.plan.runMs / 1000} s${b.plan.queueMaxWaitS ? `, QUEUE_MAX_WAIT_S ${b.plan.queueMaxWaitS}` : ''} |`,
    `| accepted / refused at submit | ${b.accepted} / ${states(b.refused_at_submit)} |`,
    `| end states of the accepted | ${states(b.end_states)} |`,
    `| runs started; starts a second from the first submit to the last start | ${b.started_runs}; ${b.starts_per_s} |`,
    `| last run started after the first submit | ${b.last_start_s} s (bound 1.15 × N/QPS + 15 s = ${b.last_start_bound_s} s) |`,
    `| first sweep after the first submit | ${b.first_sweep_s} s (the sweeper's timer fires every minute) |`,
    `| start calls refused for rate (per started run) / history reads refused | ${b.refused_starts} (${b.refused_starts_per_run}) / ${b.refused_reads} |`,
    `| submit → start, p50 / p95 / max s | ${spread(b.submit_to_start_s)} |`,
    `| submit → done, p50 / p95 / max s | ${spread(b.submit_to_done_s)} |`,
    `| submit answered, p50 / p95 / max ms | ${spread(b.submit_answer_ms)} |`,
    `| database operations per task (measured + the queue watch's first read) | ${b.db_ops_per_task} + ${queueWatchReads(b)} (${Object.entries(
      b.db_ops_by_function,
    )
      .map(([fn, n]) => `${fn} ${n}`)
      .join(', ')}) |`,
  ];
}

export function burstMarkdown(r: BurstReport, pictures: string): string {
  const targets = burstTargets(r);
  return `## A viral day: more submissions than Coze takes

The stand-in takes \`COZE_STANDIN_QPS\` calls a second, run starts and history reads together (Coze's
one bucket), answering HTTP 429 / 4009 beyond; the backend is told the same \`COZE_QPS\`; the sweeper
runs on its real one-minute timer. A create starts its run itself only while the queue is idle; the
rest wait and the dispatcher (in the sweep, for its whole budget) starts them at the upstream's
rate, oldest first and fair across users. Database operations are every function invocation's
reads and writes during the run, per accepted task (the page's opening \`get\` included), plus one
read per waiting task for the page's watch on the queue's state.

| measure | ${'value'} |
| --- | --- |
${table(r.burst, 'the burst').join('\n')}
${table(r.bounded, 'a 10× burst with a short wait bound').join('\n')}

${targets.map((t) => `- ${t.measure}: ${t.value}${t.unit ? ` ${t.unit}` : ''} (target ${t.op} ${t.limit}: ${t.met ? 'met' : 'MISSED'})`).join('\n')}

${pictures}
`;
}

/** The benchmark's JSON shape, its console table (with the ratios) and its Markdown report. */
import { CHARTS_DIR, benchCharts, type Chart } from './charts';
import type { CostReport } from './cost';
import type { Machine } from './machine';
import type { Pcts } from './stats';
import { burstMarkdown, type BurstReport } from './burst-report';
import { target, type TargetResult } from './targets';

export interface PollingResult {
  interval_ms: number;
  notice_ms: Pcts;
  requests_per_task: number;
}

/** One measured curve over time: `[ms since the phase began, value]` points. */
export interface TimeSeries {
  name: string;
  /** `count` on the left axis (a queue's length), `rate` on the right (starts per second, QPS) */
  axis: 'count' | 'rate';
  points: [number, number][];
}

/** Curves drawn together as one chart (bench/charts.ts `timeSeriesChart`), e.g. a burst's drain. */
export interface TimelineChart {
  /** file name in the charts folder, e.g. `burst.svg` */
  file: string;
  title: string;
  subtitle?: string;
  series: TimeSeries[];
  /** reference lines, e.g. the configured QPS on the rate axis */
  limits?: { name: string; axis: 'count' | 'rate'; value: number }[];
  countLabel?: string;
  rateLabel?: string;
}

export interface BenchResult {
  create_ms: Pcts;
  create_ms_50: Pcts;
  notice_ms: Pcts;
  message_ms: Pcts;
  requests_per_task: number;
  polling: PollingResult[];
  /** per task, one entry per design: watch, polling_1s, polling_2s, polling_5s */
  cost_per_task: CostReport['cost_per_task'];
  /** the same, for users who come back (they have a ledger) and for first-time users apart */
  cost_per_task_by_user?: Record<'returning' | 'first_time', CostReport['cost_per_task']>;
  /** the viral day (bench/burst.ts): full runs, or `--only burst` */
  burst?: BurstReport;
  sweeper_per_run: CostReport['sweeper_per_run'];
  cost_per_call: CostReport['per_call'];
  cost_unattributed: number;
  cost_attribution: CostReport['attribution'];
  memory_mb: Record<string, number>;
  targets: TargetResult[];
  webhooks_per_s: number;
  cpu_ms_per_webhook: number;
  bundle_kb: Record<string, number>;
  cold_require_ms: Record<string, number>;
  peak_rss_mb: Record<string, number>;
  // extras
  success_rate: number;
  notified_rate: number;
  create_ms_side_by_side: Pcts;
  cpu_split_ms_per_webhook: { functions: number; emulator: number; load_generator: number };
  cpu_ms_per_create: number;
  cold_require_ms_sdk_alone: number;
  /** the bundle's require with wx-server-sdk already loaded / stubbed (absent in older results) */
  cold_require_ms_ours_alone?: Record<string, { sdkCached: number; sdkStubbed: number }>;
  webhook_ms: Pcts;
  webhook_statuses: Record<string, number>;
  webhook_warm_up_statuses: Record<string, number>;
  counts: Record<string, number>;
  run_ms: number;
  instances_per_function: { side_by_side: number; submits_and_webhooks: number };
  mode: 'quick' | 'full';
  /** every followed task's callback → client-knows-the-end latency (ms), per design (charts) */
  latency_samples_ms?: Record<string, number[]>;
  /** curves over time, each charted as it is (absent when no phase measured one) */
  timelines?: TimelineChart[];
  machine: Machine;
  date: string;
  duration_s: number;
}

/** The speed targets, checked on this run's figures. */
export function checkTargets(
  r: Pick<
    BenchResult,
    | 'create_ms'
    | 'create_ms_50'
    | 'notice_ms'
    | 'message_ms'
    | 'webhooks_per_s'
    | 'cpu_ms_per_webhook'
  >,
): TargetResult[] {
  return [
    target('submit answered, 1 user, p99', r.create_ms.p99, 'ms', '<', 150),
    target('submit answered, 50 users at once, p99', r.create_ms_50.p99, 'ms', '<', 1000),
    target('callback → watch sees it, p99', r.notice_ms.p99, 'ms', '<', 50),
    target('callback → subscription message sent, p99', r.message_ms.p99, 'ms', '<', 200),
    target('verified callbacks per second', r.webhooks_per_s, '/s', '≥', 200),
    target('CPU per verified callback', r.cpu_ms_per_webhook, 'ms', '≤', 8),
  ];
}

const targetText = (t: TargetResult) =>
  `${t.op} ${t.limit}${t.unit === '/s' ? '/s' : ` ${t.unit}`}: ${t.met ? 'met' : 'MISSED'}`;

const ms = (p: Pcts) => `${p.p50} / ${p.p99}`;
const times = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : '–');

function rows(r: BenchResult): string[][] {
  const out: string[][] = [
    ['measure', 'watch design', ...r.polling.map((p) => `polling ${p.interval_ms / 1000} s`)],
    [
      'callback → client sees it, p50 / p99 ms',
      ms(r.notice_ms),
      ...r.polling.map(
        (p) => `${ms(p.notice_ms)} (${times(p.notice_ms.p50, r.notice_ms.p50)} p50)`,
      ),
    ],
    [
      'client requests per task',
      String(r.requests_per_task),
      ...r.polling.map(
        (p) => `${p.requests_per_task} (${times(p.requests_per_task, r.requests_per_task)})`,
      ),
    ],
  ];
  return [...out, ...costRows(r)];
}

/** The designs' keys in the order of the side-by-side table. */
const COST_KEYS = (r: BenchResult) => [
  'watch',
  ...r.polling.map((p) => `polling_${p.interval_ms / 1000}s`),
];

function costRows(r: BenchResult): string[][] {
  const keys = COST_KEYS(r);
  const watch = r.cost_per_task.watch;
  const cell = (
    k: string,
    f: (c: BenchResult['cost_per_task'][string]) => number,
    ratio = false,
  ) => {
    const c = r.cost_per_task[k];
    if (!c) return '–';
    const v = f(c);
    return ratio && k !== 'watch' && watch ? `${v} (${times(v, f(watch))})` : String(v);
  };
  return [
    ['function invocations per task', ...keys.map((k) => cell(k, (c) => c.invocations, true))],
    ['database reads per task', ...keys.map((k) => cell(k, (c) => c.db_reads))],
    ['database writes per task', ...keys.map((k) => cell(k, (c) => c.db_writes))],
    ['database operations per task', ...keys.map((k) => cell(k, (c) => c.db_ops, true))],
    ['function wall time per task, ms', ...keys.map((k) => cell(k, (c) => c.function_ms, true))],
    ['GB-s per task', ...keys.map((k) => cell(k, (c) => c.gb_s, true))],
    ['watch pushes per task', ...keys.map((k) => cell(k, (c) => c.watch_pushes))],
  ];
}

function kv(r: BenchResult): [string, string, string][] {
  const fns = Object.keys(r.bundle_kb).sort();
  const target = (measure: string) => {
    const t = r.targets.find((x) => x.measure === measure);
    return t ? `target ${targetText(t)}` : '';
  };
  return [
    [
      'submit answered, 1 user',
      `${ms(r.create_ms)} ms (p50 / p99)`,
      target('submit answered, 1 user, p99'),
    ],
    [
      'submit answered, 50 users at once',
      `${ms(r.create_ms_50)} ms`,
      `${target('submit answered, 50 users at once, p99')}; CPU per submit ${r.cpu_ms_per_create} ms`,
    ],
    ['callback → watch sees it', `${ms(r.notice_ms)} ms`, target('callback → watch sees it, p99')],
    [
      'callback → subscription message sent',
      `${ms(r.message_ms)} ms`,
      target('callback → subscription message sent, p99'),
    ],
    ['tasks completed end to end', `${(r.success_rate * 100).toFixed(1)} %`, 'target > 95 %'],
    ['followed tasks notified', `${(r.notified_rate * 100).toFixed(1)} %`, ''],
    [
      'verified callbacks per second',
      String(r.webhooks_per_s),
      `${target('verified callbacks per second')}; ${r.instances_per_function.submits_and_webhooks} instances`,
    ],
    [
      'CPU per verified callback',
      `${r.cpu_ms_per_webhook} ms`,
      `${target('CPU per verified callback')}; functions ${r.cpu_split_ms_per_webhook.functions} + emulator ${r.cpu_split_ms_per_webhook.emulator} (load generator ${r.cpu_split_ms_per_webhook.load_generator} more)`,
    ],
    ['callback answered (under that load)', `${ms(r.webhook_ms)} ms`, ''],
    ...fns.map((f): [string, string, string] => [
      `${f}: bundle / cold require / peak RSS`,
      `${r.bundle_kb[f]} KB / ${r.cold_require_ms[f]} ms / ${r.peak_rss_mb[f] ?? '–'} MB`,
      r.cold_require_ms_ours_alone?.[f]
        ? `one instance; our code alone ${r.cold_require_ms_ours_alone[f].sdkCached} ms ` +
          `(SDK loaded) / ${r.cold_require_ms_ours_alone[f].sdkStubbed} ms (SDK stubbed), ` +
          `wx-server-sdk alone ${r.cold_require_ms_sdk_alone} ms`
        : 'one instance',
    ]),
  ];
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) =>
    Math.max(...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  return cells
    .map((row) => row.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - [...c].length)).join('  '))
    .join('\n');
}

export function table(r: BenchResult): string {
  const m = r.machine;
  return [
    '',
    `Watch vs polling, side by side on one stack (simulated Coze runs of ${r.run_ms} ms, ${r.counts.followed_per_design} tasks per design)`,
    pad(rows(r)),
    '',
    pad(kv(r)),
    '',
    ...r.targets
      .filter((t) => !t.met)
      .map((t) => `MISSED: ${t.measure} ${t.value} ${t.unit} (target ${t.op} ${t.limit})`),
    `${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}; ${r.mode} run of ${r.duration_s} s, ${r.date}`,
    '',
  ].join('\n');
}

function mdTable(cells: string[][]): string {
  const [head, ...body] = cells;
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [line(head!), line(head!.map(() => '---')), ...body.map(line)].join('\n');
}

const perCall = (r: BenchResult, kind: string) => {
  const c = r.cost_per_call[kind];
  return c ? `${c.reads} reads + ${c.writes} writes` : 'no';
};

/** Each chart as a Markdown image from the charts folder beside the report. */
export function pictures(charts: Chart[]): string {
  return charts.map((c) => `![${c.alt}](${CHARTS_DIR}/${c.file})`).join('\n\n');
}

/** Cost per task for users who come back and for first-time users, side by side. */
function byUser(r: BenchResult): string {
  const by = r.cost_per_task_by_user;
  if (!by) return '';
  const keys = COST_KEYS(r);
  const cells = (
    kind: 'returning' | 'first_time',
    f: (c: BenchResult['cost_per_task'][string]) => number,
  ) => keys.map((k) => (by[kind][k] ? String(f(by[kind][k]!)) : '–'));
  return `Half of each design's users came back (a ledger from an earlier task), half submitted their first
task ever (its ledger is made on the way: the usual create is 3 database operations, a first one 5):

${mdTable([
  ['per task', ...keys],
  ['returning: database operations', ...cells('returning', (c) => c.db_ops)],
  ['returning: invocations', ...cells('returning', (c) => c.invocations)],
  ['returning: GB-s', ...cells('returning', (c) => c.gb_s)],
  ['first time: database operations', ...cells('first_time', (c) => c.db_ops)],
  ['first time: invocations', ...cells('first_time', (c) => c.invocations)],
  ['first time: GB-s', ...cells('first_time', (c) => c.gb_s)],
])}

`;
}

export function markdown(r: BenchResult): string {
  const m = r.machine;
  const charts = benchCharts(r);
  const overTime = charts.filter((c) => (r.timelines ?? []).some((t) => t.file === c.file));
  const missed = r.targets.filter((t) => !t.met);
  const mem = Object.entries(r.memory_mb)
    .map(([fn, mb]) => `${fn} ${mb} MB`)
    .join(', ');
  const sweep = r.sweeper_per_run;
  return `# Benchmark results

Latest \`npm run bench\` (${r.mode} mode), ${r.date.slice(0, 10)}, on ${m.cpu}, ${m.cores} cores,
${m.memory_gb} GB memory, Node ${m.node} (${m.platform}). The local stack: the built functions in
their own processes (at most ${r.instances_per_function.side_by_side} instances per function for the
side-by-side run, ${r.instances_per_function.submits_and_webhooks} for submits and callbacks), the CloudBase
emulator, the Coze stand-in with runs of ${r.run_ms} ms, real HTTP and WebSocket on 127.0.0.1.
The machine runs other work too: speed figures vary between runs; the counts do not.

## Watch against polling, side by side

${r.counts.followed_per_design} tasks per design, all at the same time on the same stack. "Callback" is the moment the
Coze stand-in posts a run's final callback; "sees it" is when the client first knows the task ended.
A request is one \`callFunction\` or one watch subscription (the submit included).

The cost rows are counted by the local stack per invocation (its monitor), not estimated: every
invocation from the first submit to the end of the phase is charged to a design, a client's by its
openid (each design's clients have their own), a callback's by the task its log line names. They
include the submit, the client's \`get\`s and the task's callbacks. Function wall time is the time
inside the instance (what the cloud bills; a wait for a free instance is left out); GB-s is that
time at each function's \`memorySize\` in cloudbaserc.json (${mem}). Watch pushes are the snapshots the watch sent (the answer to the
subscription included). Invocations no design could be found for: ${r.cost_unattributed}
(${JSON.stringify(r.cost_attribution.unattributed_by_fn)}); invocations whose lines named more than
one task (a line of the instance's previous invocation read after it had moved on; a callback is
charged to the task its last line names): ${r.cost_attribution.several_tasks}.

${mdTable(rows(r))}

${pictures(charts.filter((c) => c.file === 'latency.svg' || c.file === 'cost.svg'))}

${byUser(r)}The sweeper's timer belongs to no task and is counted apart: ${sweep.runs} runs in the phase, per run
${sweep.db_reads} reads, ${sweep.db_writes} writes, ${sweep.function_ms} ms, ${sweep.gb_s} GB-s
(in the cloud it runs every minute, whatever the design).

${r.burst ? `${burstMarkdown(r.burst, pictures(overTime))}\n` : overTime.length ? `## Over time\n\n${pictures(overTime)}\n\n` : ''}## The promises

${mdTable([['measure', 'measured', 'note'], ...kv(r)])}

${missed.length ? `Missed on this run: ${missed.map((t) => `${t.measure} (${t.value} ${t.unit}, target ${t.op} ${t.limit})`).join('; ')}.` : 'Every target met on this run.'}

Counts: ${Object.entries(r.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )}. Webhook answers: ${JSON.stringify(r.webhook_statuses)} (warm-up: ${JSON.stringify(r.webhook_warm_up_statuses)}).

## What limits each figure

Database calls per invocation, measured in the side-by-side phase (mean): submit ${perCall(r, 'submit')},
\`get\` ${perCall(r, 'get')}, callback ${perCall(r, 'callback')}. Each is a signed HTTP round trip
through wx-server-sdk.

- **Submit answered** (${ms(r.create_ms)} ms alone): those round trips in a row plus the bounded
  Coze start. In the cloud each round trip costs more than here, so their count matters most.
- **50 users at once** (${ms(r.create_ms_50)} ms): this machine's CPU. A submit costs about
  ${r.cpu_ms_per_create} ms of CPU across the processes (function instance, emulator, client), so a
  burst of 50 queues on ${r.machine.cores} cores; the cloud runs instances and the database on
  their own CPUs. Every instance has served ${r.counts.create_warm_up} creates of other users
  (untimed) before the clock starts, as a long-lived instance has; the 50 users are new, so their
  first round also makes each one's ledger. The Coze start goes through axios on Node's own HTTP
  client (cloudfunctions/_adapters/node-http.ts), half to a third of the CPU axios' fetch adapter took.
- **Callback → watch** (${ms(r.notice_ms)} ms): the callback's compare-and-set is the write the
  watch reports; the emulator pushes on the write itself. The tail is callbacks arriving together
  and waiting for an instance or for the CPU.
- **Callback → message** (${ms(r.message_ms)} ms): the finishing compare-and-set claims the notice;
  the send follows it in the same invocation.
- **Cost per task**: the watch design costs the submit, one \`get\` at start and a safety \`get\`
  every 20 s (the mini-program's tracker), whatever the run's length, and the watch's pushes;
  polling costs one invocation and its reads per interval, so the gap grows with the run (Coze runs
  take 30–60 s; this run's are ${r.run_ms / 1000} s), and its latency is about half the interval.
  The callbacks cost every design the same.
- **Verified callbacks** (${r.webhooks_per_s}/s, ${r.cpu_ms_per_webhook} ms CPU each): CPU-bound on
  this machine. The function instances take ${r.cpu_split_ms_per_webhook.functions} ms (the
  database calls, signature check, parsing and the runtime's IPC), the emulator
  ${r.cpu_split_ms_per_webhook.emulator} ms (HTTP, queries, journal). The clock starts after
  ${r.counts.webhooks_warm_up} callbacks of other tasks have warmed the instances: V8 compiles the hot
  paths, ours and the SDK's, only after some hundred calls, and a long-lived cloud instance has made
  many more. Other work on the machine takes CPU from both, and so does the load generator
  (${r.cpu_split_ms_per_webhook.load_generator} ms per callback in its own process, on Node's HTTP
  client: fetch cost it about three times as much).
- **Bundles** (at most 150 KB each, a budget scripts/build.test.ts holds): the shared domain,
  zod/mini and axios, minified; wx-server-sdk stays outside (the cloud installs it). **Cold
  require** is mostly wx-server-sdk's own load (${r.cold_require_ms_sdk_alone} ms alone in the
  same run; our code alone is the table's last column); **peak memory** of one instance is Node
  plus the SDK, inside the memory the functions are given.
`;
}

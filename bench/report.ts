/** The benchmark's JSON shape, its console table (with the ratios) and its Markdown report. */
import type { Machine } from './machine';
import type { Pcts } from './stats';

export interface PollingResult {
  interval_ms: number;
  notice_ms: Pcts;
  requests_per_task: number;
}

export interface BenchResult {
  create_ms: Pcts;
  create_ms_50: Pcts;
  notice_ms: Pcts;
  message_ms: Pcts;
  requests_per_task: number;
  polling: PollingResult[];
  webhooks_per_s: number;
  cpu_ms_per_webhook: number;
  bundle_kb: Record<string, number>;
  cold_require_ms: Record<string, number>;
  peak_rss_mb: Record<string, number>;
  // extras
  success_rate: number;
  notified_rate: number;
  create_ms_side_by_side: Pcts;
  cpu_split_ms_per_webhook: { functions: number; emulator: number };
  cpu_ms_per_create: number;
  cold_require_ms_sdk_alone: number;
  /** the bundle's require with wx-server-sdk already loaded / stubbed (absent in older results) */
  cold_require_ms_ours_alone?: Record<string, { sdkCached: number; sdkStubbed: number }>;
  webhook_ms: Pcts;
  webhook_statuses: Record<string, number>;
  counts: Record<string, number>;
  run_ms: number;
  instances_per_function: { side_by_side: number; submits_and_webhooks: number };
  mode: 'quick' | 'full';
  machine: Machine;
  date: string;
  duration_s: number;
}

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
  return out;
}

function kv(r: BenchResult): [string, string, string][] {
  const fns = Object.keys(r.bundle_kb).sort();
  return [
    [
      'submit answered, 1 user',
      `${ms(r.create_ms)} ms (p50 / p99)`,
      'target < 1000 (local p99 < 150)',
    ],
    [
      'submit answered, 50 users at once',
      `${ms(r.create_ms_50)} ms`,
      `target < 1000; CPU per submit ${r.cpu_ms_per_create} ms`,
    ],
    ['callback → watch sees it', `${ms(r.notice_ms)} ms`, 'target < 5000 (local p99 < 50)'],
    ['callback → subscription message sent', `${ms(r.message_ms)} ms`, 'target < 5000'],
    ['tasks completed end to end', `${(r.success_rate * 100).toFixed(1)} %`, 'target > 95 %'],
    ['followed tasks notified', `${(r.notified_rate * 100).toFixed(1)} %`, ''],
    [
      'verified callbacks per second',
      String(r.webhooks_per_s),
      `${r.instances_per_function.submits_and_webhooks} instances`,
    ],
    [
      'CPU per verified callback',
      `${r.cpu_ms_per_webhook} ms`,
      `functions ${r.cpu_split_ms_per_webhook.functions} + emulator ${r.cpu_split_ms_per_webhook.emulator}`,
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
    `${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}; ${r.mode} run of ${r.duration_s} s, ${r.date}`,
    '',
  ].join('\n');
}

function mdTable(cells: string[][]): string {
  const [head, ...body] = cells;
  const line = (row: string[]) => `| ${row.join(' | ')} |`;
  return [line(head!), line(head!.map(() => '---')), ...body.map(line)].join('\n');
}

export function markdown(r: BenchResult): string {
  const m = r.machine;
  return `# Benchmark results

Latest \`npm run bench\` (${r.mode} mode), ${r.date.slice(0, 10)}, on ${m.cpu}, ${m.cores} cores,
${m.memory_gb} GB memory, Node ${m.node} (${m.platform}). The local stack: the built functions in
their own processes (at most ${r.instances_per_function.side_by_side} instances per function for the
side-by-side run, ${r.instances_per_function.submits_and_webhooks} for submits and callbacks), the CloudBase
emulator, the Coze stand-in with runs of ${r.run_ms} ms, real HTTP and WebSocket on 127.0.0.1.

## Watch against polling, side by side

${r.counts.followed_per_design} tasks per design, all at the same time on the same stack. "Callback" is the moment the
Coze stand-in posts a run's final callback; "sees it" is when the client first knows the task ended.
A request is one \`callFunction\` or one watch subscription (the submit included).

${mdTable(rows(r))}

## The promises

${mdTable([['measure', 'measured', 'note'], ...kv(r)])}

Counts: ${Object.entries(r.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}. Webhook answers: ${JSON.stringify(r.webhook_statuses)}.

## What limits each figure

- **Submit answered** (${ms(r.create_ms)} ms alone): \`create\` makes four database round trips
  in a row through wx-server-sdk (insert, whose \`_id\` also answers a resent request; the quota
  compare-and-set; count active; the compare-and-set after the Coze start) plus the bounded Coze
  start. In the cloud each round trip costs more than here, so their count matters most; counting
  active tasks on a per-user ledger would save one.
- **50 users at once** (${ms(r.create_ms_50)} ms): this machine's CPU. A submit costs about
  ${r.cpu_ms_per_create} ms of CPU across the processes (function instance, emulator, client), so a
  burst of 50 queues on ${r.machine.cores} cores; the cloud runs instances and the database on
  their own CPUs. Fewer round trips per submit cut this directly.
- **Callback → watch** (${ms(r.notice_ms)} ms): two round trips (read the task, the
  compare-and-set the watch reports; the delivery is recorded after it); the emulator pushes on
  the write itself. The tail is callbacks arriving together and waiting for an instance.
- **Callback → message** (${ms(r.message_ms)} ms): two more after the status write (claim the
  notice, send it). Claiming inside the finishing compare-and-set would save one.
- **Requests per task**: the watch design costs the submit, one watch, one \`get\` at start and a
  safety \`get\` every 20 s (the mini-program's tracker), whatever the run's length; polling costs
  one per interval, so the gap grows with the run (Coze runs take 30–60 s), and its latency is
  about half the interval.
- **Verified callbacks** (${r.webhooks_per_s}/s, ${r.cpu_ms_per_webhook} ms CPU each): CPU-bound on
  this machine. The function instances take ${r.cpu_split_ms_per_webhook.functions} ms (each of a
  callback's 3 to 7 database calls is a signed HTTP request through wx-server-sdk, plus parsing
  and the runtime's IPC), the emulator ${r.cpu_split_ms_per_webhook.emulator} ms (HTTP, queries,
  journal). Fewer round trips per callback (as above) raise it. A quick run, with fewer and
  younger instances, measures more CPU per callback.
- **Bundles** (at most 150 KB each, a budget scripts/build.test.ts holds): the shared domain,
  zod/mini and axios, minified; wx-server-sdk stays outside (the cloud installs it). **Cold
  require** is mostly wx-server-sdk's own load (${r.cold_require_ms_sdk_alone} ms alone in the
  same run; our code alone is the table's last column); **peak memory** of
  one instance is Node plus the SDK, well inside the 256 MB the functions are given.
`;
}

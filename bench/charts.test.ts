/** The bench's charts: drawn from a result in process (no stack), with every series and label there. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchCharts,
  costChart,
  ecdf,
  latencyChart,
  timeSeriesChart,
  writeChartsBeside,
} from './charts';
import { markdown, type BenchResult } from './report';

/** n values spread evenly over [from, to]: what polling every (to - from) ms looks like. */
const spread = (n: number, from: number, to: number) =>
  Array.from({ length: n }, (_, i) => Math.round(from + ((to - from) * (i + 0.5)) / n));

const cost = (invocations: number, reads: number, ms: number) => ({
  invocations,
  db_reads: reads,
  db_writes: 8,
  db_ops: reads + 8,
  function_ms: ms,
  gb_s: ms / 4000,
  watch_pushes: 0,
  calls: {},
});

const pcts = { p50: 1, p99: 2 };
/** A result as the bench writes it: only the fields the charts and the report read are real. */
const RESULT = {
  create_ms: pcts,
  create_ms_50: pcts,
  notice_ms: pcts,
  message_ms: pcts,
  requests_per_task: 3,
  polling: [1000, 2000, 5000].map((interval_ms) => ({
    interval_ms,
    notice_ms: pcts,
    requests_per_task: 5,
  })),
  cost_per_task: {
    watch: { ...cost(5, 2, 85), watch_pushes: 4 },
    polling_1s: cost(12.9, 9.9, 128),
    polling_2s: cost(8.9, 5.9, 104),
    polling_5s: cost(6.4, 3.4, 84),
  },
  sweeper_per_run: { runs: 1, db_reads: 5, db_writes: 2, function_ms: 48, gb_s: 0.01 },
  cost_per_call: {},
  cost_unattributed: 0,
  cost_attribution: { unattributed_by_fn: {}, several_tasks: 0 },
  memory_mb: { extractText: 256 },
  targets: [],
  webhooks_per_s: 229,
  cpu_ms_per_webhook: 7.3,
  bundle_kb: { extractText: 132.5 },
  cold_require_ms: { extractText: 290 },
  peak_rss_mb: { extractText: 90 },
  success_rate: 1,
  notified_rate: 1,
  create_ms_side_by_side: pcts,
  cpu_split_ms_per_webhook: { functions: 5.4, emulator: 1.9, load_generator: 0.7 },
  cpu_ms_per_create: 20,
  cold_require_ms_sdk_alone: 359,
  webhook_ms: pcts,
  webhook_statuses: { '200': 300 },
  webhook_warm_up_statuses: { '200': 900 },
  counts: { followed_per_design: 16 },
  run_ms: 8000,
  instances_per_function: { side_by_side: 4, submits_and_webhooks: 6 },
  mode: 'quick',
  latency_samples_ms: {
    watch: spread(16, 6, 24),
    polling_1s: spread(16, 20, 1000),
    polling_2s: spread(16, 40, 2000),
    polling_5s: spread(16, 100, 5000),
  },
  machine: { cpu: 'test', cores: 2, memory_gb: 1, node: 'v20', platform: 'linux x64' },
  date: '2026-12-06T00:00:00.000Z',
  duration_s: 60,
} as unknown as BenchResult;

/** The drawn text of an SVG (ECharts writes each label as a <text> element). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

function expectSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
}

it('an ECDF: the share of samples at or below each value', () => {
  expect(ecdf([30, 10, 20, 40])).toEqual([
    [10, 25],
    [20, 50],
    [30, 75],
    [40, 100],
  ]);
  expect(ecdf([])).toEqual([]);
});

it('draws each design’s latencies as a distribution, labelled with its median', () => {
  const svg = latencyChart(RESULT.latency_samples_ms!, 8000);
  expectSvg(svg);
  const labels = texts(svg);
  expect(labels).toEqual(
    expect.arrayContaining([
      'Callback → the client knows the task ended',
      'watch (p50 14 ms)',
      'polling 1 s (p50 479 ms)',
      'polling 5 s (p50 2397 ms)',
      '100 %',
    ]),
  );
  // One line per design, each a step through all of its samples.
  expect(svg.match(/<path d="M[^"]*"[^>]*stroke-width="2"/g)?.length).toBeGreaterThanOrEqual(4);
});

it('draws what a task costs per design, with the figures on the bars', () => {
  const svg = costChart(RESULT.cost_per_task, ['watch', 'polling_1s', 'polling_2s', 'polling_5s']);
  expectSvg(svg);
  expect(texts(svg)).toEqual(
    expect.arrayContaining([
      'function invocations',
      'database reads',
      'watch',
      'polling 5 s',
      '12.9',
      '128',
    ]),
  );
});

it('draws curves over time on two axes, with a limit as a labelled line', () => {
  const svg = timeSeriesChart({
    title: 'Burst: the queue drains at the configured QPS',
    series: [
      {
        name: 'queue length',
        axis: 'count',
        points: [
          [0, 0],
          [1000, 40],
          [5000, 20],
          [9000, 0],
        ],
      },
      {
        name: 'starts per second',
        axis: 'rate',
        points: [
          [1000, 5],
          [5000, 5],
          [9000, 2],
        ],
      },
    ],
    limits: [{ name: 'configured QPS', axis: 'rate', value: 5 }],
  });
  expectSvg(svg);
  expect(texts(svg)).toEqual(
    expect.arrayContaining(['queue length', 'starts per second', 'configured QPS: 5']),
  );
  expect(svg).toMatch(/stroke-dasharray/);
});

it('writes every chart beside the JSON and the report, and the report shows them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-charts-'));
  try {
    const timelines = [
      {
        file: 'burst.svg',
        title: 'Burst',
        series: [
          { name: 'queue length', axis: 'count' as const, points: [[0, 1]] as [number, number][] },
        ],
      },
    ];
    const r = { ...RESULT, timelines };
    const written = writeChartsBeside(r, [
      join(dir, 'out.json'),
      join(dir, 'RESULTS.md'),
      undefined,
    ]);
    expect(written.map((p) => p.slice(dir.length))).toEqual([
      '/charts/latency.svg',
      '/charts/cost.svg',
      '/charts/burst.svg',
    ]);
    for (const p of written) expectSvg(readFileSync(p, 'utf8'));
    const md = markdown(r);
    for (const c of benchCharts(r)) expect(md).toContain(`](charts/${c.file})`);
    expect(md).toContain('## Over time');
    // An older result (no samples, no curves): no picture of what it did not measure.
    const old = { ...RESULT, latency_samples_ms: undefined };
    expect(benchCharts(old).map((c) => c.file)).toEqual(['cost.svg']);
    expect(markdown(old)).not.toContain('latency.svg');
    expect(writeChartsBeside(r, [undefined])).toEqual([]);
    expect(existsSync(join(dir, 'charts', 'latency.svg'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('bench/RESULTS.md shows charts that are in the repository', () => {
  const md = readFileSync(join(__dirname, 'RESULTS.md'), 'utf8');
  const shown = [...md.matchAll(/\]\((charts\/[\w.-]+\.svg)\)/g)].map((m) => m[1]!);
  expect(shown.length).toBeGreaterThanOrEqual(2);
  for (const file of shown) expectSvg(readFileSync(join(__dirname, file), 'utf8'));
});

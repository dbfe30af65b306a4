/**
 * The benchmark as pictures: SVG charts written beside its JSON and shown in bench/RESULTS.md.
 *
 * Drawn with Apache ECharts' server-side renderer (`ssr: true`, SVG): it runs in Node with no
 * browser and no DOM, offline, straight from node_modules (no build step), and gives real axes
 * (log scales, nice ticks), legends and reference lines for a few lines of options each. The same
 * library runs in a browser from node_modules too, should the console chart live data.
 *
 * - latency: callback → the client knows, each design's every task, as a distribution (ECDF on a
 *   log axis: the share of tasks that knew within x ms), watch against polling;
 * - cost: what a task costs per design (invocations, database reads and writes; function time);
 * - any measured curve over time in `BenchResult.timelines` (a burst's queue length, starts per
 *   second and QPS against the configured limit): `timeSeriesChart`, one call per curve set.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as echarts from 'echarts';
import type { BenchResult, TimelineChart } from './report';
import { percentile } from './stats';

export interface Chart {
  /** file name inside the charts folder, e.g. `latency.svg` */
  file: string;
  title: string;
  /** what the picture says, for the Markdown's alt text */
  alt: string;
  svg(): string;
}

/** The charts folder beside a result file: `bench/RESULTS.md` → `bench/charts/`. */
export const CHARTS_DIR = 'charts';

const WIDTH = 760;
const HEIGHT = 380;
// Without a canvas, ECharts lays out text with Helvetica's widths: so the text is drawn in
// Helvetica or a font with its metrics (Arial, Liberation Sans), and legends and labels fit.
// Unquoted names: ECharts writes the list into a double-quoted style attribute as it is.
const FONT = 'Helvetica, Arial, Liberation Sans, sans-serif';
/** One colour per design, the same in every chart: watch first, then polling 1 s, 2 s, 5 s. */
const PALETTE = ['#07a35a', '#d9480f', '#f08c00', '#7048e8', '#1c7ed6', '#495057'];

/** Renders one ECharts option to an SVG string (no animation: a file, not a page). */
function renderSvg(option: echarts.EChartsCoreOption, width = WIDTH, height = HEIGHT) {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const title = (text: string, subtext?: string) => ({
  text,
  subtext,
  left: 12,
  top: 8,
  textStyle: { fontSize: 15, fontWeight: 600 },
  subtextStyle: { fontSize: 11, color: '#6b7280' },
});

/** The share of samples at or below each value, as [value, percent] steps. */
export function ecdf(values: readonly number[]): [number, number][] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.map((v, i) => [v, Math.round(((i + 1) / sorted.length) * 1000) / 10]);
}

/** An ECDF drawn as steps from 0 % at its first value (the line rises there, not above it). */
const steps = (points: [number, number][]): [number, number][] =>
  points.length ? [[points[0]![0], 0], ...points] : [];

/** "polling_2s" → "polling 2 s" (the JSON's design keys, as the tables write them). */
const designLabel = (key: string) => key.replace(/^polling_(\d+)s$/, 'polling $1 s');

/** Each design's latencies (ms) as one ECDF line, on a log axis so 10 ms and 5 s both read. */
export function latencyChart(samples: Record<string, readonly number[]>, runMs?: number): string {
  const designs = Object.keys(samples).filter((k) => samples[k]!.length > 0);
  return renderSvg({
    title: title(
      'Callback → the client knows the task ended',
      `each task of each design; share of tasks that knew within x ms${
        runMs ? ` (simulated runs of ${runMs / 1000} s)` : ''
      }`,
    ),
    legend: { top: 58, left: 58, itemWidth: 18 },
    grid: { top: 100, left: 64, right: 28, bottom: 52 },
    xAxis: {
      type: 'log',
      name: 'ms after Coze posted the final callback (log scale)',
      nameLocation: 'middle',
      nameGap: 30,
      min: 1,
      minorSplitLine: { show: false },
    },
    yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value} %' } },
    series: designs.map((d) => ({
      name: `${designLabel(d)} (p50 ${percentile(samples[d]!, 50)} ms)`,
      type: 'line',
      step: 'end',
      showSymbol: false,
      lineStyle: { width: 2 },
      data: steps(ecdf(samples[d]!.map((v) => Math.max(1, v)))),
    })),
  });
}

/** What one task costs per design: counts on the left, function time on the right. */
export function costChart(cost: BenchResult['cost_per_task'], order: string[]): string {
  const designs = order.filter((k) => cost[k]);
  const counts = [
    ['function invocations', 'invocations'],
    ['database reads', 'db_reads'],
    ['database writes', 'db_writes'],
  ] as const;
  return renderSvg(
    {
      title: title(
        'What one task costs, per design',
        'counted per invocation by the local stack; the callbacks cost every design the same',
      ),
      legend: { top: 58, left: 50 },
      grid: [
        { top: 112, left: 56, width: '50%', bottom: 40 },
        { top: 112, right: 24, width: '28%', bottom: 40 },
      ],
      xAxis: [
        { type: 'category', gridIndex: 0, data: designs.map(designLabel) },
        {
          type: 'category',
          gridIndex: 1,
          data: designs.map(designLabel),
          axisLabel: { rotate: 0, fontSize: 10 },
        },
      ],
      yAxis: [
        { type: 'value', gridIndex: 0, name: 'per task', nameGap: 12 },
        { type: 'value', gridIndex: 1, name: 'function ms per task', nameGap: 12 },
      ],
      series: [
        ...counts.map(([name, key]) => ({
          name,
          type: 'bar',
          xAxisIndex: 0,
          yAxisIndex: 0,
          label: { show: true, position: 'top', fontSize: 10 },
          data: designs.map((d) => cost[d]![key]),
        })),
        {
          name: 'function wall time',
          type: 'bar',
          xAxisIndex: 1,
          yAxisIndex: 1,
          itemStyle: { color: PALETTE[5] },
          label: { show: true, position: 'top', fontSize: 10 },
          data: designs.map((d) => cost[d]!.function_ms),
        },
      ],
    },
    WIDTH + 80,
    HEIGHT,
  );
}

/**
 * Curves over time on one chart: counts (a queue's length) on the left axis, rates (starts per
 * second, QPS) on the right, each limit (the configured QPS) as a dashed line on its axis.
 * Times are ms since the phase began.
 */
export function timeSeriesChart(spec: Omit<TimelineChart, 'file'>): string {
  const axisOf = (a: 'count' | 'rate') => (a === 'count' ? 0 : 1);
  const limits = spec.limits ?? [];
  // Room above the highest curve or limit of each axis, so a limit's line and label stay clear.
  const top = (axis: 'count' | 'rate') => {
    const values = [
      ...spec.series.filter((s) => s.axis === axis).flatMap((s) => s.points.map(([, v]) => v)),
      ...limits.filter((l) => l.axis === axis).map((l) => l.value),
    ];
    return values.length ? Math.max(1, Math.ceil(Math.max(...values) * 1.2)) : undefined;
  };
  return renderSvg({
    title: title(spec.title, spec.subtitle),
    legend: { top: 58, left: 58 },
    grid: { top: 112, left: 64, right: 64, bottom: 52 },
    xAxis: {
      type: 'value',
      name: 'seconds since the phase began',
      nameLocation: 'middle',
      nameGap: 30,
      min: 0,
    },
    yAxis: [
      {
        type: 'value',
        name: spec.countLabel ?? 'tasks',
        nameGap: 12,
        minInterval: 1,
        max: top('count'),
      },
      {
        type: 'value',
        name: spec.rateLabel ?? 'per second',
        nameGap: 12,
        max: top('rate'),
        splitLine: { show: false },
      },
    ],
    series: spec.series.map((s, i) => ({
      name: s.name,
      type: 'line',
      yAxisIndex: axisOf(s.axis),
      showSymbol: false,
      step: s.axis === 'count' ? 'end' : undefined,
      lineStyle: { width: 2 },
      data: s.points.map(([t, v]) => [Math.round(t) / 1000, v]),
      // Each limit is drawn on the first series of its axis.
      markLine:
        i === spec.series.findIndex((x) => x.axis === s.axis)
          ? {
              symbol: 'none',
              lineStyle: { type: 'dashed', color: '#c92a2a' },
              label: { formatter: '{b}: {c}', position: 'insideStartTop', color: '#c92a2a' },
              data: limits
                .filter((l) => l.axis === s.axis)
                .map((l) => ({ name: l.name, yAxis: l.value })),
            }
          : undefined,
    })),
  });
}

/** The charts this result has data for, in the order the report shows them. */
export function benchCharts(r: BenchResult): Chart[] {
  const out: Chart[] = [];
  const samples = r.latency_samples_ms;
  if (samples && Object.values(samples).some((v) => v.length > 0)) {
    out.push({
      file: 'latency.svg',
      title: 'Callback → client sees it, every task',
      alt: 'Share of tasks whose client knew the end within x ms, watch against polling every 1, 2 and 5 s',
      svg: () => latencyChart(samples, r.run_ms),
    });
  }
  const order = ['watch', ...r.polling.map((p) => `polling_${p.interval_ms / 1000}s`)];
  if (order.some((k) => r.cost_per_task[k])) {
    out.push({
      file: 'cost.svg',
      title: 'What a task costs, per design',
      alt: 'Invocations, database reads and writes and function time per task, watch against polling',
      svg: () => costChart(r.cost_per_task, order),
    });
  }
  return [...out, ...timelineCharts(r.timelines ?? [])];
}

/** A chart per measured curve set (a burst's drain, say). */
export function timelineCharts(timelines: readonly TimelineChart[]): Chart[] {
  return timelines.map((t) => ({
    file: t.file,
    title: t.title,
    alt: t.subtitle ?? t.title,
    svg: () => timeSeriesChart(t),
  }));
}

/**
 * Writes every chart into `charts/` beside each given result file (the JSON, the Markdown), once
 * per folder. Answers the paths written.
 */
export function writeChartsBeside(r: BenchResult, files: (string | undefined)[]): string[] {
  return writeCharts(benchCharts(r), files);
}

/** Writes the charts into `charts/` beside each of `files` (the JSON, the report); their paths. */
export function writeCharts(list: readonly Chart[], files: (string | undefined)[]): string[] {
  const dirs = [
    ...new Set(files.filter((f): f is string => !!f).map((f) => join(dirname(f), CHARTS_DIR))),
  ];
  if (dirs.length === 0) return [];
  const charts = list.map((c) => ({ file: c.file, svg: c.svg() }));
  const written: string[] = [];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    for (const c of charts) {
      const path = join(dir, c.file);
      writeFileSync(path, `${c.svg}\n`);
      written.push(path);
    }
  }
  return written;
}

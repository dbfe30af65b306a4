// The queue of starts: tasks waiting over time, the drain against the configured QPS, refused
// upstream calls, the dispatcher now, and every waiting task with its place and wait, live.
//
// The curves are drawn by Apache ECharts in the browser, the library the bench draws its SVG
// charts with: one dev dependency for both, served from node_modules like preact (no build step),
// with a time axis, tooltips, legends and limit lines for a few lines of options. It is loaded
// only when this view opens; without it the view keeps its tables and says why.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  html,
  call,
  nudge,
  useData,
  fmtTime,
  fromNow,
  short,
  Badge,
  Err,
  TaskLink,
} from './live.js';
import { Flash, SAYS } from './views-drive.js';

/** Refetch this often with no event too: the time axis moves, the countdowns run. */
const REFRESH_MS = 2000;

const COLORS = {
  waiting: '#1a73e8',
  lease: 'rgba(240, 140, 0, 0.13)',
  gaveUp: '#c92a2a',
  starts: '#07a35a',
  reads: '#94d3a2',
  rate: '#7048e8',
  qps: '#f08c00',
  standinQps: '#d9480f',
  cozeQps: '#495057',
  refusedStarts: '#e03131',
  refusedReads: '#ffa8a8',
  refusedSeen: '#862e9c',
};

let echartsLoading = null;
const loadECharts = () => (echartsLoading ??= import('echarts'));

/** `[t, v]` points of a per-second column (a bar or a value at each second's start). */
const points = (s, column) => column.map((v, i) => [s.from + i * 1000, v]);
const maxOf = (...columns) => Math.max(0, ...columns.flat().filter((v) => typeof v === 'number'));
const round2 = (v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v);

/** The chart's ECharts option: three panels on one time axis. */
function chartOption(d) {
  const s = d.series;
  const up = d.upstream;
  const cozeQps = d.limits.cozeQps;
  // A limit far above what happened would flatten every bar: it is then named, not drawn.
  const rateTop = maxOf(
    s.starts.map((v, i) => v + (up ? up.read[i] : 0)),
    s.rate,
    s.qps,
    s.standinQps,
  );
  const drawCozeQps = cozeQps !== null && cozeQps <= Math.max(2, rateTop * 2.5);
  const grids = [
    { top: 34, height: 120 },
    { top: 214, height: 130 },
    { top: 404, height: 100 },
  ];
  const titles = [
    'Tasks waiting to start (shaded: a sweep dispatching)',
    `Upstream calls a second against the limits${
      cozeQps !== null && !drawCozeQps ? ` (COZE_QPS ${cozeQps}: above this scale)` : ''
    }`,
    'Refused upstream calls a second',
  ];
  const axisBase = (i) => ({
    type: 'time',
    gridIndex: i,
    min: s.from,
    max: d.window.to,
    axisLabel: { show: i === 2, hideOverlap: true },
    splitLine: { show: false },
  });
  const series = [
    {
      name: 'waiting',
      type: 'line',
      step: 'end',
      showSymbol: false,
      xAxisIndex: 0,
      yAxisIndex: 0,
      color: COLORS.waiting,
      lineStyle: { width: 2 },
      data: points(s, s.waiting),
      markArea: {
        silent: true,
        itemStyle: { color: COLORS.lease },
        // Whole seconds, as every curve is drawn (a second's value from its start).
        data: s.leases.map((l) => [
          { xAxis: Math.max(Math.floor(l.from / 1000) * 1000, s.from) },
          { xAxis: Math.ceil(l.until / 1000) * 1000 },
        ]),
      },
    },
    {
      name: 'gave up waiting (TOO_BUSY)',
      type: 'bar',
      xAxisIndex: 0,
      yAxisIndex: 0,
      color: COLORS.gaveUp,
      data: points(s, s.gaveUp),
    },
    {
      name: 'runs started',
      type: 'bar',
      stack: 'taken',
      xAxisIndex: 1,
      yAxisIndex: 1,
      color: COLORS.starts,
      data: points(s, s.starts),
      markLine: drawCozeQps
        ? {
            silent: true,
            symbol: 'none',
            lineStyle: { type: 'dashed', color: COLORS.cozeQps },
            label: { formatter: `COZE_QPS ${cozeQps}`, position: 'insideEndTop' },
            data: [{ yAxis: cozeQps }],
          }
        : undefined,
    },
    ...(up
      ? [
          {
            name: 'history reads (stand-in)',
            type: 'bar',
            stack: 'taken',
            xAxisIndex: 1,
            yAxisIndex: 1,
            color: COLORS.reads,
            data: points(s, up.read),
          },
          {
            name: 'stand-in QPS (COZE_STANDIN_QPS)',
            type: 'line',
            step: 'end',
            showSymbol: false,
            xAxisIndex: 1,
            yAxisIndex: 1,
            color: COLORS.standinQps,
            lineStyle: { type: 'dashed', width: 2 },
            data: points(s, s.standinQps),
          },
        ]
      : []),
    {
      name: 'dispatcher: allowed rate',
      type: 'line',
      step: 'end',
      showSymbol: false,
      xAxisIndex: 1,
      yAxisIndex: 1,
      color: COLORS.qps,
      data: points(s, s.qps),
    },
    {
      name: 'dispatcher: measured drain',
      type: 'line',
      showSymbol: false,
      xAxisIndex: 1,
      yAxisIndex: 1,
      color: COLORS.rate,
      data: points(s, s.rate),
    },
    ...(up
      ? [
          {
            name: 'starts refused (stand-in 429)',
            type: 'bar',
            stack: 'refused',
            xAxisIndex: 2,
            yAxisIndex: 2,
            color: COLORS.refusedStarts,
            data: points(s, up.refusedStarts),
          },
          {
            name: 'history reads refused',
            type: 'bar',
            stack: 'refused',
            xAxisIndex: 2,
            yAxisIndex: 2,
            color: COLORS.refusedReads,
            data: points(s, up.refusedReads),
          },
        ]
      : []),
    {
      name: 'starts refused, as the functions logged them',
      type: 'line',
      step: 'middle',
      showSymbol: false,
      xAxisIndex: 2,
      yAxisIndex: 2,
      color: COLORS.refusedSeen,
      data: points(s, s.refusedStarts),
    },
  ];
  const legendFor = (i) => series.filter((x) => x.xAxisIndex === i).map((x) => x.name);
  return {
    animation: false,
    textStyle: { fontFamily: 'system-ui, sans-serif' },
    title: titles.map((text, i) => ({
      text,
      top: grids[i].top - 30,
      left: 8,
      textStyle: { fontSize: 13, fontWeight: 600 },
    })),
    legend: grids.map((g, i) => ({
      data: legendFor(i),
      top: g.top - 28,
      right: 8,
      itemWidth: 14,
      itemHeight: 9,
      textStyle: { fontSize: 11 },
    })),
    grid: grids.map((g) => ({ ...g, left: 52, right: 20 })),
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) => (v === null || v === undefined ? '—' : String(round2(v))),
    },
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    xAxis: grids.map((_, i) => axisBase(i)),
    yAxis: [
      { type: 'value', gridIndex: 0, minInterval: 1 },
      {
        type: 'value',
        gridIndex: 1,
        max: (v) => Math.max(1, Math.ceil(Math.max(v.max, drawCozeQps ? cozeQps : 0) * 1.15)),
      },
      { type: 'value', gridIndex: 2, minInterval: 1 },
    ],
    series,
  };
}

/** The curves: drawn once the library has loaded, redrawn on each answer. */
function QueueChart({ data }) {
  const el = useRef(null);
  const chart = useRef(null);
  const latest = useRef(data);
  const [state, setState] = useState('loading');
  latest.current = data;
  useEffect(() => {
    let gone = false;
    let observer = null;
    loadECharts().then(
      (echarts) => {
        if (gone || !el.current) return;
        chart.current = echarts.init(el.current, null, { renderer: 'svg' });
        chart.current.setOption(chartOption(latest.current), { notMerge: true });
        observer = new ResizeObserver(() => chart.current && chart.current.resize());
        observer.observe(el.current);
        setState('drawn');
      },
      () => !gone && setState('missing'),
    );
    return () => {
      gone = true;
      if (observer) observer.disconnect();
      if (chart.current) chart.current.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    if (chart.current) chart.current.setOption(chartOption(data), { notMerge: true });
  }, [data]);
  return html`
    ${
      state === 'missing' &&
      html`<p class="flash error">
        The charts need Apache ECharts from node_modules (a dev dependency): run
        <code>npm ci</code>. The figures below do not.
      </p>`
    }
    <div class="chart" ref=${el} data-testid="queue-chart" data-state=${state}></div>
  `;
}

const CREATE_MODES = {
  direct: 'a create starts its own run (the queue is idle)',
  slot: 'a create starts its run in a paced slot (Coze refused a start lately), else leaves it to the queue',
  queue: 'a create leaves its start to the queue (a dispatcher runs or tasks wait)',
};

const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
const secs = (v) => (v === null || v === undefined ? '—' : `${Math.round(v * 10) / 10} s`);
/** A space between an element and text: the page's templates are reflowed by the formatter. */
const _ = ' ';

/** The dispatcher and the creates now, from the queue's state document. */
function Now({ d }) {
  const st = d.state;
  const dispatcher = d.dispatching
    ? html`<${Badge} cls="warnb">dispatching<//>${_}lease${_}<span class="mono"
          >${short(st.leaseHolder)}</span
        >${_}${`until ${fmtTime(st.leaseUntil)} (${fromNow(st.leaseUntil, d.now)})`}`
    : html`<${Badge}>idle<//>${_}${
          d.sweeperAt
            ? `next sweep ${fmtTime(d.sweeperAt)} (${fromNow(d.sweeperAt, d.now)})`
            : 'timers are off: a sweep runs only from “Run the sweeper now”'
        }`;
  const rates = st.sweptAt
    ? `allows itself ${round2(st.qps)}/s, measured ${round2(st.rate)}/s`
    : 'no sweep has dispatched yet';
  const estimate =
    d.untilDispatchS === null
      ? `${round2(d.drainRate)} starts/s once a dispatcher runs (none is coming: timers are off)`
      : `${round2(d.drainRate)} starts/s, ${secs(d.untilDispatchS)} until a dispatcher runs`;
  const busy = st.busyUntil && st.busyUntil > d.now ? ` (busy until ${fmtTime(st.busyUntil)})` : '';
  return html`<div class="panel" data-testid="queue-now">
    <h2>Now</h2>
    <div class="kv">
      <div>waiting</div>
      <div data-testid="queue-waiting">
        <b>${d.waitingCount}</b>${_}${d.waitingCount === 1 ? 'task' : 'tasks'}${_}<span
          class="muted"
          >${st.sweptAt ? `(the dispatcher last counted ${st.backlog})` : '(no dispatcher has counted yet)'}</span
        >
      </div>
      <div>dispatcher</div>
      <div data-testid="queue-dispatcher">${dispatcher}</div>
      <div>its rate</div>
      <div data-testid="queue-rates">
        ${rates}${_}<span class="muted"
          >${st.updatedAt ? `(state written ${fmtTime(st.updatedAt)})` : ''}</span
        >
      </div>
      <div>waits estimated at</div>
      <div>${estimate}</div>
      <div>since the start</div>
      <div data-testid="queue-totals">
        ${`${st.startedTotal} started by the queue, ${st.refusedTotal} refused for rate or load`}
      </div>
      <div>creates</div>
      <div data-testid="queue-create-mode">
        <code>${d.createMode}</code>${`: ${CREATE_MODES[d.createMode]}${busy}`}
      </div>
      <div>last sweep</div>
      <div>
        ${
          st.sweptAt
            ? `${fmtTime(st.sweptAt)} (${fromNow(st.sweptAt, d.now)}), every ${secs(st.sweepEveryMs / 1000)} as measured`
            : 'none yet'
        }
      </div>
    </div>
  </div>`;
}

function Limits({ d }) {
  const l = d.limits;
  const up = d.upstream;
  // The last ten whole seconds (the series' last one is still filling).
  const last = (col) => (col ? col.slice(-11, -1).reduce((a, b) => a + b, 0) : 0);
  return html`<div class="panel" data-testid="queue-limits">
    <h2>Limits</h2>
    <div class="kv">
      <div>COZE_QPS</div>
      <div data-testid="limit-coze-qps">
        <b>${l.cozeQps ?? '—'}</b>${_}<span class="muted"
          >calls a second the backend allows itself</span
        >
      </div>
      <div>QUEUE_MAX_WAIT_S</div>
      <div>
        <b>${l.queueMaxWaitS ?? '—'} s</b>${_}<span class="muted"
          >then a waiting task gives up (TOO_BUSY, no notice)</span
        >
      </div>
      <div>upstream</div>
      <div data-testid="limit-standin-qps">
        ${
          l.coze === 'real'
            ? 'the real Coze: its plan sets the limit'
            : html`Coze stand-in,
                COZE_STANDIN_QPS${_}<b>${l.standinQps ? `${l.standinQps}/s` : 'no limit'}</b>${_}<a
                  href="#drive"
                  >(change it under Drive it)</a
                >`
        }
      </div>
      ${
        up &&
        html`<div>last 10 s upstream</div>
          <div data-testid="queue-upstream">
            ${`${count(last(d.series.starts), 'run')} started, ${count(last(up.read), 'history read')} taken; ${count(
              last(up.refusedStarts) + last(up.refusedReads),
              'call',
            )} refused`}
          </div>`
      }
    </div>
  </div>`;
}

/** `queuePosition`'s answer as the page gets it; a wait of 0 means no rate is known yet. */
const pageShows = (p) =>
  `${p.ahead} ahead, ${p.waitS ? `about ${p.waitS} s` : 'no wait estimate (no rate known yet)'}`;
const heldUntil = (t) => `held for its create's own start until ${fmtTime(t.nextDispatchAt)}`;

/** Every waiting task: its place, its wait, and what its user's page shows. */
function WaitingTable({ d }) {
  return html`<div class="panel">
    <h2>
      Waiting tasks${_}<span class="muted"
        >(in the dispatcher's order: oldest first, each user's first task before anyone's
        second)</span
      >
    </h2>
    ${
      d.waiting.length === 0
        ? html`<p class="muted" data-testid="queue-empty">Nobody is waiting.</p>`
        : html`<div class="table-wrap">
            <table data-testid="queue-tasks">
              <tr>
                <th>place</th>
                <th>task</th>
                <th>user</th>
                <th>waiting</th>
                <th>estimated wait</th>
                <th>the user's page shows</th>
                <th>gives up at</th>
                <th>starts</th>
              </tr>
              ${d.waiting.map(
                (t) =>
                  html`<tr
                    class="click"
                    data-testid="queue-row"
                    data-task=${t.id}
                    data-place=${t.place ?? ''}
                    onClick=${() => (location.hash = `task/${t.id}`)}
                  >
                    <td><b>${t.place ?? '—'}</b></td>
                    <td><${TaskLink} id=${t.id} /></td>
                    <td class="mono">${t.openid}</td>
                    <td>${Math.max(0, Math.round((d.now - t.createdAt) / 1000))} s</td>
                    <td data-testid="queue-row-wait">
                      ${
                        t.place === null
                          ? html`<span class="muted">${heldUntil(t)}</span>`
                          : t.waitS === null
                            ? html`<span class="muted">no sweep coming (timers off)</span>`
                            : `about ${t.waitS} s`
                      }
                    </td>
                    <td>
                      ${t.page ? pageShows(t.page) : html`<span class="muted">no place (no ticket)</span>`}
                    </td>
                    <td>
                      ${t.expiresAt ? `${fmtTime(t.expiresAt)} (${fromNow(t.expiresAt, d.now)})` : '—'}
                    </td>
                    <td>${t.startAttempts}</td>
                  </tr>`,
              )}
            </table>
          </div>`
    }
    ${
      d.waitingCount > d.waiting.length &&
      html`<p class="note">${d.waitingCount - d.waiting.length} more not listed.</p>`
    }
  </div>`;
}

const WINDOWS = [
  ['auto', 'the latest burst'],
  ['2', '2 min'],
  ['10', '10 min'],
  ['30', '30 min'],
];

function Queue() {
  const [span, setSpan] = useState('auto');
  const [flash, setFlash] = useState(null);
  const [sweeping, setSweeping] = useState(false);
  const { data, error } = useData(
    `/queue${span === 'auto' ? '' : `?minutes=${span}`}`,
    ['queue', 'tasks', 'standin'],
    REFRESH_MS,
  );
  const sweep = async () => {
    setSweeping(true);
    setFlash({ what: 'sweeper', kind: 'ok', text: 'running: it dispatches until nothing waits' });
    try {
      setFlash({ what: 'sweeper', ...SAYS.sweep(await call('/sweep', {})) });
    } catch (e) {
      setFlash({ what: 'sweeper', kind: e.status < 500 ? 'refused' : 'error', text: e.message });
    } finally {
      setSweeping(false);
      nudge('queue');
    }
  };
  if (!data) return html`<${Err} error=${error} />`;
  return html`
    <div data-testid="queue">
      <div class="grid">
        <${Now} d=${data} />
        <${Limits} d=${data} />
      </div>
      <div class="panel">
        <h2>The queue over time <span class="muted">(live, a point a second)</span></h2>
        <div class="filters">
          <label
            >span
            <select
              value=${span}
              onChange=${(e) => setSpan(e.target.value)}
              data-testid="queue-span"
            >
              ${WINDOWS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
            </select></label
          >
          <span class="muted">${fmtTime(data.window.from)} – ${fmtTime(data.window.to)}</span>
          <button disabled=${sweeping} data-testid="queue-sweep" onClick=${sweep}>
            ${sweeping ? 'Sweeping…' : 'Run the sweeper now'}
          </button>
        </div>
        ${flash && html`<${Flash} flash=${flash} />`}
        ${data.series ? html`<${QueueChart} data=${data} />` : html`<p class="muted">No record yet.</p>`}
      </div>
      <${WaitingTable} d=${data} />
    </div>
  `;
}

export { Queue, chartOption };

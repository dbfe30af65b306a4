// The local console page: preact + htm, no build step. Data comes from /_console/api/*, live nudges
// from the /_console/events stream (Server-Sent Events); each view refetches what a nudge concerns.
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const API = '/_console/api';

async function call(path, body) {
  const res = await fetch(`${API}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data && data.error ? data.error : `HTTP ${res.status}`);
  return data;
}

// ------------------------------------------------------------------------------------------------
// Live updates: one EventSource; each topic has a counter that views depend on.

const listeners = new Set();
const versions = { tasks: 0, monitor: 0, log: 0, standin: 0 };
const liveState = { on: false };
const streamed = { monitor: [], log: [] };

function connect() {
  const es = new EventSource('/_console/events');
  const bump = (topic, data) => {
    versions[topic]++;
    if (data && streamed[topic]) {
      streamed[topic].push(data);
      if (streamed[topic].length > 2000) streamed[topic].splice(0, 500);
    }
    for (const l of listeners) l();
  };
  es.addEventListener('hello', () => {
    liveState.on = true;
    for (const l of listeners) l();
  });
  es.addEventListener('tasks', () => bump('tasks'));
  es.addEventListener('standin', () => bump('standin'));
  es.addEventListener('monitor', (e) => {
    const data = JSON.parse(e.data);
    bump('monitor', data);
    // A finished invocation changes the overview and a task's cost.
    if (data.type === 'invocation.finished' || data.type === 'message') bump('tasks');
  });
  es.addEventListener('log', (e) => bump('log', JSON.parse(e.data)));
  es.onerror = () => {
    liveState.on = false;
    for (const l of listeners) l();
  };
}

function useLive(topics) {
  const [, force] = useState(0);
  useEffect(() => {
    let timer = null;
    const l = () => {
      // Bursts of events: at most one refresh per 150 ms.
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        force((n) => n + 1);
      }, 150);
    };
    listeners.add(l);
    return () => {
      listeners.delete(l);
      if (timer) clearTimeout(timer);
    };
  }, []);
  return topics.map((t) => versions[t]).join('.');
}

/** Fetches `path` now and again whenever one of `topics` moves. */
function useData(path, topics) {
  const version = useLive(topics);
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    let stale = false;
    call(path).then(
      (data) => !stale && setState({ data, error: null }),
      (err) => !stale && setState((s) => ({ data: s.data, error: err.message })),
    );
    return () => {
      stale = true;
    };
  }, [path, version]);
  return state;
}

// ------------------------------------------------------------------------------------------------
// Small pieces

const fmtTime = (v) => (v ? new Date(v).toLocaleTimeString() : '—');
const fmtRel = (ms) => (ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);
const short = (id) => (id ? String(id).slice(0, 8) : '—');
const Badge = ({ cls, children }) => html`<span class=${`badge ${cls || ''}`}>${children}</span>`;

function Err({ error }) {
  return error ? html`<div class="flash err">${error}</div>` : null;
}

function useHash() {
  const [hash, setHash] = useState(location.hash.slice(1) || 'overview');
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || 'overview');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

// ------------------------------------------------------------------------------------------------
// Overview

function Overview() {
  const { data, error } = useData('/overview', ['tasks', 'standin']);
  if (!data) return html`<${Err} error=${error} />`;
  return html`
    <div class="grid" data-testid="overview">
      <div class="panel">
        <h2>The stack</h2>
        <div class="kv">
          <div>URL</div>
          <div class="mono">${data.url}</div>
          <div>Coze</div>
          <div data-testid="coze">
            <${Badge} cls=${data.coze.kind === 'real' ? 'bad' : 'ok'}>${data.coze.kind}<//>
            <span class="mono"> ${data.coze.baseUrl}</span>
          </div>
          <div>Webhook URL</div>
          <div class="mono" data-testid="webhook-url">${data.webhookUrl}</div>
          <div>Data dir</div>
          <div class="mono">${data.dataDir}</div>
          <div>Collections</div>
          <div>${data.collections.join(', ')}</div>
        </div>
        <p class="note">
          Paste the webhook URL into the workflow's last HTTP node (docs/coze-workflow.md).
        </p>
      </div>
      <div class="panel">
        <h2>Timers</h2>
        <table>
          <tr>
            <th>function</th>
            <th>trigger</th>
            <th>cron</th>
            <th>next run</th>
          </tr>
          ${data.timers.map(
            (t) =>
              html`<tr>
                <td>${t.fn}</td>
                <td>${t.trigger}</td>
                <td class="mono">${t.cron}</td>
                <td>
                  ${t.nextAt ? `${fmtTime(t.nextAt)} (in ${Math.max(0, Math.round((t.nextAt - data.now) / 1000))} s)` : 'off (timers disabled)'}
                </td>
              </tr>`,
          )}
        </table>
        ${
          data.standin &&
          html`<h2 style="margin-top:14px">Stand-in knobs</h2>
            <div class="kv">
              <div>callbacks</div>
              <div data-testid="knob-mode">${data.standin.callbackMode}</div>
              <div>start error rate</div>
              <div>${data.standin.createErrorRate}</div>
              <div>run delay</div>
              <div>${data.standin.delayMs} ms</div>
            </div>`
        }
      </div>
      <div class="panel" style="grid-column: 1 / -1">
        <h2>Functions</h2>
        <table>
          <tr>
            <th>function</th>
            <th>instances (busy / running / max)</th>
            <th>invocations</th>
            <th>peak RSS</th>
            <th>last invocations</th>
          </tr>
          ${data.functions.map(
            (f) =>
              html`<tr>
                <td><b>${f.name}</b></td>
                <td>${f.busy} / ${f.running} / ${f.max}</td>
                <td>${f.invocations}</td>
                <td>${f.peakRssMb ? `${f.peakRssMb} MB` : '—'}</td>
                <td>
                  ${f.last.length === 0 && html`<span class="muted">none yet</span>`}
                  ${f.last.map(
                    (i) =>
                      html`<div class="mono">
                        ${fmtTime(i.startedAt)} ${i.source} ${i.durationMs ?? '…'} ms
                        <${Badge} cls=${i.ok === false ? 'bad' : i.ok ? 'ok' : ''}
                          >${i.ok === null ? 'running' : i.ok ? 'ok' : i.code}<//
                        >
                        <span class="muted"> r${i.reads} w${i.writes}</span>
                      </div>`,
                  )}
                </td>
              </tr>`,
          )}
        </table>
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Tasks and a task's timeline

const STATUSES = ['', 'pending', 'processing', 'completed', 'failed', 'timeout', 'cancelled'];
const PLATFORMS = ['', 'douyin', 'kuaishou', 'xiaohongshu', 'bilibili'];

function Tasks() {
  const [filter, setFilter] = useState({ user: '', status: '', platform: '' });
  const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
  const { data, error } = useData(`/tasks${qs ? `?${qs}` : ''}`, ['tasks']);
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value });
  return html`
    <div class="panel">
      <h2>Tasks <span class="muted">(every user, newest first)</span></h2>
      <div class="filters">
        <input
          placeholder="user (openid)"
          value=${filter.user}
          onInput=${set('user')}
          data-testid="filter-user"
        />
        <select value=${filter.status} onChange=${set('status')} data-testid="filter-status">
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'any status'}</option>`)}
        </select>
        <select value=${filter.platform} onChange=${set('platform')}>
          ${PLATFORMS.map((s) => html`<option value=${s}>${s || 'any platform'}</option>`)}
        </select>
      </div>
      <${Err} error=${error} />
      <table data-testid="tasks">
        <tr>
          <th>created</th>
          <th>task</th>
          <th>user</th>
          <th>platform</th>
          <th>status</th>
          <th>progress</th>
          <th>notice</th>
          <th>title / error</th>
        </tr>
        ${(data || []).map(
          (t) =>
            html`<tr
              class="click"
              data-testid="task-row"
              data-task=${t._id}
              data-status=${t.status}
              onClick=${() => (location.hash = `task/${t._id}`)}
            >
              <td>${fmtTime(t.created_at)}</td>
              <td class="mono">${short(t._id)}</td>
              <td class="mono">${t._openid}</td>
              <td>${t.platform}</td>
              <td><${Badge} cls=${`s-${t.status}`}>${t.status}<//></td>
              <td>${t.progress}%</td>
              <td>${t.notification_state}</td>
              <td>${(t.result && t.result.title) || t.error_message || ''}</td>
            </tr>`,
        )}
      </table>
      ${data && data.length === 0 && html`<p class="muted">No task yet: submit one under “Drive it”.</p>`}
    </div>
  `;
}

function TaskDetail({ id }) {
  const { data, error } = useData(`/tasks/${id}`, ['tasks', 'log']);
  if (!data) return html`<${Err} error=${error || null} />`;
  const t = data.task;
  return html`
    <div data-testid="task-detail" data-status=${t.status}>
      <p><a href="#tasks">← all tasks</a></p>
      <div class="grid">
        <div class="panel">
          <h2>Task <span class="mono">${t._id}</span></h2>
          <div class="kv">
            <div>user</div>
            <div class="mono">${t._openid}</div>
            <div>status</div>
            <div><${Badge} cls=${`s-${t.status}`}>${t.status}<//> ${t.progress}%</div>
            <div>link</div>
            <div class="mono">${t.input_url}</div>
            <div>execute id</div>
            <div class="mono">${t.coze_execute_id || '—'}</div>
            <div>retries</div>
            <div>${t.retry_count}</div>
            <div>notice</div>
            <div>${t.notification_state} (${t.notification_attempts} attempts)</div>
            ${
              t.error_code &&
              html`<div>error</div>
                <div>${t.error_code}: ${t.error_message}</div>`
            }
            ${
              t.result &&
              html`<div>title</div>
                <div>${t.result.title}</div>`
            }
          </div>
        </div>
        <div class="panel" data-testid="task-cost">
          <h2>What it cost</h2>
          <div class="kv">
            <div>function invocations</div>
            <div data-testid="cost-invocations">${data.cost.invocationCount}</div>
            <div>database reads</div>
            <div data-testid="cost-reads">${data.cost.reads}</div>
            <div>database writes</div>
            <div data-testid="cost-writes">${data.cost.writes}</div>
          </div>
          <table style="margin-top:8px">
            <tr>
              <th>invocation</th>
              <th>function</th>
              <th>source</th>
              <th>ms</th>
              <th>reads</th>
              <th>writes</th>
            </tr>
            ${data.cost.invocations.map(
              (i) =>
                html`<tr>
                  <td class="mono">${short(i.invocationId)}</td>
                  <td>${i.fn}${i.sharedWithOtherTasks ? ' (shared)' : ''}</td>
                  <td>${i.source}</td>
                  <td>${i.durationMs ?? '…'}</td>
                  <td>${i.reads}</td>
                  <td>${i.writes}</td>
                </tr>`,
            )}
          </table>
        </div>
      </div>
      <div class="panel">
        <h2>Timeline <span class="muted">(times relative to the submit)</span></h2>
        <ul class="timeline" data-testid="timeline">
          ${data.entries.map(
            (e) =>
              html`<li class=${e.level} data-kind=${e.kind}>
                <span class="rel">${fmtRel(e.rel)}</span>
                <span><${Badge} cls=${`kind k-${e.kind}`}>${e.kind}<//></span>
                <span>
                  <div class="title">${e.title}</div>
                  <div class="detail">
                    ${e.detail}${e.fn ? ` · ${e.fn}` : ''}${e.invocationId ? ` #${short(e.invocationId)}` : ''}
                  </div>
                </span>
              </li>`,
          )}
        </ul>
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Requests monitor

function describeRequest(e) {
  if (e.type === 'db') return [`${e.action.replace('database.', '')}`, e.collection, e.op, e.code];
  if (e.type === 'message') return [e.api, e.touser, 'send', String(e.errcode)];
  if (e.type === 'invocation.started') return ['invoke', e.fn, e.source, 'started'];
  return ['invoke', e.fn, e.source, e.ok ? 'ok' : `${e.outcome} ${e.code}`];
}

function Requests() {
  const { data } = useData('/requests', []);
  useLive(['monitor']);
  const [kind, setKind] = useState('');
  const rows = useRef([]);
  const seen = new Set(rows.current.map((r) => r.seq));
  for (const e of [...(data || []), ...streamed.monitor]) {
    if (seen.has(e.seq)) continue;
    rows.current.push(e);
    seen.add(e.seq);
  }
  rows.current.sort((a, b) => a.seq - b.seq);
  if (rows.current.length > 1500) rows.current.splice(0, rows.current.length - 1500);
  const shown = rows.current
    .filter((e) => e.type !== 'invocation.started')
    .filter(
      (e) =>
        !kind ||
        (kind === 'db'
          ? e.type === 'db'
          : kind === 'fn'
            ? e.type === 'invocation.finished'
            : e.type === 'message'),
    )
    .slice(-300)
    .reverse();
  return html`
    <div class="panel">
      <h2>Requests <span class="muted">(function invocations and database actions, live)</span></h2>
      <div class="filters">
        <select value=${kind} onChange=${(e) => setKind(e.target.value)}>
          <option value="">everything</option>
          <option value="fn">function invocations</option>
          <option value="db">database actions</option>
          <option value="msg">subscription messages</option>
        </select>
      </div>
      <table data-testid="requests">
        <tr>
          <th>time</th>
          <th>action</th>
          <th>target</th>
          <th>kind</th>
          <th>duration</th>
          <th>result</th>
          <th>invocation</th>
        </tr>
        ${shown.map((e) => {
          const [action, target, op, result] = describeRequest(e);
          const bad =
            e.type === 'db' ? e.code !== 'OK' : e.type === 'message' ? e.errcode !== 0 : !e.ok;
          return html`<tr data-testid="request-row" data-type=${e.type}>
            <td>${fmtTime(e.at)}</td>
            <td>${action}</td>
            <td>${target}</td>
            <td>${op}</td>
            <td>${e.durationMs !== undefined ? `${e.durationMs} ms` : ''}</td>
            <td>
              <${Badge} cls=${bad ? 'bad' : 'ok'}>${result}<//
              >${e.type === 'invocation.finished' ? html` <span class="muted">r${e.reads} w${e.writes}</span>` : ''}
            </td>
            <td class="mono">
              ${e.fn && e.type !== 'invocation.finished' ? `${e.fn} ` : ''}${short(e.invocationId)}
            </td>
          </tr>`;
        })}
      </table>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Notices: the outbox as WeChat shows it, the grant ledger

function Notices() {
  const { data, error } = useData('/notices', ['tasks', 'monitor']);
  const [openid, setOpenid] = useState('');
  const [flash, setFlash] = useState(null);
  const grant = async (who) => {
    try {
      const r = await call('/grants', { openid: who });
      setFlash({ ok: true, text: `granted ${who}: ${JSON.stringify(r.grants)}` });
      versions.tasks++;
    } catch (e) {
      setFlash({ ok: false, text: e.message });
    }
  };
  if (!data) return html`<${Err} error=${error} />`;
  const users = Object.keys(data.grants).sort();
  return html`
    <div class="panel">
      <h2>Grant ledger <span class="muted">(one-time grants left per user and template)</span></h2>
      <div class="filters">
        <input
          placeholder="openid"
          value=${openid}
          onInput=${(e) => setOpenid(e.target.value)}
          data-testid="grant-openid"
        />
        <button
          class="primary"
          disabled=${!openid}
          onClick=${() => grant(openid)}
          data-testid="grant"
        >
          Grant one of each template
        </button>
      </div>
      ${flash && html`<div class=${`flash ${flash.ok ? '' : 'err'}`}>${flash.text}</div>`}
      <table data-testid="grants">
        <tr>
          <th>user</th>
          ${data.templates.map(
            (t) =>
              html`<th>
                ${t.title}
                <div class="mono muted">${t.id}</div>
              </th>`,
          )}
          <th></th>
        </tr>
        ${users.map(
          (u) =>
            html`<tr>
              <td class="mono">${u}</td>
              ${data.templates.map((t) => html`<td>${data.grants[u][t.id] ?? 0}</td>`)}
              <td><button onClick=${() => grant(u)}>+1</button></td>
            </tr>`,
        )}
      </table>
    </div>
    <div class="panel">
      <h2>Outbox <span class="muted">(${data.outbox.length} sent, newest first)</span></h2>
      <div class="wxs" data-testid="outbox">
        ${data.outbox.map(
          (m) =>
            html`<div class="wx" data-testid="wx-message">
              <div class="head">
                <span class="logo"></span>短视频文案提取 · ${new Date(m.sentAt).toLocaleString()}
              </div>
              <div class="ttl">${m.title}</div>
              ${m.rows.map((r) => html`<div class="row"><span class="l">${r.label}</span><span>${r.value}</span></div>`)}
              <div class="foot">
                <span>进入小程序查看 ›</span><span class="page mono">${m.page || ''}</span>
              </div>
              <div class="row" style="padding-bottom:8px">
                <span class="l">to</span><span class="mono">${m.touser}</span>
              </div>
            </div>`,
        )}
        ${
          data.outbox.length === 0 &&
          html`<p class="muted">
            Nothing sent. A user needs a grant (tick “accept the notices” when submitting, or grant
            above).
          </p>`
        }
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Logs

function Logs() {
  const [task, setTask] = useState('');
  const [level, setLevel] = useState('');
  const qs = new URLSearchParams(Object.entries({ task, level }).filter(([, v]) => v)).toString();
  const { data } = useData(`/logs${qs ? `?${qs}` : ''}`, ['log']);
  return html`
    <div class="panel">
      <h2>Function logs <span class="muted">(JSON lines, secrets removed)</span></h2>
      <div class="filters">
        <input
          placeholder="task id"
          value=${task}
          onInput=${(e) => setTask(e.target.value.trim())}
          data-testid="log-task"
        />
        <select value=${level} onChange=${(e) => setLevel(e.target.value)} data-testid="log-level">
          <option value="">any level</option>
          <option>info</option>
          <option>warn</option>
          <option>error</option>
        </select>
      </div>
      <div class="logs" data-testid="logs">
        ${(data || [])
          .slice()
          .reverse()
          .map(
            (l) =>
              html`<div class=${l.level}>
                <span class="muted">${fmtTime(l.at)} ${l.fn}</span> ${l.line}
              </div>`,
          )}
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Drive it

const SAMPLE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

function Drive() {
  const version = useLive(['standin', 'monitor']);
  const [user, setUser] = useState('console-user');
  const [text, setText] = useState(SAMPLE);
  const [subscribe, setSubscribe] = useState(true);
  const [flash, setFlash] = useState(null);
  const [knobs, setKnobs] = useState(null);
  const [recorded, setRecorded] = useState([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call('/standin').then(setKnobs, (e) => setFlash({ ok: false, text: e.message }));
  }, [version.split('.')[0]]);
  useEffect(() => {
    call('/callbacks').then(setRecorded, () => undefined);
  }, [version]);

  const run = useCallback(async (what, fn) => {
    setBusy(true);
    try {
      const r = await fn();
      setFlash({ ok: true, text: `${what}: ${JSON.stringify(r)}` });
      return r;
    } catch (e) {
      setFlash({ ok: false, text: `${what}: ${e.message}` });
      return null;
    } finally {
      setBusy(false);
    }
  }, []);

  const setKnob = (k, v) =>
    run('stand-in', async () => {
      const now = await call('/standin', { [k]: v });
      setKnobs(now);
      return now;
    });

  return html`
    <div class="grid" data-testid="drive">
      <div class="panel">
        <h2>Submit a share text</h2>
        <div class="filters">
          <label
            >as user
            <input
              value=${user}
              onInput=${(e) => setUser(e.target.value)}
              data-testid="submit-user"
          /></label>
          <label
            ><input
              type="checkbox"
              checked=${subscribe}
              onChange=${(e) => setSubscribe(e.target.checked)}
            />
            accept the notices (grants one of each)</label
          >
        </div>
        <textarea
          rows="3"
          style="width:100%"
          value=${text}
          onInput=${(e) => setText(e.target.value)}
          data-testid="submit-text"
        ></textarea>
        <div class="filters" style="margin-top:8px">
          <button
            class="primary"
            disabled=${busy}
            data-testid="submit"
            onClick=${async () => {
              const r = await run('submit', () =>
                call('/submit', { openid: user, shareText: text, subscribe }),
              );
              if (r && r.ok && r.task) location.hash = `task/${r.task._id}`;
            }}
          >
            Submit
          </button>
          <button
            disabled=${busy}
            data-testid="sweep"
            onClick=${() => run('sweeper', () => call('/sweep', {}))}
          >
            Run the sweeper now
          </button>
        </div>
        <p class="note">
          A link whose path contains <code>fail</code> ends as a failure in the stand-in.
        </p>
        ${flash && html`<div class=${`flash mono ${flash.ok ? '' : 'err'}`} data-testid="flash">${flash.text}</div>`}
      </div>
      <div class="panel">
        <h2>Coze stand-in (applies to runs started from now on)</h2>
        ${
          knobs
            ? html`<div class="kv">
                <div>callbacks</div>
                <div>
                  <select
                    value=${knobs.callbackMode}
                    onChange=${(e) => setKnob('callbackMode', e.target.value)}
                    data-testid="knob-callbacks"
                  >
                    ${['normal', 'drop', 'duplicate', 'reorder'].map((m) => html`<option value=${m}>${m}</option>`)}
                  </select>
                </div>
                <div>start error rate</div>
                <div>
                  <input
                    type="number"
                    min="0"
                    max="1"
                    step="0.1"
                    value=${knobs.createErrorRate}
                    onChange=${(e) => setKnob('createErrorRate', Number(e.target.value))}
                    data-testid="knob-error-rate"
                  />
                </div>
                <div>run delay (ms)</div>
                <div>
                  <input
                    type="number"
                    min="0"
                    step="100"
                    value=${knobs.delayMs}
                    onChange=${(e) => setKnob('delayMs', Number(e.target.value))}
                    data-testid="knob-delay"
                  />
                </div>
              </div>`
            : html`<p class="muted">The real Coze is configured: no stand-in to drive.</p>`
        }
      </div>
      <div class="panel" style="grid-column: 1 / -1">
        <h2>
          Recorded callbacks <span class="muted">(replay re-posts the same bytes and headers)</span>
        </h2>
        <table data-testid="callbacks">
          <tr>
            <th>#</th>
            <th>posted</th>
            <th>task</th>
            <th>type</th>
            <th>webhook-id</th>
            <th>HTTP</th>
            <th></th>
          </tr>
          ${recorded.slice(0, 50).map(
            (c) =>
              html`<tr data-testid="callback-row">
                <td>
                  ${c.seq}${c.replayOf ? html` <span class="muted">(replay of #${c.replayOf})</span>` : ''}
                </td>
                <td>${fmtTime(c.at)}</td>
                <td class="mono"><a href=${`#task/${c.taskId}`}>${short(c.taskId)}</a></td>
                <td>${c.type.replace('workflow.execution.', '')} ${c.progress}%</td>
                <td class="mono">${c.webhookId}</td>
                <td>${c.httpStatus ?? '—'}</td>
                <td>
                  <button
                    disabled=${busy}
                    data-testid="replay"
                    onClick=${() => run(`replay #${c.seq}`, () => call(`/callbacks/${c.seq}/replay`, {}))}
                  >
                    Replay
                  </button>
                </td>
              </tr>`,
          )}
        </table>
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------

const TABS = [
  ['overview', 'Overview'],
  ['tasks', 'Tasks'],
  ['requests', 'Requests'],
  ['notices', 'Notices'],
  ['logs', 'Logs'],
  ['drive', 'Drive it'],
];

function App() {
  const hash = useHash();
  useLive([]);
  const taskId = hash.startsWith('task/') ? hash.slice(5) : null;
  const tab = taskId ? 'tasks' : hash;
  const views = {
    overview: Overview,
    tasks: Tasks,
    requests: Requests,
    notices: Notices,
    logs: Logs,
    drive: Drive,
  };
  const View = views[tab] || Overview;
  return html`
    <header class="top">
      <h1>短视频文案提取 · local console</h1>
      <span class=${`live ${liveState.on ? 'on' : ''}`} data-testid="live"
        >${liveState.on ? 'live' : 'connecting…'}</span
      >
    </header>
    <nav class="tabs">
      ${TABS.map(([id, label]) => html`<a href=${`#${id}`} class=${tab === id ? 'active' : ''} data-testid=${`tab-${id}`}>${label}</a>`)}
    </nav>
    <main>${taskId ? html`<${TaskDetail} id=${taskId} key=${taskId} />` : html`<${View} />`}</main>
  `;
}

connect();
const root = document.getElementById('app');
// The boot text is not preact's to diff: clear it before the first render.
root.textContent = '';
render(html`<${App} />`, root);

// Requests (invocations and database actions as they happen), notices as WeChat shows them, logs.
import { useRef, useState } from 'preact/hooks';
import {
  nudge,
  html,
  call,
  streamed,
  useLive,
  useData,
  fmtTime,
  short,
  Badge,
  Err,
  TaskLink,
} from './live.js';

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
      <div class="table-wrap">
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
      const left = Object.entries(r.grants)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ');
      setFlash({ kind: 'ok', text: `granted ${who}: ${left}` });
      nudge('tasks');
    } catch (e) {
      setFlash({ kind: 'refused', text: e.message });
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
      ${flash && html`<div class=${`flash ${flash.kind}`} data-testid="grant-flash">${flash.text}</div>`}
      <div class="table-wrap">
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
    </div>
    <div class="panel">
      <h2>Outbox <span class="muted">(${data.outbox.length} sent, newest first)</span></h2>
      <div class="wxs" data-testid="outbox">
        ${data.outbox.map(
          (m) =>
            html`<div class="wx" data-testid="wx-message">
              <div class="head">
                <span class="logo"></span>短视频文案提取 ·
                ${new Date(m.sentAt).toLocaleString([], { hour12: false })}
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

/** A field's value as text; a task id is a link to its timeline. */
function FieldValue({ name, value }) {
  if (name === 'task' && typeof value === 'string') return html`<${TaskLink} id=${value} />`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One log line: when, which function, the event in words and its fields; a plain line as it came. */
function LogLine({ l }) {
  const fields = Object.entries(l.fields);
  return html`<div class=${`log ${l.level}`} data-testid="log-line">
    <span class="when">${fmtTime(l.at)}</span>
    <span class="fn">${l.fn}</span>
    ${l.level !== 'info' && html`<${Badge} cls=${l.level === 'error' ? 'bad' : 'warnb'}>${l.level}<//>`}
    ${
      l.event
        ? html`<b class="event">${l.event}</b> ${fields.map(
              ([k, v]) =>
                html` <span class="field"
                  ><span class="k">${k}</span> <${FieldValue} name=${k} value=${v}
                /></span>`,
            )}`
        : html`<span class="plain">${l.line}</span>`
    }
  </div>`;
}

function Logs() {
  const [task, setTask] = useState('');
  const [level, setLevel] = useState('');
  const qs = new URLSearchParams(Object.entries({ task, level }).filter(([, v]) => v)).toString();
  const { data } = useData(`/logs${qs ? `?${qs}` : ''}`, ['log']);
  return html`
    <div class="panel">
      <h2>Function logs <span class="muted">(newest first, secrets removed)</span></h2>
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
          .map((l) => html`<${LogLine} l=${l} />`)}
      </div>
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Drive it

export { Requests, Notices, Logs };

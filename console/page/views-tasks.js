// Tasks of every user, and one task's timeline with what it cost.
import { useState } from 'preact/hooks';
import { html, useData, fmtTime, fmtRel, fromNow, short, Badge, Err } from './live.js';

function Tasks() {
  const [filter, setFilter] = useState({ user: '', status: '', platform: '' });
  const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
  const { data, error } = useData(`/tasks${qs ? `?${qs}` : ''}`, ['tasks']);
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value });
  const vocab = useData('/vocab', []).data;
  const statuses = ['', ...(vocab ? vocab.statuses : [])];
  const active = (status) => !!vocab && vocab.activeStatuses.includes(status);
  const platforms = ['', ...(vocab ? vocab.platforms : [])];
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
          ${statuses.map((s) => html`<option value=${s}>${s || 'any status'}</option>`)}
        </select>
        <select value=${filter.platform} onChange=${set('platform')}>
          ${platforms.map((s) => html`<option value=${s}>${s || 'any platform'}</option>`)}
        </select>
      </div>
      <${Err} error=${error} />
      <div class="table-wrap">
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
                <td>${active(t.status) ? `${t.progress}%` : ''}</td>
                <td>${t.notification_state}</td>
                <td class="wrap">
                  ${(t.result && t.result.title) || (t.error_code ? `${t.error_code}: ${t.error_message}` : '')}
                </td>
              </tr>`,
          )}
        </table>
      </div>
      ${data && data.length === 0 && html`<p class="muted">No task yet: submit one under “Drive it”.</p>`}
    </div>
  `;
}

/** How often an active task's view refetches with no event (dropped callbacks post nothing). */
const ACTIVE_REFRESH_MS = 2000;

function TaskDetail({ id }) {
  const [active, setActive] = useState(true);
  const { data, error } = useData(`/tasks/${id}`, ['tasks', 'log'], active ? ACTIVE_REFRESH_MS : 0);
  if (data && data.active !== active) setActive(data.active);
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
            <div data-testid="task-status">
              <${Badge} cls=${`s-${t.status}`}>${t.status}<//
              >${data.active ? ` ${t.progress}%` : ''}
            </div>
            <div>link</div>
            <div class="mono" data-testid="task-link-url">${t.input_url}</div>
            <div>execute id</div>
            <div class="mono">${t.coze_execute_id || '—'}</div>
            <div>starts</div>
            <div>${t.start_attempts}</div>
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
          <div class="table-wrap" style="margin-top:8px">
            <table data-testid="cost-table">
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
          ${data.next && html`<${NextLook} next=${data.next} now=${data.now} />`}
        </ul>
      </div>
    </div>
  `;
}

/** What the sweeper does next to a task nobody calls back, and when. */
function NextLook({ next, now }) {
  const at = (v) => (v ? `${fmtTime(v)} (${fromNow(v, now)})` : null);
  const when = [
    next.dueAt && `due from ${at(next.dueAt)}`,
    next.sweeperAt
      ? `the sweeper's next run: ${at(next.sweeperAt)}`
      : 'timers are off on this stack: “Run the sweeper now” under Drive it',
    next.expiresAt &&
      `${next.endsAs || 'times out'} at ${at(next.expiresAt)} if nothing settles it`,
  ].filter(Boolean);
  return html`<li class="next" data-kind="next" data-testid="next-look">
    <span class="rel">next</span>
    <span><${Badge} cls="kind k-sweep">sweep<//></span>
    <span>
      <div class="title">${next.title}</div>
      <div class="detail">${next.detail}; ${when.join('; ')}</div>
    </span>
  </li>`;
}

export { Tasks, TaskDetail };

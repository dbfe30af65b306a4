// Overview: what runs, which Coze, where the data lives, the webhook URL.
import { html, useData, fmtTime, Badge, Err } from './live.js';

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
        <div class="table-wrap">
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
                  <td class="mono nowrap">${t.cron}</td>
                  <td>
                    ${t.nextAt ? `${fmtTime(t.nextAt)} (in ${Math.max(0, Math.round((t.nextAt - data.now) / 1000))} s)` : 'off (timers disabled)'}
                  </td>
                </tr>`,
            )}
          </table>
        </div>
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
              <div>start answer</div>
              <div>${data.standin.startAnswer}</div>
              <div>QPS</div>
              <div data-testid="knob-qps-shown">
                ${data.standin.qps ? `${data.standin.qps} calls a second` : 'no limit'}
              </div>
            </div>`
        }
      </div>
      <div class="panel" style="grid-column: 1 / -1">
        <h2>Functions</h2>
        <div class="table-wrap">
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
    </div>
  `;
}

// ------------------------------------------------------------------------------------------------
// Tasks and a task's timeline

export { Overview };

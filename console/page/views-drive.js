// Drive it: submit as a user, switch the stand-in's faults, replay a callback, run the sweeper.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html, call, useData, useLive, fmtTime, short } from './live.js';

const SAMPLE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

function Drive() {
  const version = useLive(['standin', 'monitor']);
  const [user, setUser] = useState('console-user');
  const [text, setText] = useState(SAMPLE);
  const [subscribe, setSubscribe] = useState(true);
  const [flash, setFlash] = useState(null);
  const [knobs, setKnobs] = useState(null);
  const modes = useData('/vocab', []).data?.callbackModes ?? [];
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
                    ${modes.map((m) => html`<option value=${m}>${m}</option>`)}
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

export { Drive };

// Drive it: submit as a user, switch the stand-in's faults, replay a callback, run the sweeper.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html, call, useData, useLive, fmtTime, short, TaskLink } from './live.js';

const SAMPLE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

/** The sweep's dispatcher report (cloudfunctions/_pipeline/dispatcher.ts), counted in words. */
const SWEEP_WORDS = {
  started: 'started',
  maybeStarted: 'started with no answer (the run may be going)',
  refusedForRate: 'starts refused for rate (back in the queue)',
  refused: 'starts refused for good',
  restarted: 'restarted',
  queueWaitsEnded: 'gave up waiting (TOO_BUSY)',
  historyReads: 'run histories read',
  reconciled: 'settled from the run history',
  stillRunning: 'still running',
  timedOut: 'timed out',
};

// What each action's answer says, in words: `ok` (green) or `refused` (red, with the code and the
// message the product gave). A thrown error is a refusal when the console answered 4xx.
const SAYS = {
  submit: (r) =>
    r.ok
      ? { kind: 'ok', text: `task ${short(r.task._id)} created, ${r.task.status}` }
      : {
          kind: 'refused',
          code: r.error.code,
          text: `${r.error.message}${r.error.detail ? ` (${r.error.detail})` : ''}`,
        },
  standin: (r) => ({
    kind: 'ok',
    text: `callbacks ${r.callbackMode}, start error rate ${r.createErrorRate}, start answer ${r.startAnswer}, run delay ${r.delayMs} ms, ${r.qps ? `QPS ${r.qps}` : 'no QPS limit'}`,
  }),
  sweep: (r) => {
    const report = r.report || {};
    const d = report.dispatch || {};
    const counts = [
      ...Object.entries(SWEEP_WORDS).map(([k, words]) => [d[k], words]),
      ...Object.entries(report.notices || {}).map(([k, n]) => [n, `notices ${k}`]),
      [report.cleaned && report.cleaned.tasks, 'old tasks cleaned up'],
      [report.errors, 'steps failed (see Logs)'],
    ]
      .filter(([n]) => typeof n === 'number' && n > 0)
      .map(([n, words]) => `${n} ${words}`);
    if (d.dispatched === false) counts.push('another sweep held the dispatcher lease');
    else if (d.qps) counts.push(`the dispatcher ended at ${d.qps} calls/s`);
    return { kind: 'ok', text: counts.length ? counts.join(', ') : 'nothing to do' };
  },
  replay: (r) => {
    let outcome = r.answer;
    try {
      const a = JSON.parse(r.answer);
      outcome = a.outcome || (a.error && (a.error.code || a.error)) || r.answer;
    } catch {
      // not JSON: shown as it came
    }
    return {
      kind: r.httpStatus >= 200 && r.httpStatus < 300 ? 'ok' : 'refused',
      code: r.httpStatus >= 300 ? `HTTP ${r.httpStatus}` : undefined,
      text: `webhook answered HTTP ${r.httpStatus}: ${outcome}`,
    };
  },
};

/** A number field's value; an empty or unreadable one is sent as null, for the server to refuse. */
const numberIn = (e) => (e.target.value === '' ? null : Number(e.target.value));

const KNOB_IDS = { createErrorRate: 'knob-error-rate', delayMs: 'knob-delay', qps: 'knob-qps' };

/**
 * A number knob: what is typed stays while the view redraws (live events redraw it often), is sent
 * on change, and gives way to the value in force when the stand-in refused it or it changed.
 */
function NumberKnob({ name, value, set, ...attrs }) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  return html`<input
    type="number"
    ...${attrs}
    value=${text}
    onInput=${(e) => setText(e.target.value)}
    onChange=${async (e) => {
      if (!(await set(name, numberIn(e)))) setText(String(value));
    }}
    data-testid=${KNOB_IDS[name]}
  />`;
}

function Flash({ flash }) {
  const label = { ok: '', refused: 'Refused', error: 'Failed' }[flash.kind];
  return html`<div class=${`flash ${flash.kind}`} data-testid="flash" data-outcome=${flash.kind}>
    <b>${flash.what}</b>${label ? html` <span class="badge bad">${label}</span>` : ''}
    ${flash.code ? html` <code data-testid="flash-code">${flash.code}</code>` : ''} ${flash.text}
    ${flash.taskId ? html` <${TaskLink} id=${flash.taskId} />` : ''}
  </div>`;
}

function Drive() {
  const version = useLive(['standin', 'monitor']);
  const [user, setUser] = useState('console-user');
  const [text, setText] = useState(SAMPLE);
  const [subscribe, setSubscribe] = useState(true);
  const [flash, setFlash] = useState(null);
  const [knobs, setKnobs] = useState(null);
  const vocab = useData('/vocab', []).data;
  const modes = vocab?.callbackModes ?? [];
  const startAnswers = vocab?.startAnswers ?? [];
  const [recorded, setRecorded] = useState([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call('/standin').then(setKnobs, (e) =>
      setFlash({ what: 'stand-in', kind: 'error', text: e.message }),
    );
  }, [version.split('.')[0]]);
  useEffect(() => {
    call('/callbacks').then(setRecorded, () => undefined);
  }, [version]);

  const run = useCallback(async (what, says, fn) => {
    setBusy(true);
    try {
      const r = await fn();
      setFlash({ what, ...says(r) });
      return r;
    } catch (e) {
      const refused = e.status >= 400 && e.status < 500;
      setFlash({
        what,
        kind: refused ? 'refused' : 'error',
        code: e.status ? `HTTP ${e.status}` : undefined,
        text: e.message,
      });
      return null;
    } finally {
      setBusy(false);
    }
  }, []);

  const setKnob = (k, v) =>
    run('stand-in', SAYS.standin, async () => {
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
              const r = await run('submit', SAYS.submit, () =>
                call('/submit', { openid: user.trim(), shareText: text, subscribe }),
              );
              if (r && r.ok && r.task) location.hash = `task/${r.task._id}`;
            }}
          >
            Submit
          </button>
          <button
            disabled=${busy}
            data-testid="sweep"
            onClick=${() => run('sweeper', SAYS.sweep, () => call('/sweep', {}))}
          >
            Run the sweeper now
          </button>
        </div>
        <p class="note">
          A link whose path contains <code>fail</code> ends as a failure in the stand-in.
        </p>
        ${flash && html`<${Flash} flash=${flash} />`}
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
                  <${NumberKnob}
                    name="createErrorRate"
                    value=${knobs.createErrorRate}
                    set=${setKnob}
                    min="0"
                    max="1"
                    step="0.1"
                  />
                </div>
                <div>run delay (ms)</div>
                <div>
                  <${NumberKnob}
                    name="delayMs"
                    value=${knobs.delayMs}
                    set=${setKnob}
                    min="0"
                    step="100"
                  />
                </div>
                <div>start answer</div>
                <div>
                  <select
                    value=${knobs.startAnswer}
                    onChange=${(e) => setKnob('startAnswer', e.target.value)}
                    data-testid="knob-start-answer"
                  >
                    ${startAnswers.map((m) => html`<option value=${m}>${m}</option>`)}
                  </select>
                  <div class="note">
                    how a start that did start its run is answered: truncated JSON, an empty body or
                    too late all leave the run going with no answer
                  </div>
                </div>
                <div>QPS (calls a second)</div>
                <div>
                  <${NumberKnob} name="qps" value=${knobs.qps} set=${setKnob} min="0" step="1" />
                  <div class="note">
                    Coze's one rate bucket, starts and history reads together; beyond it HTTP 429 /
                    4009. 0: no limit. Watch it under <a href="#queue">Queue</a>.
                  </div>
                </div>
              </div>`
            : html`<p class="muted">The real Coze is configured: no stand-in to drive.</p>`
        }
      </div>
      <div class="panel" style="grid-column: 1 / -1">
        <h2>
          Recorded callbacks <span class="muted">(replay re-posts the same bytes and headers)</span>
        </h2>
        <div class="table-wrap">
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
                  <td><${TaskLink} id=${c.taskId} /></td>
                  <td>${c.type.replace('workflow.execution.', '')} ${c.progress}%</td>
                  <td class="mono">${c.webhookId}</td>
                  <td>${c.httpStatus ?? '—'}</td>
                  <td>
                    <button
                      disabled=${busy}
                      data-testid="replay"
                      onClick=${() =>
                        run(`replay #${c.seq}`, SAYS.replay, () =>
                          call(`/callbacks/${c.seq}/replay`, {}),
                        )}
                    >
                      Replay
                    </button>
                  </td>
                </tr>`,
            )}
          </table>
        </div>
      </div>
    </div>
  `;
}

export { Drive, Flash, SAYS };

// The local console page: preact + htm, no build step. Data comes from /_console/api/*, live nudges
// from the /_console/events stream; each view refetches what a nudge concerns (live.js).
import { render } from 'preact';
import { connect, html, liveState, useHash, useLive } from './live.js';
import { Overview } from './views-overview.js';
import { TaskDetail, Tasks } from './views-tasks.js';
import { Logs, Notices, Requests } from './views-monitor.js';
import { Drive } from './views-drive.js';
import { Queue } from './views-queue.js';

// ------------------------------------------------------------------------------------------------

const TABS = [
  ['overview', 'Overview'],
  ['tasks', 'Tasks'],
  ['queue', 'Queue'],
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
    queue: Queue,
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

/**
 * The local console: a page at `/` and a small JSON API under `/_console/`, mounted on the local
 * stack's HTTP server. It reads the stack only through its interfaces (the monitor, the read-only
 * data view, the outbox and grants, the stand-in's knobs and recorded callbacks) and drives it only
 * as a client would (function calls, grants, the sweeper's timer). Never answers a secret.
 *
 * Its parts: the log book (logbook.ts), the live stream (live-events.ts), the API table (api.ts)
 * over the read side (queries.ts), and this file, which serves the page and wires them together.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { MonitorEvent } from '../emulator';
import { QUEUE_COLLECTION, QUEUE_STATE_ID } from '../shared/queue';
import { TaskStatus } from '../shared/status';
import { answerApi } from './api';
import { TASKS, type ConsoleContext, type ConsoleState } from './context';
import { HttpError, sendFile, sendJson } from './http';
import { createLiveEvents } from './live-events';
import { createLogBook, parseLine } from './logbook';
import { QueueRecord } from './queue-record';
import { Scrubber } from './safe';

const CONSOLE_PREFIX = '/_console';
const FAVICON = '/favicon.ico';

export interface ConsoleRoute {
  prefix: string;
  exact?: boolean;
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

export interface LocalConsole {
  /** Mount these on the stack (`extraRoutes`); they answer 503 until `attach`. */
  routes: ConsoleRoute[];
  attach(ctx: ConsoleContext): void;
  close(): void;
}

const PAGE_DIR = join(__dirname, 'page');
const NODE_MODULES = join(__dirname, '..', 'node_modules');

const PAGE_MODULES = [
  'app.js',
  'live.js',
  'views-overview.js',
  'views-tasks.js',
  'views-monitor.js',
  'views-drive.js',
  'views-queue.js',
];

/** Files the page loads: the page itself and the front-end library, straight from node_modules. */
const ASSETS: Record<string, { file: string; type: string }> = {
  // The page's own modules.
  ...Object.fromEntries(
    PAGE_MODULES.map((f) => [`/${f}`, { file: join(PAGE_DIR, f), type: 'text/javascript' }]),
  ),
  '/style.css': { file: join(PAGE_DIR, 'style.css'), type: 'text/css' },
  '/favicon.svg': { file: join(PAGE_DIR, 'favicon.svg'), type: 'image/svg+xml' },
  '/vendor/preact.mjs': {
    file: join(NODE_MODULES, 'preact', 'dist', 'preact.mjs'),
    type: 'text/javascript',
  },
  '/vendor/hooks.mjs': {
    file: join(NODE_MODULES, 'preact', 'hooks', 'dist', 'hooks.mjs'),
    type: 'text/javascript',
  },
  '/vendor/htm.mjs': {
    file: join(NODE_MODULES, 'htm', 'dist', 'htm.mjs'),
    type: 'text/javascript',
  },
  // The Queue view's charts: the library the bench draws its charts with (a dev dependency,
  // loaded only by that view; without it the view shows its tables and says why).
  '/vendor/echarts.mjs': {
    file: join(NODE_MODULES, 'echarts', 'dist', 'echarts.esm.min.mjs'),
    type: 'text/javascript',
  },
};

/** Values of the settings named like a secret (`*_KEYS` are template key lists, not keys). */
function secretsOf(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k]) => /SECRET|TOKEN|KEY$/.test(k) && !/_KEYS$/.test(k))
    .map(([, v]) => v);
}

/** The queue's live nudge: at most one a second. */
const QUEUE_NUDGE_MS = 1000;

/** A start Coze refused for rate or load (it waits in the queue again), from its log line. */
function noteRefusedStart(s: ConsoleState, at: number, line: string): void {
  // Cheap test first: most lines are something else and are never parsed here.
  if (!line.includes('"start_failed"')) return;
  if (parseLine(line).fields.failure !== 'not_started') return;
  s.queue?.noteRefusedStart(at);
  s.live.nudge('queue', QUEUE_NUDGE_MS);
}

/** Every monitor event: a log line is kept for later reads; anything goes live to open pages. */
function onMonitor(s: ConsoleState, e: MonitorEvent): void {
  if (e.type === 'log') {
    noteRefusedStart(s, e.at, e.line);
    const raw = s.logs.add({
      seq: e.seq,
      at: e.at,
      fn: e.fn,
      invocationId: e.invocationId,
      line: e.line,
    });
    if (s.live.watching()) s.live.send('log', s.logs.entryOf(raw));
    return;
  }
  // Nobody watching: nothing to scrub or send (the monitor keeps the record for later reads).
  if (s.live.watching()) s.live.send('monitor', s.scrub.value(e));
}

/**
 * Task writes nudge open pages to refetch (one nudge per burst: a task has many writes); they and
 * the queue's state document also feed the queue's record, whether or not a page is open.
 */
function watchData(s: ConsoleState, c: ConsoleContext): () => void {
  let pending: NodeJS.Timeout | null = null;
  const stop = c.stack.data.onChange((change) => {
    const at = Date.now();
    if (change.collection === QUEUE_COLLECTION) {
      if (change.docId !== QUEUE_STATE_ID || !change.after) return;
      s.queue?.noteState(change.after, at);
      s.live.nudge('queue', QUEUE_NUDGE_MS);
      return;
    }
    if (change.collection !== TASKS) return;
    s.queue?.noteTask(change.before, change.after, at);
    if (change.before?.status === TaskStatus.Pending || change.after?.status === TaskStatus.Pending)
      s.live.nudge('queue', QUEUE_NUDGE_MS);
    pending ??= setTimeout(() => {
      pending = null;
      s.live.send('tasks', { at: Date.now() });
    }, 100);
  });
  return () => {
    stop();
    if (pending) clearTimeout(pending);
  };
}

/** The queue's record from now on, starting from the tasks waiting and the state as they are. */
function recordQueue(c: ConsoleContext): QueueRecord {
  const now = Date.now();
  const waiting = c.stack.data.find(
    TASKS,
    { status: TaskStatus.Pending },
    { projection: { _id: 1 } },
  ).length;
  const record = new QueueRecord(waiting, now);
  const state = c.stack.data.find(QUEUE_COLLECTION, { _id: QUEUE_STATE_ID }, { limit: 1 })[0];
  if (state) record.noteState(state, now);
  record.noteStandinQps(c.standin?.settings().qps ?? null, now);
  return record;
}

/** One request: the page, an asset, the live stream or the API; errors answer JSON, scrubbed. */
async function serve(s: ConsoleState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const p = url.pathname;
  const need = (): ConsoleContext => {
    if (!s.ctx) throw new HttpError(503, 'console not attached yet');
    return s.ctx;
  };
  try {
    if (p === '/' || p === CONSOLE_PREFIX || p === `${CONSOLE_PREFIX}/`) {
      return sendFile(res, join(PAGE_DIR, 'index.html'), 'text/html');
    }
    // Browsers ask for it whatever the page says: the same icon, not a 404 in every log.
    if (p === FAVICON) return sendFile(res, ASSETS['/favicon.svg']!.file, 'image/svg+xml');
    const rest = p.slice(CONSOLE_PREFIX.length);
    const asset = ASSETS[rest];
    if (asset && req.method === 'GET') return sendFile(res, asset.file, asset.type);
    if (rest === '/events') {
      need();
      return s.live.open(req, res);
    }
    if (rest.startsWith('/api/')) {
      const answer = await answerApi(need(), s, req, rest.slice('/api'.length), url.searchParams);
      return sendJson(res, 200, answer);
    }
    throw new HttpError(404, `not found: ${p}`);
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 500;
    const message = s.scrub.text(e instanceof Error ? e.message : String(e));
    if (!res.headersSent) sendJson(res, status, { ok: false, error: message });
    else res.end();
  }
}

export function createConsole(): LocalConsole {
  const s: ConsoleState = {
    ctx: null,
    scrub: new Scrubber([]),
    logs: createLogBook(() => s.scrub),
    live: createLiveEvents(),
    queue: null,
  };
  const unsubscribe: (() => void)[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => serve(s, req, res);
  return {
    routes: [
      { prefix: '/', exact: true, handler },
      { prefix: FAVICON, exact: true, handler },
      { prefix: CONSOLE_PREFIX, handler },
    ],
    attach(c) {
      s.ctx = c;
      s.scrub = new Scrubber(secretsOf(c.env));
      s.queue = recordQueue(c);
      unsubscribe.push(c.stack.monitor.on((e) => onMonitor(s, e)));
      unsubscribe.push(watchData(s, c));
    },
    close() {
      for (const u of unsubscribe.splice(0)) u();
      s.live.close();
    },
  };
}

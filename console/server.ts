/**
 * The local console: a page at `/` and a small JSON API under `/_console/`, mounted on the local
 * stack's HTTP server. It reads the stack only through its interfaces (the monitor, the read-only
 * data view, the outbox and grants, the stand-in's knobs and recorded callbacks) and drives it only
 * as a client would (function calls, grants, the sweeper's timer). Never answers a secret.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { LocalStack, MonitorEvent } from '../emulator';
import { PLATFORMS } from '../shared/share-text';
import { TASK_STATUSES } from '../shared/status';
import { CALLBACK_MODES, type CozeStandin, type StandinSettings } from '../standin/coze-standin';
import { Scrubber } from './safe';
import { buildTimeline, type LogEntry, type PostedCallback } from './timeline';

export const CONSOLE_PREFIX = '/_console';

export interface ConsoleContext {
  stack: LocalStack;
  standin: CozeStandin | null;
  /** The settings the functions run with: only the non-secret ones are ever shown. */
  env: Record<string, string>;
  usingRealCoze: boolean;
  dataDir: string;
  /** How the stack's templates read in WeChat: the title and the name printed before each keyword. */
  templates: readonly { id: string; title: string; labels: Record<string, string> }[];
}

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

const TASKS = 'tasks';
const MAX_LOGS = 20_000;
const PAGE_DIR = join(__dirname, 'page');
const NODE_MODULES = join(__dirname, '..', 'node_modules');

const PAGE_MODULES = [
  'app.js',
  'live.js',
  'views-overview.js',
  'views-tasks.js',
  'views-monitor.js',
  'views-drive.js',
];

/** Files the page loads: the page itself and the front-end library, straight from node_modules. */
const ASSETS: Record<string, { file: string; type: string }> = {
  // The page's own modules.
  ...Object.fromEntries(
    PAGE_MODULES.map((f) => [`/${f}`, { file: join(PAGE_DIR, f), type: 'text/javascript' }]),
  ),
  '/style.css': { file: join(PAGE_DIR, 'style.css'), type: 'text/css' },
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
};

/** Settings shown on the overview; everything else (secrets included) stays on the server. */
const SHOWN_SETTINGS = [
  'WEBHOOK_URL',
  'COZE_API_BASE',
  'COZE_WORKFLOW_ID',
  'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
  'SUBSCRIBE_TEMPLATE_FAILURE_ID',
  'MINIPROGRAM_STATE',
  'MAX_ACTIVE_TASKS_PER_USER',
  'DAILY_QUOTA_PER_USER',
  'RECONCILE_AFTER_S',
  'TASK_TIMEOUT_S',
];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      if (size > 64 * 1024) return reject(new HttpError(413, 'body over 64 KiB'));
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) resolve(v as Record<string, unknown>);
        else reject(new HttpError(400, 'body must be a JSON object'));
      } catch {
        reject(new HttpError(400, 'body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}

const ms = (v: unknown): number | null => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' || typeof v === 'number') {
    const t = new Date(v).getTime();
    return Number.isNaN(t) ? null : t;
  }
  return null;
};

interface RawLog {
  seq: number;
  at: number;
  fn: string;
  invocationId: string | null;
  line: string;
  entry?: LogEntry;
}

function parseLine(line: string): {
  level: string;
  event: string;
  fields: Record<string, unknown>;
} {
  if (line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && typeof v === 'object') {
        const { level, event, fn: _fn, ...fields } = v;
        return {
          level: typeof level === 'string' ? level : 'info',
          event: typeof event === 'string' ? event : '',
          fields,
        };
      }
    } catch {
      // not a JSON line: kept as text
    }
  }
  return { level: /error|exception/i.test(line) ? 'error' : 'info', event: '', fields: {} };
}

export function createConsole(): LocalConsole {
  let ctx: ConsoleContext | null = null;
  let scrub = new Scrubber([]);
  const logs: RawLog[] = [];
  const clients = new Set<ServerResponse>();
  const unsubscribe: (() => void)[] = [];
  let tasksChanged: NodeJS.Timeout | null = null;

  const send = (name: string, data: unknown) => {
    const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(text);
  };

  /** A log line as it came; parsed and scrubbed the first time someone looks (most never are). */
  const entryOf = (r: RawLog): LogEntry => {
    if (r.entry) return r.entry;
    const line = scrub.text(r.line);
    const parsed = parseLine(line);
    return (r.entry = {
      seq: r.seq,
      at: r.at,
      fn: r.fn,
      invocationId: r.invocationId,
      level: parsed.level,
      event: parsed.event,
      fields: scrub.value(parsed.fields) as Record<string, unknown>,
      line,
    });
  };
  const allLogs = (): LogEntry[] => logs.map(entryOf);

  function onMonitor(e: MonitorEvent): void {
    if (e.type === 'log') {
      const raw: RawLog = {
        seq: e.seq,
        at: e.at,
        fn: e.fn,
        invocationId: e.invocationId,
        line: e.line,
      };
      logs.push(raw);
      if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
      if (clients.size) send('log', entryOf(raw));
      return;
    }
    // Nobody watching: nothing to scrub or send (the monitor keeps the record for later reads).
    if (clients.size) send('monitor', scrub.value(e));
  }

  function attach(c: ConsoleContext): void {
    ctx = c;
    scrub = new Scrubber(
      Object.entries(c.env)
        .filter(([k]) => /SECRET|TOKEN|KEY$/.test(k) && !/_KEYS$/.test(k))
        .map(([, v]) => v),
    );
    unsubscribe.push(c.stack.monitor.on(onMonitor));
    unsubscribe.push(
      c.stack.data.onChange((change) => {
        if (change.collection !== TASKS) return;
        // Many writes per task: one nudge per burst is enough for the page to refetch.
        tasksChanged ??= setTimeout(() => {
          tasksChanged = null;
          send('tasks', { at: Date.now() });
        }, 100);
      }),
    );
  }

  function need(): ConsoleContext {
    if (!ctx) throw new HttpError(503, 'console not attached yet');
    return ctx;
  }

  /** Learns the callback tokens and hashes in play, so no text can carry one out. */
  function learnSecrets(c: ConsoleContext, tasks: Record<string, unknown>[]): void {
    for (const t of tasks) scrub.remember(t.callback_token_hash as string | undefined);
    for (const r of c.standin?.runs() ?? []) scrub.remember(r.callbackToken);
  }

  function tasksOf(c: ConsoleContext, q: URLSearchParams): Record<string, unknown>[] {
    const query: Record<string, unknown> = {};
    for (const [param, field] of [
      ['user', '_openid'],
      ['status', 'status'],
      ['platform', 'platform'],
    ] as const) {
      const v = q.get(param);
      if (v) query[field] = v;
    }
    const docs = c.stack.data.find(TASKS, query, { sort: { created_at: -1 }, limit: 500 });
    learnSecrets(c, docs);
    return docs;
  }

  function callbacks(c: ConsoleContext): PostedCallback[] {
    return c.standin?.recorded() ?? [];
  }

  function overview(c: ConsoleContext) {
    const { stack, env } = c;
    const stats = stack.stats();
    const instances = stack.instances();
    const invocations = stack.monitor.invocations();
    const functions = Object.keys(instances).map((name) => ({
      name,
      ...instances[name],
      invocations: stats.invocations[name] ?? 0,
      peakRssMb: stats.peakRssMb[name] ?? null,
      last: invocations
        .filter((i) => i.fn === name)
        .slice(-5)
        .reverse(),
    }));
    const settings: Record<string, string> = {};
    for (const k of SHOWN_SETTINGS) if (env[k] !== undefined) settings[k] = env[k];
    return {
      url: stack.url,
      webhookUrl: env.WEBHOOK_URL ?? `${stack.url}/webhook/coze`,
      dataDir: c.dataDir,
      coze: c.usingRealCoze
        ? { kind: 'real', baseUrl: env.COZE_API_BASE ?? '' }
        : { kind: 'stand-in', baseUrl: env.COZE_API_BASE ?? `${stack.url}/coze` },
      standin: c.standin?.settings() ?? null,
      functions,
      timers: stack.timers(),
      collections: stack.data.collections(),
      settings,
      now: Date.now(),
    };
  }

  function timeline(c: ConsoleContext, id: string) {
    const task = c.stack.data.find(TASKS, { _id: id }, { limit: 1 })[0];
    if (!task) throw new HttpError(404, `no task ${id}`);
    learnSecrets(c, [task]);
    const every = allLogs();
    const mine = every.filter((l) => l.fields.task === id);
    const posted = callbacks(c).filter((cb) => cb.taskId === id);
    const createdAt = ms(task.created_at) ?? Date.now();
    const built = buildTimeline({
      taskId: id,
      createdAt,
      noticeClaimedAt: ms(task.notification_claimed_at),
      noticeState: String(task.notification_state ?? ''),
      logs: mine,
      allLogs: every,
      invocation: (inv) => c.stack.monitor.invocation(inv),
      callbacks: posted,
    });
    return { task: scrub.value(task), createdAt, ...built };
  }

  function notices(c: ConsoleContext) {
    const { stack } = c;
    const shapes = new Map(c.templates.map((t) => [t.id, t]));
    const outbox = stack
      .outbox()
      .map((m) => {
        const shape = shapes.get(m.templateId);
        return {
          touser: m.touser,
          templateId: m.templateId,
          title: shape?.title ?? m.templateId,
          page: m.page ?? null,
          sentAt: m.sentAt,
          miniprogramState: m.miniprogramState ?? null,
          rows: Object.entries(m.data).map(([keyword, { value }]) => ({
            keyword,
            label: shape?.labels[keyword] ?? keyword,
            value,
          })),
        };
      })
      .reverse();
    return {
      outbox: scrub.value(outbox),
      grants: stack.grants(),
      templates: stack.templates().map((t) => ({ ...t, title: shapes.get(t.id)?.title ?? t.id })),
    };
  }

  async function api(c: ConsoleContext, req: IncomingMessage, path: string, q: URLSearchParams) {
    const method = (req.method ?? 'GET').toUpperCase();
    const route = `${method} ${path}`;
    if (route === 'GET /overview') return overview(c);
    // The values the page's filters and knobs offer, from the one place each is defined.
    if (route === 'GET /vocab') {
      return { statuses: TASK_STATUSES, platforms: PLATFORMS, callbackModes: CALLBACK_MODES };
    }
    if (route === 'GET /tasks') {
      return tasksOf(c, q).map((t) => {
        const safe = scrub.value(t) as Record<string, unknown>;
        // The list does not need the long texts.
        delete safe.share_text;
        if (safe.result && typeof safe.result === 'object')
          safe.result = { title: (safe.result as { title?: unknown }).title };
        return safe;
      });
    }
    const taskMatch = /^\/tasks\/([A-Za-z0-9_-]{1,64})$/.exec(path);
    if (method === 'GET' && taskMatch) return timeline(c, taskMatch[1]!);
    if (route === 'GET /requests') {
      const after = Number(q.get('after') ?? 0) || 0;
      return c.stack.monitor
        .recent(after)
        .filter((e) => e.type !== 'log')
        .slice(-500)
        .map((e) => scrub.value(e));
    }
    if (route === 'GET /notices') return notices(c);
    if (route === 'GET /logs') {
      const task = q.get('task');
      const level = q.get('level');
      return allLogs()
        .filter(
          (l) =>
            (!task || l.fields.task === task || l.line.includes(task)) &&
            (!level || l.level === level),
        )
        .slice(-1000);
    }
    if (route === 'GET /callbacks') return callbacks(c).slice().reverse();
    if (route === 'POST /grants') {
      const body = await readJson(req);
      if (typeof body.openid !== 'string' || !body.openid)
        throw new HttpError(400, 'expected {openid}');
      c.stack.grant(body.openid);
      return { ok: true, grants: c.stack.grants()[body.openid] ?? {} };
    }
    if (route === 'POST /submit') {
      const body = await readJson(req);
      const openid = typeof body.openid === 'string' ? body.openid.trim() : '';
      if (!openid || typeof body.shareText !== 'string')
        throw new HttpError(400, 'expected {openid, shareText, subscribe?}');
      const subscribe = body.subscribe === true;
      // As the page does: accepting the templates on the tap grants one message of each.
      if (subscribe) c.stack.grant(openid);
      const answer = await c.stack.invoke(
        'extractText',
        {
          action: 'create',
          shareText: body.shareText,
          subscribed: { success: subscribe, failure: subscribe },
        },
        openid,
      );
      return scrub.value(answer);
    }
    if (route === 'GET /standin') {
      if (!c.standin) throw new HttpError(409, 'the real Coze is configured: no stand-in');
      return c.standin.settings();
    }
    if (route === 'POST /standin') {
      if (!c.standin) throw new HttpError(409, 'the real Coze is configured: no stand-in');
      const body = await readJson(req);
      const patch: Partial<StandinSettings> = {};
      if (body.callbackMode !== undefined) patch.callbackMode = body.callbackMode as never;
      if (body.createErrorRate !== undefined) patch.createErrorRate = Number(body.createErrorRate);
      if (body.delayMs !== undefined) patch.delayMs = Number(body.delayMs);
      try {
        const now = c.standin.configure(patch);
        send('standin', now);
        return now;
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
    }
    const replayMatch = /^\/callbacks\/(\d+)\/replay$/.exec(path);
    if (method === 'POST' && replayMatch) {
      if (!c.standin) throw new HttpError(409, 'the real Coze is configured: no stand-in');
      try {
        return scrub.value(await c.standin.replay(Number(replayMatch[1])));
      } catch (e) {
        throw new HttpError(404, (e as Error).message);
      }
    }
    if (route === 'POST /sweep') {
      const report = await c.stack.runTimer('taskSweeper');
      return { ok: true, report: scrub.value(report) };
    }
    throw new HttpError(404, `no console API ${route}`);
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  }

  function file(res: ServerResponse, path: string, type: string): void {
    const body = readFileSync(path);
    res.writeHead(200, {
      'content-type': `${type}; charset=utf-8`,
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(body);
  }

  async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const p = url.pathname;
    try {
      if (p === '/' || p === CONSOLE_PREFIX || p === `${CONSOLE_PREFIX}/`) {
        return file(res, join(PAGE_DIR, 'index.html'), 'text/html');
      }
      const rest = p.slice(CONSOLE_PREFIX.length);
      const asset = ASSETS[rest];
      if (asset && req.method === 'GET') return file(res, asset.file, asset.type);
      if (rest === '/events') {
        need();
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`event: hello\ndata: ${JSON.stringify({ at: Date.now() })}\n\n`);
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
      if (rest.startsWith('/api/')) {
        const c = need();
        return json(res, 200, await api(c, req, rest.slice('/api'.length), url.searchParams));
      }
      throw new HttpError(404, `not found: ${p}`);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 500;
      const message = scrub.text(e instanceof Error ? e.message : String(e));
      if (!res.headersSent) json(res, status, { ok: false, error: message });
      else res.end();
    }
  }

  return {
    routes: [
      { prefix: '/', exact: true, handler },
      { prefix: CONSOLE_PREFIX, handler },
    ],
    attach,
    close() {
      for (const u of unsubscribe.splice(0)) u();
      if (tasksChanged) clearTimeout(tasksChanged);
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}

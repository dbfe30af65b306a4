/**
 * The local stack: a CloudBase emulator on one port (database + wx.openApi + functions.invokeFunction on /admin,
 * function runtime, HTTP access routes, timer triggers, subscription-message outbox, live watch, health).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { handleAdmin } from './admin';
import { isPlainObject } from './ejson';
import { type FrontDoorOptions, frontDoorRefusal, hasBody } from './front-door';
import { buildHttpEvent, writeHttpResult } from './http-access';
import { Monitor } from './monitor';
import { loadProject, type FunctionSpec } from './project';
import { createRouter, type RequestContext, type Route } from './routes';
import { FunctionRuntime, type InvokeOutcome, type InvokeRequest } from './runtime/pool';
import { STORAGE_ROUTE, StorageService } from './storage';
import { type ChangeEvent, type FindOptions, Store } from './store';
import type { Doc } from './ejson';
import { type SentMessage, SubscriptionService } from './subscribe';
import { TimerScheduler } from './timers';
import { TransactionManager } from './transaction';
import { WatchServer, type WatchPushes } from './watch';

export type { SentMessage, TemplateSpec } from './subscribe';
export type { WatchSnapshot, DocChange, WatchPushes } from './watch';
export { adminActions, AdminError, type AdminAction, type AdminContext } from './admin';
export { Monitor, dbOpKind, type MonitorEvent, type InvocationRecord } from './monitor';
export type { ChangeEvent, FindOptions } from './store';
export { DEFAULT_APPID, LOCAL_SECRET_ID, LOCAL_SECRET_KEY } from './runtime/pool';
export type { RequestContext, Route } from './routes';

export interface LocalStackOptions {
  /** 0 = random free port; default 3000. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** The persistent store lives here. */
  dataDir: string;
  /** Folder with cloudbaserc.json; functions are loaded from its functionRoot. */
  projectDir: string;
  /** Values for `{{env.X}}` in cloudbaserc.json envVariables (fallback: process.env). */
  env?: Record<string, string>;
  /** Known subscription templates. */
  templates?: { id: string; keywords: string[] }[];
  /** Run every timer trigger every N seconds instead of its cron; 0/undefined = use cron. */
  timerOverrideS?: number;
  /** Default true; tests may disable and call runTimer(). */
  timersEnabled?: boolean;
  /**
   * Extra handlers mounted under a path prefix, e.g. the Coze stand-in at '/coze'. A request body
   * must be JSON (checked and read by the router, then handed on in `req`) unless `accepts` says else.
   */
  extraRoutes?: {
    prefix: string;
    /** Only the path equal to `prefix` (e.g. '/'), not the paths under it. */
    exact?: boolean;
    /** Media types its request bodies may have (default JSON only), or 'any' to read them raw. */
    accepts?: readonly string[] | 'any';
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;
  }[];
  /**
   * Names besides loopback and the bound address that this server answers to (`Host`), e.g. the
   * machine's LAN address for a phone; `name` (any port) or `name:port`. Default: the comma-separated
   * LOCAL_STACK_ALLOWED_HOSTS.
   */
  allowedHosts?: string[];
  /** Collections created at start if missing. */
  collections?: string[];
  /** Max concurrent instances per function, default 10. */
  instancesPerFunction?: number;
  /**
   * Raises every function's timeout to at least this many seconds. For test stacks on a starved
   * machine: a verdict must never hang on how fast the machine is. The cloud's timeouts stay the
   * project's (cloudbaserc.json); leave unset to run with them.
   */
  minFunctionTimeoutS?: number;
  log?: (line: string) => void;
}

export interface LocalStack {
  url: string;
  port: number;
  /** `${url}/admin`: the server SDK's service URL. */
  adminUrl: string;
  /** The environment id functions see (TCB_ENV, getWXContext().ENV). */
  envId: string;
  dataDir: string;
  /** Same as POST /functions/<name>: resolves the return value, rejects with a FunctionCallError. */
  invoke(name: string, event: unknown, openid?: string): Promise<unknown>;
  /** Runs a function's timer trigger now (default: its first); waits for a run of that trigger in progress. */
  runTimer(name: string, trigger?: string): Promise<unknown>;
  outbox(): SentMessage[];
  grant(openid: string, templateIds?: string[]): void;
  /** Hard-kills running instances (fault tests); events in flight fail like a crashed instance. */
  killInstances(name?: string): Promise<void>;
  /**
   * `adminRequests`: calls to /admin (database, openapi) so far, e.g. to prove a refusal read nothing;
   * `watchPushes`: snapshots the live watch sent, per openid.
   */
  stats(): {
    invocations: Record<string, number>;
    peakRssMb: Record<string, number>;
    adminRequests: number;
    watchPushes: Record<string, WatchPushes>;
  };
  /** Invocations, database actions, function output, message sends, as they happen. */
  monitor: Monitor;
  /** Read-only view of the database (tools such as the console; functions go through the SDK). */
  data: {
    collections(): string[];
    find(collection: string, query?: Doc, opts?: FindOptions): Doc[];
    onChange(listener: (e: ChangeEvent) => void): () => void;
  };
  /** Subscription grants left per user and template. */
  grants(): Record<string, Record<string, number>>;
  templates(): { id: string; keywords: string[] }[];
  /** Instances per function (running / busy / max). */
  instances(): Record<string, { running: number; busy: number; max: number }>;
  /** Timer triggers and when each fires next (null when timers are off). */
  timers(): { fn: string; trigger: string; cron: string; nextAt: number | null }[];
  /** Stops server, timers and instances; flushes the store. */
  close(): Promise<void>;
}

/** A failed invocation, with the cloud's callFunction error code (e.g. -504002 error, -504003 timeout). */
export class FunctionCallError extends Error {
  constructor(
    readonly errCode: number,
    readonly errMsg: string,
  ) {
    super(`errCode: ${errCode} | errMsg: ${errMsg}`);
    this.name = 'FunctionCallError';
  }
}

export const LOCAL_ENV_ID = 'local';
/** Request bodies: the gateway's limit. */
const BODY_LIMIT = 6 * 1024 * 1024;
const ADMIN_BODY_LIMIT = 32 * 1024 * 1024;
const GRANTS_BODY_LIMIT = 64 * 1024;
const FUNCTIONS_POST_ONLY = { errCode: -501007, errMsg: 'POST only' };

/** The extra names this server answers to: the option, else LOCAL_STACK_ALLOWED_HOSTS. */
function allowedHosts(opts: LocalStackOptions): string[] {
  if (opts.allowedHosts) return opts.allowedHosts;
  const fromEnv = process.env.LOCAL_STACK_ALLOWED_HOSTS ?? '';
  return fromEnv
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

function outcomeStatus(o: Exclude<InvokeOutcome, { ok: true }>): number {
  return o.kind === 'not-found' ? 404 : 500;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '127.0.0.1';
  // A server SDK used in this process (tests, scripts) would otherwise probe metadata.tencentyun.com on init and
  // before every call to learn whether it runs in Tencent Cloud: a network access and ~30 ms per call offline.
  process.env.TENCENTCLOUD ??= 'true';
  const dataDir = path.resolve(opts.dataDir);
  const project = loadProject(path.resolve(opts.projectDir), opts.env ?? {});
  const floorS = opts.minFunctionTimeoutS;
  if (floorS !== undefined) {
    for (const f of project.functions) f.timeoutS = Math.max(f.timeoutS, floorS);
  }
  const store = Store.open(path.join(dataDir, 'db'), log);
  let subscriptions: SubscriptionService;
  let storage: StorageService;
  try {
    for (const c of opts.collections ?? []) store.create(c);
    // The project's own declared templates, then the caller's (same id: the caller's wins).
    subscriptions = new SubscriptionService(
      path.join(dataDir, 'subscribe'),
      [...project.templates, ...(opts.templates ?? [])],
      log,
    );
    storage = new StorageService(path.join(dataDir, 'storage'), LOCAL_ENV_ID, log);
  } catch (e) {
    store.close();
    throw e;
  }
  const transactions = new TransactionManager(store, log);
  const watch = new WatchServer(store, log);
  const monitor = new Monitor();
  let adminRequests = 0;
  // Created once the port is known (the children need the admin URL).
  const started: { runtime?: FunctionRuntime } = {};
  const rt = (): FunctionRuntime => {
    if (!started.runtime) throw new Error('runtime not started');
    return started.runtime;
  };

  async function admin(c: RequestContext): Promise<void> {
    const body = await c.body(ADMIN_BODY_LIMIT);
    if (!body) return c.json(413, { code: 'INVALID_PARAM', message: 'request too large' });
    const source = c.header('x-tcb-source');
    const out = await handleAdmin(body, c.header('content-type') ?? '', {
      store,
      runtime: rt(),
      subscriptions,
      transactions,
      storage,
      log,
      ...(source ? { source } : {}),
      monitor,
      seqId: c.url.searchParams.get('seqId'),
    });
    c.res.writeHead(out.status, {
      'content-type': out.contentType,
      'content-length': out.body.length,
    });
    c.res.end(out.body);
  }

  async function callFunction(c: RequestContext): Promise<void> {
    const name = decodeURIComponent(c.path.slice('/functions/'.length));
    const body = await c.body(BODY_LIMIT);
    if (!body) return c.json(413, { errCode: -501007, errMsg: 'request body too large' });
    let event: unknown = {};
    if (body.length) {
      try {
        event = JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        return c.json(400, { errCode: -501007, errMsg: 'invalid params: body must be JSON' });
      }
    }
    const request: InvokeRequest = { event, source: 'client' };
    const openid = c.header('x-wx-openid');
    const appid = c.header('x-wx-appid');
    const unionid = c.header('x-wx-unionid');
    if (openid) request.openid = openid;
    if (appid) request.appid = appid;
    if (unionid) request.unionid = unionid;
    if (c.req.socket.remoteAddress) request.clientIp = c.req.socket.remoteAddress;
    const outcome = await rt().invoke(name, request);
    if (outcome.ok) c.json(200, outcome.value);
    else c.json(outcomeStatus(outcome), { errCode: outcome.errCode, errMsg: outcome.errMsg });
  }

  function outbox(c: RequestContext): void {
    c.json(200, subscriptions.outbox());
  }

  async function grant(c: RequestContext): Promise<void> {
    // Over the limit reads as empty: refused below like any other malformed body.
    const body = await c.body(GRANTS_BODY_LIMIT);
    let parsed: unknown;
    try {
      parsed = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8')) as unknown;
    } catch {
      parsed = undefined;
    }
    const ids = isPlainObject(parsed) ? parsed.templateIds : undefined;
    if (
      !isPlainObject(parsed) ||
      typeof parsed.openid !== 'string' ||
      !parsed.openid ||
      (ids !== undefined && (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')))
    ) {
      return c.json(400, { ok: false, error: 'expected {openid: string, templateIds?: string[]}' });
    }
    try {
      const grants = subscriptions.grant(parsed.openid, ids as string[] | undefined);
      return c.json(200, { ok: true, grants });
    } catch (e) {
      return c.json(400, { ok: false, error: (e as Error).message });
    }
  }

  /** An HTTP access route: the request becomes the function's integration event. */
  const httpAccess =
    (fn: FunctionSpec & { httpPath: string }) =>
    async (c: RequestContext): Promise<void> => {
      const body = await c.body(BODY_LIMIT);
      if (!body) return c.json(413, { errCode: -501007, errMsg: 'request body too large' });
      const event = buildHttpEvent(c.req, c.url, body, fn.httpPath, LOCAL_ENV_ID);
      const outcome = await rt().invoke(fn.name, { event, source: 'http' });
      if (outcome.ok) writeHttpResult(c.res, outcome.value);
      else
        c.json(outcome.kind === 'timeout' ? 504 : 502, {
          errCode: outcome.errCode,
          errMsg: outcome.errMsg,
        });
    };

  // The routes, tried in order: the first whose method and path match answers (README.md).
  const routes: Route[] = [
    { path: '/health', handle: (c) => c.json(200, { ok: true }) },
    {
      method: 'POST',
      path: '/admin',
      // node-sdk posts JSON, and multipart for wx.openApi.
      accepts: ['application/json', 'multipart/form-data'],
      bodyLimit: ADMIN_BODY_LIMIT,
      handle: (c) => {
        adminRequests++;
        return admin(c);
      },
    },
    { path: '/admin', handle: (c) => c.json(405, { error: 'POST only' }) },
    {
      method: 'POST',
      prefix: '/functions/',
      cors: true,
      bodyLimit: BODY_LIMIT,
      handle: callFunction,
    },
    { prefix: '/functions/', cors: true, handle: (c) => c.json(405, FUNCTIONS_POST_ONLY) },
    { method: 'GET', path: '/_outbox', cors: true, handle: outbox },
    {
      method: 'POST',
      path: '/_grants',
      cors: true,
      bodyLimit: GRANTS_BODY_LIMIT,
      handle: grant,
    },
    {
      prefix: STORAGE_ROUTE,
      accepts: 'any',
      handle: (c) => storage.handleHttp(c.req, c.res, c.url),
    },
    // Mounted by the product (e.g. the Coze stand-in), longest prefix first.
    ...[...(opts.extraRoutes ?? [])]
      .sort((a, b) => b.prefix.length - a.prefix.length)
      .map((r): Route => {
        const handle = async (c: RequestContext): Promise<void> => {
          // The router has read a JSON body (c.req replays it); null means it was over the limit.
          if (r.accepts !== 'any' && hasBody(c.req) && !(await c.body(BODY_LIMIT))) {
            return c.json(413, { error: 'request body too large' });
          }
          return r.handler(c.req, c.res);
        };
        const accepts = r.accepts ? { accepts: r.accepts } : {};
        return r.exact
          ? { path: r.prefix, ...accepts, handle }
          : { prefix: r.prefix, ...accepts, handle };
      }),
    // cloudbaserc.json's HTTP access paths, longest first: raw bodies, as the cloud's gateway passes them.
    ...project.functions
      .filter((f): f is FunctionSpec & { httpPath: string } => typeof f.httpPath === 'string')
      .sort((a, b) => b.httpPath.length - a.httpPath.length)
      .map((fn): Route => ({ prefix: fn.httpPath, accepts: 'any', handle: httpAccess(fn) })),
  ];

  // Idle keep-alive connections stay open a minute, as a cloud gateway keeps them: a client's own
  // idle timeout (node-sdk's agent: 4.8 s) must end them first. With Node's default of 5 s, a timer
  // running late on a busy machine let the server close a socket the client was about to reuse.
  // The front door's port is the bound one, known once listening.
  const door: FrontDoorOptions = { host, port: 0, allowedHosts: allowedHosts(opts) };
  const server = http.createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 66_000 },
    createRouter(routes, log, door),
  );
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = frontDoorRefusal(req, door);
    if (refusal) {
      const text = JSON.stringify({ error: refusal.error });
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname === '/_watch') watch.handleUpgrade(req, socket, head, url);
    else socket.destroy();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 3000, host, () => {
        server.off('error', reject);
        const bound = server.address();
        if (typeof bound === 'object' && bound) door.port = bound.port;
        resolve();
      });
    });
  } catch (e) {
    watch.close();
    store.close();
    throw e;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 3000);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const adminUrl = `${url}/admin`;
  storage.setBaseUrl(url);
  const fnRuntime = new FunctionRuntime({
    project,
    adminUrl,
    envId: LOCAL_ENV_ID,
    maxInstances: Math.max(1, opts.instancesPerFunction ?? 10),
    buildDir: path.join(dataDir, '.build'),
    nodePaths: [
      path.join(path.resolve(opts.projectDir), 'node_modules'),
      path.resolve(__dirname, '..', 'node_modules'),
    ],
    log,
    monitor,
  });
  started.runtime = fnRuntime;

  async function call(name: string, request: InvokeRequest): Promise<unknown> {
    const outcome = await fnRuntime.invoke(name, request);
    if (outcome.ok) return outcome.value;
    throw new FunctionCallError(outcome.errCode, outcome.errMsg);
  }

  // One run per (function, trigger) at a time: scheduled fires are skipped while one runs, runTimer() queues.
  const timerRuns = new Map<string, Promise<unknown>>();
  const runKey = (fn: string, trigger: string): string => `${fn}\u0000${trigger}`;
  function runTimer(name: string, triggerName?: string): Promise<unknown> {
    const spec = fnRuntime.spec(name);
    if (!spec) return Promise.reject(new FunctionCallError(-501000, `function not found: ${name}`));
    const trigger = triggerName ?? spec.timers[0]?.name ?? 'timer';
    const key = runKey(name, trigger);
    const prev = timerRuns.get(key) ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(() =>
        call(name, {
          source: 'timer',
          event: {
            Type: 'Timer',
            TriggerName: trigger,
            Time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            Message: '',
          },
        }),
      );
    timerRuns.set(key, run);
    const clear = (): void => {
      if (timerRuns.get(key) === run) timerRuns.delete(key);
    };
    run.then(clear, clear);
    return run;
  }

  const scheduler = new TimerScheduler(
    project.functions.flatMap((f) =>
      f.timers.map((t) => ({ fn: f.name, trigger: t.name, cron: t.config })),
    ),
    opts.timerOverrideS ?? 0,
    (fn, trigger) => {
      if (timerRuns.has(runKey(fn, trigger))) {
        log(`timer ${fn}/${trigger} skipped: previous run still going`);
        return;
      }
      runTimer(fn, trigger).catch(() => undefined); // failures are logged by the runtime
    },
    log,
  );
  const timersOn = opts.timersEnabled !== false;
  if (timersOn) scheduler.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    adminUrl,
    envId: LOCAL_ENV_ID,
    dataDir,
    invoke: (name, event, openid) =>
      call(name, { event, source: 'client', ...(openid ? { openid } : {}) }),
    runTimer: (name, trigger) => runTimer(name, trigger),
    outbox: () => subscriptions.outbox(),
    grant: (openid, templateIds) => {
      subscriptions.grant(openid, templateIds);
    },
    killInstances: (name) => fnRuntime.killInstances(name),
    stats: () => ({ ...fnRuntime.stats(), adminRequests, watchPushes: watch.pushes() }),
    monitor,
    data: {
      collections: () => store.collections(),
      find: (collection, query, findOpts) =>
        store.has(collection) ? store.find(collection, query ?? {}, findOpts) : [],
      onChange: (listener) => store.onChange(listener),
    },
    grants: () => subscriptions.grantsAll(),
    templates: () => subscriptions.templateSpecs(),
    instances: () => fnRuntime.instances(),
    timers: () => scheduler.next(timersOn),
    close() {
      closing ??= (async () => {
        scheduler.stop();
        // The functions go first, while the database still answers: an instance cut off in the
        // middle fails its invocation as a whole (its caller sees the call fail, as when the cloud
        // loses an instance), instead of telling its caller the database could not be reached.
        await fnRuntime.close();
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        transactions.close();
        watch.close();
        server.closeAllConnections();
        await serverClosed;
        // Let clients in this process see their keep-alive sockets close before anyone restarts on
        // this port, and drop the global agent's idle ones to it: on a busy machine the close may not
        // have been seen yet, and the next stack's first request would go out on a dead socket.
        await new Promise((r) => setTimeout(r, 10));
        for (const [name, sockets] of Object.entries(http.globalAgent.freeSockets)) {
          if (name.startsWith(`${host}:${port}:`)) for (const s of sockets ?? []) s.destroy();
        }
        store.close();
      })();
      return closing;
    },
  };
}

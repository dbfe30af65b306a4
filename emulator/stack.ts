/**
 * `startLocalStack`: a CloudBase emulator on one port, as a set of services (service.ts) registered in
 * order, each in its own folder: the monitor, the database, WeChat (subscriptions), storage, the watch,
 * the functions' runtime, timers, the admin API, a product's extra routes, HTTP access. The steps:
 * read the project, register the services, listen (behind the front door), tell the services the URL,
 * answer the stack's API; closing stops them in reverse order.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { createAdmin } from './admin/service';
import type { Doc } from './database/ejson';
import { createDatabase, type DatabaseService } from './database/service';
import type { ChangeEvent, FindOptions } from './database/store';
import { createFunctions, type FunctionsService } from './functions/service';
import { createHttpAccess } from './http-access/service';
import { type FrontDoorOptions, frontDoorRefusal, hasBody } from './http/front-door';
import { createRouter, type RequestContext, type Route } from './http/router';
import type { Monitor } from './monitor/monitor';
import { createMonitor, type MonitorService } from './monitor/service';
import { loadProject, type ProjectSpec } from './project';
import { type EmulatorService, ServiceRegistry } from './service';
import { createStorage } from './storage/service';
import { createTimers, type TimersService } from './timers/service';
import { createWatch, type WatchService } from './watch/service';
import type { ClientReadRules, WatchLimits, WatchPushes } from './watch/watch';
import { createWechat, type WechatService } from './wechat/service';
import type { SentMessage } from './wechat/subscribe';

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
  /**
   * Hold each function's openapi calls to its config.json's `permissions.openapi` (-604101 for any
   * other), as the cloud does for a function uploaded from WeChat DevTools. Default true, or false
   * when LOCAL_STACK_OPENAPI_PERMISSIONS=off: for a project deployed only with the tcb CLI, which
   * never applies config.json (README.md).
   */
  openApiPermissions?: boolean;
  /**
   * The live watch's limits (README.md, "Watch limits"); each defaults to CloudBase's documented
   * figure, or to LOCAL_STACK_WATCH_MAX_CONNECTIONS / _MAX_PER_CLIENT / _MAX_DOCS when set.
   */
  watchLimits?: Partial<WatchLimits>;
  /**
   * Who may read each collection from the client (the live watch), as its security rule says:
   * `owner` (`doc._openid == auth.openid`, the default) or `signed-in` (`auth.openid != null`).
   */
  clientReadRules?: ClientReadRules;
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
  /** Live watch connections and watches open now. */
  watches(): { connections: number; watches: number };
  /**
   * Cuts the live watch connections of `openid` (everyone's when omitted) as a lost network would,
   * for tests of a client's fallback; answers how many were cut.
   */
  dropWatches(openid?: string): number;
  /** Stops server, timers and instances; flushes the store. */
  close(): Promise<void>;
}

export const LOCAL_ENV_ID = 'local';
/** A product route's body limit: the gateway's. */
const BODY_LIMIT = 6 * 1024 * 1024;

/** The extra names this server answers to: the option, else LOCAL_STACK_ALLOWED_HOSTS. */
function allowedHosts(opts: LocalStackOptions): string[] {
  if (opts.allowedHosts) return opts.allowedHosts;
  const fromEnv = process.env.LOCAL_STACK_ALLOWED_HOSTS ?? '';
  return fromEnv
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

/** The watch's limits: the option, else the environment, else CloudBase's documented figures. */
function watchLimits(opts: LocalStackOptions): Partial<WatchLimits> {
  const fromEnv = (name: string): number | undefined => {
    const v = process.env[name];
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got ${v}`);
    return n;
  };
  const env: Partial<WatchLimits> = {};
  const connections = fromEnv('LOCAL_STACK_WATCH_MAX_CONNECTIONS');
  const perClient = fromEnv('LOCAL_STACK_WATCH_MAX_PER_CLIENT');
  const docs = fromEnv('LOCAL_STACK_WATCH_MAX_DOCS');
  if (connections !== undefined) env.maxConnections = connections;
  if (perClient !== undefined) env.maxWatchesPerConnection = perClient;
  if (docs !== undefined) env.maxDocsPerWatch = docs;
  return { ...env, ...opts.watchLimits };
}

/** Step 1: the project as the deploy tools apply it, with the test floor on timeouts. */
function readProject(opts: LocalStackOptions): ProjectSpec {
  const project = loadProject(path.resolve(opts.projectDir), opts.env ?? {});
  const floorS = opts.minFunctionTimeoutS;
  if (floorS !== undefined) {
    for (const f of project.functions) f.timeoutS = Math.max(f.timeoutS, floorS);
  }
  return project;
}

/** A product's handlers under a path prefix, longest prefix first (the Coze stand-in, a console). */
function extraRoutes(opts: LocalStackOptions): EmulatorService {
  return {
    name: 'extra-routes',
    routes: () =>
      [...(opts.extraRoutes ?? [])]
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
  };
}

interface Services {
  registry: ServiceRegistry;
  monitor: MonitorService;
  database: DatabaseService;
  wechat: WechatService;
  watch: WatchService;
  functions: FunctionsService;
  timers: TimersService;
}

/** Step 2: every service, registered in the order their routes are tried and the reverse of closing. */
function registerServices(
  opts: LocalStackOptions,
  project: ProjectSpec,
  dataDir: string,
  log: (line: string) => void,
): Services {
  const registry = new ServiceRegistry();
  const monitor = registry.register(createMonitor());
  const database = registry.register(createDatabase(dataDir, opts.collections ?? [], log));
  try {
    // The project's own declared templates, then the caller's (same id: the caller's wins).
    const wechat = registry.register(
      createWechat(dataDir, [...project.templates, ...(opts.templates ?? [])], log),
    );
    const storage = registry.register(createStorage(dataDir, LOCAL_ENV_ID, log));
    const watch = registry.register(
      createWatch(database.store, log, watchLimits(opts), opts.clientReadRules ?? {}),
    );
    const functions = registry.register(
      createFunctions({
        project,
        projectDir: path.resolve(opts.projectDir),
        dataDir,
        envId: LOCAL_ENV_ID,
        maxInstances: Math.max(1, opts.instancesPerFunction ?? 10),
        monitor: monitor.monitor,
        log,
      }),
    );
    const timers = registry.register(
      createTimers({
        project,
        functions,
        overrideS: opts.timerOverrideS ?? 0,
        enabled: opts.timersEnabled !== false,
        log,
      }),
    );
    const openApiPermissions =
      opts.openApiPermissions ?? process.env.LOCAL_STACK_OPENAPI_PERMISSIONS !== 'off';
    registry.register(
      createAdmin({ database, functions, storage, wechat, monitor, openApiPermissions, log }),
    );
    registry.register(extraRoutes(opts));
    registry.register(createHttpAccess(project, functions, LOCAL_ENV_ID));
    return { registry, monitor, database, wechat, watch, functions, timers };
  } catch (e) {
    void registry.closeAll();
    throw e;
  }
}

/**
 * Step 3: the one server, behind the front door, listening. Idle keep-alive connections stay open a
 * minute, as a cloud gateway keeps them: a client's own idle timeout (node-sdk's agent: 4.8 s) must
 * end them first. With Node's default of 5 s, a timer running late on a busy machine let the server
 * close a socket the client was about to reuse.
 */
async function listen(
  registry: ServiceRegistry,
  door: FrontDoorOptions,
  port: number,
  log: (line: string) => void,
): Promise<http.Server> {
  const server = http.createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 66_000 },
    createRouter(registry.routes(), log, door),
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
    const upgrade = registry.upgrade(url.pathname);
    if (upgrade) upgrade.handle(req, socket, head, url);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, door.host, () => {
      server.off('error', reject);
      // The front door's port is the bound one (port 0 picks it now).
      const bound = server.address();
      if (typeof bound === 'object' && bound) door.port = bound.port;
      resolve();
    });
  });
  return server;
}

/** The server's URL; a literal IPv6 host in brackets. */
function serverUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Closing: the functions go first, while the database still answers: an instance cut off in the
 * middle fails its invocation as a whole (its caller sees the call fail, as when the cloud loses an
 * instance), instead of telling its caller the database could not be reached. Then the server (and
 * the watch's WebSockets with it), then every other service, the last registered first.
 */
async function closeStack(
  services: Services,
  server: http.Server,
  host: string,
  port: number,
): Promise<void> {
  await services.registry.close(['timers', 'functions']);
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Upgraded sockets are no longer the server's: the watch ends its own, or the close would wait.
  await services.registry.close(['watch']);
  server.closeAllConnections();
  await serverClosed;
  // Let clients in this process see their keep-alive sockets close before anyone restarts on
  // this port, and drop the global agent's idle ones to it: on a busy machine the close may not
  // have been seen yet, and the next stack's first request would go out on a dead socket.
  await new Promise((r) => setTimeout(r, 10));
  for (const [name, sockets] of Object.entries(http.globalAgent.freeSockets)) {
    if (name.startsWith(`${host}:${port}:`)) for (const s of sockets ?? []) s.destroy();
  }
  await services.registry.closeAll();
}

/** Step 5: what the stack answers to its caller (tests, scripts, a console). */
function stackApi(
  services: Services,
  info: { url: string; port: number; dataDir: string },
  close: () => Promise<void>,
): LocalStack {
  const { monitor, database, wechat, watch, functions, timers } = services;
  const { store } = database;
  const { subscriptions } = wechat;
  return {
    ...info,
    adminUrl: `${info.url}/admin`,
    envId: LOCAL_ENV_ID,
    invoke: (name, event, openid) =>
      functions.call(name, { event, source: 'client', ...(openid ? { openid } : {}) }),
    runTimer: (name, trigger) => timers.runTimer(name, trigger),
    outbox: () => subscriptions.outbox(),
    grant: (openid, templateIds) => {
      subscriptions.grant(openid, templateIds);
    },
    killInstances: (name) => functions.runtime().killInstances(name),
    stats: () => ({
      ...functions.runtime().stats(),
      adminRequests: monitor.adminRequests,
      watchPushes: watch.watch.pushes(),
    }),
    monitor: monitor.monitor,
    data: {
      collections: () => store.collections(),
      find: (collection, query, findOpts) =>
        store.has(collection) ? store.find(collection, query ?? {}, findOpts) : [],
      onChange: (listener) => store.onChange(listener),
    },
    grants: () => subscriptions.grantsAll(),
    templates: () => subscriptions.templateSpecs(),
    instances: () => functions.runtime().instances(),
    timers: () => timers.next(),
    watches: () => watch.watch.count(),
    dropWatches: (openid) => watch.watch.drop(openid),
    close,
  };
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '127.0.0.1';
  // A server SDK used in this process (tests, scripts) would otherwise probe metadata.tencentyun.com on init and
  // before every call to learn whether it runs in Tencent Cloud: a network access and ~30 ms per call offline.
  process.env.TENCENTCLOUD ??= 'true';
  const dataDir = path.resolve(opts.dataDir);
  const project = readProject(opts);
  const services = registerServices(opts, project, dataDir, log);
  const door: FrontDoorOptions = { host, port: 0, allowedHosts: allowedHosts(opts) };
  let server: http.Server;
  try {
    server = await listen(services.registry, door, opts.port ?? 3000, log);
  } catch (e) {
    await services.registry.closeAll();
    throw e;
  }
  const url = serverUrl(host, door.port);
  services.registry.listening(url);
  let closing: Promise<void> | undefined;
  return stackApi(services, { url, port: door.port, dataDir }, () => {
    closing ??= closeStack(services, server, host, door.port);
    return closing;
  });
}

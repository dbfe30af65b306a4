/**
 * The local function runtime: per function a pool of warm child processes (at most `maxInstances`), each serving
 * one event at a time with the environment the cloud runtime gives, timeouts enforced by killing the instance.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Monitor } from '../monitor/monitor';
import type { FunctionSpec, ProjectSpec } from '../project';
import { clientEvent } from './client-event';
import type { ChildMessage, ParentMessage } from './protocol';

/** Where an invocation comes from; decides the WeChat context the function sees. */
export type InvokeSource = 'client' | 'http' | 'timer' | 'function';

export interface InvokeRequest {
  event: unknown;
  source: InvokeSource;
  openid?: string;
  appid?: string;
  unionid?: string;
  clientIp?: string;
  /** For `function`: the caller's own SOURCE, which the callee's extends (`wx_client,scf`). */
  callerSource?: string;
}

export type InvokeOutcome =
  | { ok: true; value: unknown; durationMs: number }
  | {
      ok: false;
      kind: 'not-found' | 'error' | 'timeout' | 'crash' | 'closed';
      errCode: number;
      errMsg: string;
      durationMs: number;
    };

export interface RuntimeOptions {
  project: ProjectSpec;
  adminUrl: string;
  envId: string;
  maxInstances: number;
  /** Where bundles of TypeScript functions are written. */
  buildDir: string;
  /** Extra module folders for the children (so bundled TypeScript functions still find wx-server-sdk). */
  nodePaths: string[];
  log: (line: string) => void;
  /** Sees every invocation and output line; the invocation id is the TCB_SEQID the SDK sends along. */
  monitor?: Monitor;
}

/** Error codes the cloud uses for callFunction failures. */
const FUNCTION_ERRORS = {
  notFound: -501000,
  executeFail: -504002,
  timeout: -504003,
} as const;

export const DEFAULT_APPID = 'wx0000000000000000';
/** Dummy credentials: the SDK refuses to send without some, the emulator never checks them. */
export const LOCAL_SECRET_ID = 'local-secret-id';
export const LOCAL_SECRET_KEY = 'local-secret-key';

const PER_INVOCATION_KEYS = [
  'WX_CONTEXT_KEYS',
  'WX_OPENID',
  'WX_APPID',
  'WX_UNIONID',
  'WX_CLIENTIP',
  'TCB_SOURCE',
  'TCB_SEQID',
  'TRIGGER_SRC',
];
/** getWXContext().SOURCE per documented value: wx_client, wx_trigger (timer), scf (chained after the caller's). */
const SOURCE_TAG: Record<InvokeSource, string> = {
  client: 'wx_client',
  // Not a WeChat source ("其他 非微信端触发" in the docs); the cloud's exact value is unverified.
  http: 'http',
  timer: 'wx_trigger',
  function: 'scf',
};
const IDLE_REAP_MS = 10 * 60 * 1000;

let hostScriptPath: string | undefined;

/** Bundles runtime/host.ts to plain CommonJS once per process (children run without any TypeScript loader). */
function hostScript(): string {
  if (hostScriptPath && fs.existsSync(hostScriptPath)) return hostScriptPath;
  // Imported lazily: the bundler is only needed when a stack starts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'host.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node16',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]?.text ?? '';
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'cloudbase-local-stack');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `host-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  }
  hostScriptPath = file;
  return file;
}

interface Pending {
  id: number;
  resolve: (o: InvokeOutcome) => void;
  started: number;
  timer: NodeJS.Timeout;
}

class Instance {
  readonly child: ChildProcess;
  busy = true;
  alive = true;
  pending: Pending | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  idleTimer: NodeJS.Timeout | undefined;
  /** The invocation served last: output lines are attributed to it. */
  invocationId: string | null = null;

  constructor(
    readonly spec: FunctionSpec,
    file: string,
    env: Record<string, string>,
    onRss: (rss: number) => void,
    onOutput: (line: string) => void,
    onExit: (inst: Instance) => void,
  ) {
    this.child = fork(hostScript(), [], {
      execArgv: [],
      env,
      cwd: spec.dir,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onOutput(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream?.on('end', () => buf && onOutput(buf));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    // IPC failures (a send racing the child's death) surface as 'error' events: the exit handler reports them.
    this.child.on('error', (e) => onOutput(`instance error: ${e.message}`));
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (raw: unknown) => {
        const msg = raw as ChildMessage;
        if ('rss' in msg) onRss(msg.rss);
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'load-error') reject(new Error(msg.message));
        else if (msg.type === 'result') {
          // The child wrote its output before it answered, so that output is readable now too; it
          // is read in this same turn of the loop, and only after it is the instance handed on, so
          // each line is told of the invocation that wrote it.
          this.answered = msg;
          setImmediate(() => this.settleAnswered());
        }
      });
      this.child.once('exit', (code, signal) => {
        this.settleAnswered();
        this.alive = false;
        reject(
          new Error(`instance exited during cold start (${signal ?? `code ${String(code)}`})`),
        );
        if (this.pending) {
          const p = this.pending;
          this.finish({
            ok: false,
            kind: 'crash',
            errCode: FUNCTION_ERRORS.executeFail,
            errMsg: `functions execute fail: instance exited (${signal ?? `code ${String(code)}`})`,
            durationMs: Date.now() - p.started,
          });
        }
        onExit(this);
      });
    });
    // A rejected cold start is reported through invoke(); never leave it unhandled.
    this.ready.catch(() => undefined);
    this.post({ type: 'load', file, exportName: spec.exportName });
  }

  post(msg: ParentMessage): void {
    if (this.alive && this.child.connected) this.child.send(msg);
  }

  private answered: Extract<ChildMessage, { type: 'result' }> | undefined;

  private settleAnswered(): void {
    const msg = this.answered;
    this.answered = undefined;
    if (msg) this.settle(msg.id, msg);
  }

  private settle(id: number, msg: Extract<ChildMessage, { type: 'result' }>): void {
    const p = this.pending;
    if (!p || p.id !== id) return;
    const durationMs = Date.now() - p.started;
    if (msg.ok) {
      let value: unknown;
      try {
        value = JSON.parse(msg.json) as unknown;
      } catch {
        value = null;
      }
      this.finish({ ok: true, value, durationMs });
    } else {
      this.finish({
        ok: false,
        kind: 'error',
        errCode: FUNCTION_ERRORS.executeFail,
        errMsg: msg.message,
        durationMs,
      });
    }
  }

  finish(outcome: InvokeOutcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(outcome);
  }

  kill(): void {
    // Marked dead at once so the pool never hands a dying instance to the next event.
    if (this.alive) {
      this.alive = false;
      this.child.kill('SIGKILL');
    }
  }
}

interface Waiter {
  resolve: (inst: Instance) => void;
  reject: (e: Error) => void;
}

interface Pool {
  spec: FunctionSpec;
  instances: Instance[];
  waiters: Waiter[];
  file?: string;
}

export class FunctionRuntime {
  private readonly pools = new Map<string, Pool>();
  private readonly invocations: Record<string, number> = {};
  private readonly peakRss: Record<string, number> = {};
  private nextId = 1;
  private closed = false;
  /** Invocations in progress: id (the TCB_SEQID the SDK sends along) → its function. */
  private readonly running = new Map<string, FunctionSpec>();

  constructor(private readonly opts: RuntimeOptions) {
    for (const spec of opts.project.functions) {
      this.pools.set(spec.name, { spec, instances: [], waiters: [] });
      this.invocations[spec.name] = 0;
    }
  }

  has(name: string): boolean {
    return this.pools.has(name);
  }

  spec(name: string): FunctionSpec | undefined {
    return this.pools.get(name)?.spec;
  }

  /** Finds the module file; a TypeScript-only function is bundled with esbuild first. */
  private moduleFile(pool: Pool): string {
    if (pool.file) return pool.file;
    const base = path.join(pool.spec.dir, pool.spec.module);
    for (const candidate of [`${base}.js`, `${base}.cjs`, path.join(base, 'index.js')]) {
      if (fs.existsSync(candidate)) return (pool.file = candidate);
    }
    if (fs.existsSync(`${base}.ts`)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const esbuild = require('esbuild') as typeof import('esbuild');
      const outfile = path.join(this.opts.buildDir, pool.spec.name, `${pool.spec.module}.js`);
      esbuild.buildSync({
        entryPoints: [`${base}.ts`],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node16',
        external: ['wx-server-sdk'],
        logLevel: 'silent',
      });
      return (pool.file = outfile);
    }
    throw new Error(
      `function ${pool.spec.name}: no ${pool.spec.module}.js or .ts in ${pool.spec.dir}`,
    );
  }

  private childEnv(spec: FunctionSpec): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SystemRoot']) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    // Functions run in UTC in the cloud; a function may still choose its own TZ through envVariables.
    env.TZ = 'UTC';
    if (this.opts.nodePaths.length) env.NODE_PATH = this.opts.nodePaths.join(path.delimiter);
    Object.assign(env, spec.envVariables);
    Object.assign(env, {
      TENCENTCLOUD_RUNENV: 'SCF',
      TENCENTCLOUD_REGION: 'ap-shanghai',
      TENCENTCLOUD_SECRETID: LOCAL_SECRET_ID,
      TENCENTCLOUD_SECRETKEY: LOCAL_SECRET_KEY,
      // node-sdk reads the service address from here (utils/tcbcontext.js getServerInjectUrl).
      TCB_CONTEXT_CNFG: JSON.stringify({ URL: this.opts.adminUrl }),
      TCB_ENV: this.opts.envId,
      SCF_NAMESPACE: this.opts.envId,
      TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID,TCB_SOURCE',
      SCF_FUNCTIONNAME: spec.name,
      SCF_FUNCTIONVERSION: '$LATEST',
      SCF_RUNTIME: 'Nodejs20.19',
    });
    return env;
  }

  private invocationEnv(
    req: InvokeRequest,
    seqId: string,
  ): { env: Record<string, string>; unset: string[] } {
    const env: Record<string, string> = {};
    const keys: string[] = [];
    const put = (key: string, value: string | undefined): void => {
      if (value) {
        env[key] = value;
        keys.push(key);
      }
    };
    if (req.source !== 'http') {
      put('WX_OPENID', req.source === 'client' ? req.openid : undefined);
      put('WX_APPID', req.appid ?? DEFAULT_APPID);
      put('WX_UNIONID', req.source === 'client' ? req.unionid : undefined);
      put('WX_CLIENTIP', req.source === 'client' ? req.clientIp : undefined);
      env.WX_CONTEXT_KEYS = keys.join(',');
    }
    env.TCB_SOURCE =
      req.source === 'function' && req.callerSource
        ? `${req.callerSource},${SOURCE_TAG.function}`
        : SOURCE_TAG[req.source];
    env.TCB_SEQID = seqId;
    if (req.source === 'timer') env.TRIGGER_SRC = 'timer';
    return { env, unset: PER_INVOCATION_KEYS.filter((k) => !(k in env)) };
  }

  private spawn(pool: Pool): Instance {
    const file = this.moduleFile(pool);
    const name = pool.spec.name;
    const inst = new Instance(
      pool.spec,
      file,
      this.childEnv(pool.spec),
      (rss) => {
        const mb = Math.round((rss / 1048576) * 10) / 10;
        if (mb > (this.peakRss[name] ?? 0)) this.peakRss[name] = mb;
      },
      (line) => {
        this.opts.log(`[${name}] ${line}`);
        this.opts.monitor?.record({ type: 'log', fn: name, invocationId: inst.invocationId, line });
      },
      (dead) => {
        pool.instances = pool.instances.filter((i) => i !== dead);
        if (dead.idleTimer) clearTimeout(dead.idleTimer);
        this.pump(pool);
      },
    );
    pool.instances.push(inst);
    return inst;
  }

  private async acquire(pool: Pool): Promise<Instance> {
    const idle = pool.instances.find((i) => !i.busy && i.alive);
    if (idle) {
      idle.busy = true;
      if (idle.idleTimer) clearTimeout(idle.idleTimer);
      return idle;
    }
    if (pool.instances.length < this.opts.maxInstances) {
      const inst = this.spawn(pool);
      try {
        await inst.ready;
      } catch (e) {
        inst.kill();
        throw e;
      }
      return inst;
    }
    return new Promise((resolve, reject) => pool.waiters.push({ resolve, reject }));
  }

  /** Hands free capacity to queued invocations, starting new instances where one died. */
  private pump(pool: Pool): void {
    while (pool.waiters.length && !this.closed) {
      const idle = pool.instances.find((i) => !i.busy && i.alive);
      if (idle) {
        idle.busy = true;
        if (idle.idleTimer) clearTimeout(idle.idleTimer);
        pool.waiters.shift()?.resolve(idle);
        continue;
      }
      if (pool.instances.length >= this.opts.maxInstances) return;
      const waiter = pool.waiters.shift();
      if (!waiter) return;
      let inst: Instance;
      try {
        inst = this.spawn(pool);
      } catch (e) {
        waiter.reject(e as Error);
        continue;
      }
      inst.ready.then(
        () => waiter.resolve(inst),
        (e: Error) => {
          inst.kill();
          waiter.reject(e);
        },
      );
    }
  }

  private release(pool: Pool, inst: Instance): void {
    inst.busy = false;
    if (inst.alive) {
      inst.idleTimer = setTimeout(() => {
        if (!inst.busy) inst.kill();
      }, IDLE_REAP_MS);
      inst.idleTimer.unref();
    }
    this.pump(pool);
  }

  async invoke(name: string, request: InvokeRequest): Promise<InvokeOutcome> {
    const started = Date.now();
    // A call from the mini-program arrives with what the cloud adds to its event (client-event.ts).
    const req =
      request.source === 'client'
        ? {
            ...request,
            event: clientEvent(request.event, {
              appid: request.appid ?? DEFAULT_APPID,
              ...(request.openid ? { openid: request.openid } : {}),
            }),
          }
        : request;
    const pool = this.pools.get(name);
    let outcome: InvokeOutcome;
    if (!pool) {
      outcome = {
        ok: false,
        kind: 'not-found',
        errCode: FUNCTION_ERRORS.notFound,
        errMsg: `[ResourceNotFound.Function] function not found: ${name}`,
        durationMs: 0,
      };
    } else if (this.closed) {
      outcome = {
        ok: false,
        kind: 'closed',
        errCode: FUNCTION_ERRORS.executeFail,
        errMsg: 'runtime closed',
        durationMs: 0,
      };
    } else {
      this.invocations[name] = (this.invocations[name] ?? 0) + 1;
      const invocationId = randomBytes(8).toString('hex');
      const who = { invocationId, fn: name, source: req.source };
      const caller = req.openid && req.source === 'client' ? { openid: req.openid } : {};
      this.opts.monitor?.invocationStarted({ ...who, ...caller });
      this.running.set(invocationId, pool.spec);
      try {
        outcome = await this.run(pool, req, started, invocationId);
      } finally {
        this.running.delete(invocationId);
      }
      this.opts.monitor?.invocationFinished({
        ...who,
        ...caller,
        durationMs: Date.now() - started,
        runMs: outcome.durationMs,
        ok: outcome.ok,
        code: outcome.ok ? 0 : outcome.errCode,
        outcome: outcome.ok ? 'ok' : outcome.kind,
      });
    }
    const tag = outcome.ok ? 'ok' : `${outcome.kind} ${outcome.errCode}`;
    this.opts.log(`invoke ${name} (${req.source}) ${Date.now() - started}ms ${tag}`);
    if (!outcome.ok && outcome.kind === 'error') this.opts.log(`[${name}] ${outcome.errMsg}`);
    return outcome;
  }

  private async run(
    pool: Pool,
    req: InvokeRequest,
    started: number,
    invocationId: string,
  ): Promise<InvokeOutcome> {
    let inst: Instance;
    try {
      inst = await this.acquire(pool);
    } catch (e) {
      return {
        ok: false,
        kind: 'error',
        errCode: FUNCTION_ERRORS.executeFail,
        errMsg: `functions execute fail: ${(e as Error).message}`,
        durationMs: Date.now() - started,
      };
    }
    const spec = pool.spec;
    const id = this.nextId++;
    const { env, unset } = this.invocationEnv(req, invocationId);
    inst.invocationId = invocationId;
    const outcome = await new Promise<InvokeOutcome>((resolve) => {
      const timeoutMs = spec.timeoutS * 1000;
      const begun = Date.now();
      inst.pending = {
        id,
        resolve,
        started: begun,
        timer: setTimeout(() => {
          inst.finish({
            ok: false,
            kind: 'timeout',
            errCode: FUNCTION_ERRORS.timeout,
            errMsg: `Invoking task timed out after ${spec.timeoutS} seconds, please confirm your function run normally within the timeout`,
            durationMs: Date.now() - begun,
          });
          inst.kill();
        }, timeoutMs),
      };
      inst.post({
        type: 'invoke',
        id,
        event: req.event,
        env,
        unset,
        context: {
          callbackWaitsForEmptyEventLoop: false,
          memory_limit_in_mb: 256,
          time_limit_in_ms: timeoutMs,
          request_id: randomUUID(),
          function_name: spec.name,
          function_version: '$LATEST',
          namespace: this.opts.envId,
          environment: JSON.stringify({
            ...env,
            TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID,TCB_SOURCE',
            TCB_ENV: this.opts.envId,
          }),
        },
      });
    });
    this.release(pool, inst);
    return outcome;
  }

  /**
   * The function whose invocation sent an admin request with this `seqId`: node-sdk sends TCB_SEQID
   * (plus `-<suffix>`), tcb-admin-node TCB_SEQID followed by a timestamp.
   */
  callerOf(seqId: string | null | undefined): FunctionSpec | undefined {
    const id = /^[0-9a-f]{16}/.exec(seqId ?? '')?.[0];
    return id ? this.running.get(id) : undefined;
  }

  async killInstances(name?: string): Promise<void> {
    const victims: Instance[] = [];
    for (const pool of this.pools.values()) {
      if (name === undefined || pool.spec.name === name) victims.push(...pool.instances);
    }
    for (const v of victims) v.kill();
    await Promise.all(victims.map((v) => v.exited));
  }

  /** Instances per function: how many run, how many serve an event now. */
  instances(): Record<string, { running: number; busy: number; max: number }> {
    const out: Record<string, { running: number; busy: number; max: number }> = {};
    for (const [name, pool] of this.pools) {
      const alive = pool.instances.filter((i) => i.alive);
      out[name] = {
        running: alive.length,
        busy: alive.filter((i) => i.busy).length,
        max: this.opts.maxInstances,
      };
    }
    return out;
  }

  stats(): { invocations: Record<string, number>; peakRssMb: Record<string, number> } {
    return { invocations: { ...this.invocations }, peakRssMb: { ...this.peakRss } };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pool of this.pools.values()) {
      for (const w of pool.waiters.splice(0)) w.reject(new Error('runtime closed'));
    }
    await this.killInstances();
  }
}

/**
 * Wires the adapters for one function instance, once per cold start: config validated (a bad
 * variable stops the function naming it), SDK initialised, Coze client bounded as the caller needs.
 */
import { ConfigError, loadConfig, type Config } from '../../shared/config';
import { createCozeClient, type CozeClient } from './coze';
import { initCloud, type CloudInitOverrides } from './cloud';
import { LedgerStore, QueueStore, TaskStore } from './database';
import { createLogger, type Logger } from './log';

export interface FunctionDeps {
  config: Config;
  log: Logger;
  store: TaskStore;
  ledger: LedgerStore;
  queue: QueueStore;
  coze: CozeClient;
  send(message: object): Promise<unknown>;
  openid(): string | undefined;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface DepsOptions {
  fn: string;
  /** 'start' bounds the Coze call for a user waiting on `create` (COZE_START_TIMEOUT_MS); 'background' is COZE_TIMEOUT_MS. */
  coze: 'start' | 'background';
  env?: Record<string, string | undefined>;
  cloud?: CloudInitOverrides;
  log?: (line: string) => void;
}

export function buildDeps(opts: DepsOptions): FunctionDeps {
  const config = loadConfig(opts.env ?? process.env);
  const cloud = initCloud(opts.cloud);
  const startBound = opts.coze === 'start';
  const coze = createCozeClient({
    baseUrl: config.COZE_API_BASE,
    token: config.COZE_API_TOKEN,
    workflowId: config.COZE_WORKFLOW_ID,
    timeoutMs: startBound ? config.COZE_START_TIMEOUT_MS : config.COZE_TIMEOUT_MS,
    maxAttempts: startBound ? 2 : 3,
    deadlineMs: startBound ? config.COZE_START_TIMEOUT_MS + 100 : config.COZE_TIMEOUT_MS * 2,
  });
  return {
    config,
    log: createLogger(opts.fn, opts.log),
    store: new TaskStore(cloud.db, cloud._),
    ledger: new LedgerStore(cloud.db, cloud._),
    queue: new QueueStore(cloud.db, cloud._),
    coze,
    send: cloud.sendSubscribeMessage,
    openid: cloud.openid,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/**
 * Validates and wires at cold start (module load). A bad setting is logged once at cold start and
 * again on every invocation, naming the keys (never their values), and the invocation gets null:
 * the entry answers its caller generically, so no configuration detail or stack reaches anyone.
 * The module still loads, so the platform (and a plain `require`) sees a `main` to call.
 */
export function coldStart(opts: DepsOptions): () => FunctionDeps | null {
  try {
    const deps = buildDeps(opts);
    return () => deps;
  } catch (err) {
    const sink = opts.log ?? console.error;
    const message = err instanceof Error ? err.message : String(err);
    const keys = err instanceof ConfigError ? err.keys.join(',') : undefined;
    sink(
      JSON.stringify({ level: 'error', fn: opts.fn, event: 'cold_start_failed', keys, message }),
    );
    return () => {
      sink(JSON.stringify({ level: 'error', fn: opts.fn, event: 'not_configured', keys }));
      return null;
    };
  }
}

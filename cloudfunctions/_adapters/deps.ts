/**
 * Wires the adapters for one function instance, once per cold start: the function's own settings
 * validated (a bad one stops the function naming it), the SDK initialised. The entries that call
 * Coze pass in how to build their client, so a function that never calls Coze (the webhook)
 * neither bundles nor builds one.
 */
import {
  ConfigError,
  loadFunctionConfig,
  type Config,
  type FunctionName,
} from '../../shared/config';
import { initCloud, type CloudInitOverrides } from './cloud';
import { LedgerStore, QueueStore, TaskStore } from './database';
import { createLogger, type Logger } from './log';

export interface FunctionDeps {
  config: Config;
  log: Logger;
  store: TaskStore;
  ledger: LedgerStore;
  queue: QueueStore;
  send(message: object): Promise<unknown>;
  openid(): string | undefined;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface DepsOptions {
  fn: FunctionName;
  env?: Record<string, string | undefined>;
  cloud?: CloudInitOverrides;
  log?: (line: string) => void;
}

/** How an entry that calls Coze builds its client from the function's settings. */
export type CozeFactory<C> = (config: Config) => C;

/** The deps, with `coze` when the entry passed a factory. */
export type DepsWith<C> = [C] extends [never] ? FunctionDeps : FunctionDeps & { coze: C };

function buildDeps<C = never>(opts: DepsOptions & { coze?: CozeFactory<C> }): DepsWith<C> {
  const config = loadFunctionConfig(opts.fn, opts.env ?? process.env);
  const cloud = initCloud(opts.cloud);
  const deps: FunctionDeps = {
    config,
    log: createLogger(opts.fn, opts.log),
    store: new TaskStore(cloud.db, cloud._),
    ledger: new LedgerStore(cloud.db, cloud._),
    queue: new QueueStore(cloud.db, cloud._),
    send: cloud.sendSubscribeMessage,
    openid: cloud.openid,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return (opts.coze ? { ...deps, coze: opts.coze(config) } : deps) as DepsWith<C>;
}

/**
 * Validates and wires at cold start (module load). A bad setting is logged once at cold start and
 * again on every invocation, naming the keys (never their values), and the invocation gets null:
 * the entry answers its caller generically, so no configuration detail or stack reaches anyone.
 * The module still loads, so the platform (and a plain `require`) sees a `main` to call.
 */
export function coldStart<C = never>(
  opts: DepsOptions & { coze?: CozeFactory<C> },
): () => DepsWith<C> | null {
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

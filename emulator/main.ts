/**
 * Generic entry of the local stack (`tsx emulator/main.ts [--project DIR]`): PORT (3000), DATA_DIR (`.data` in the
 * repo), TIMER_OVERRIDE_S. Product-specific wiring (Coze stand-in, templates, secrets) lives elsewhere and reuses
 * `runLocalStack` (its `banner` adds lines to the printed banner).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type LocalStack, type LocalStackOptions, startLocalStack } from './index';

export const REPO_ROOT = path.resolve(__dirname, '..');

export interface MainSettings {
  port: number;
  dataDir: string;
  projectDir: string;
  timerOverrideS: number;
}

export const MAIN_USAGE = `usage: tsx emulator/main.ts [--project DIR]
  --project DIR  serve the CloudBase project in DIR (its cloudbaserc.json and functions; default: this repo)
  -h, --help     this text
  environment: PORT (3000), DATA_DIR (.data), TIMER_OVERRIDE_S (run every timer every N seconds)`;

/** A flag the entry does not know, or one without its value: said by name, exit 2. */
export class UsageError extends Error {}

/** `--project DIR` and `--help`, read strictly (node:util parseArgs). */
export function parseMainArgs(argv: string[]): { projectDir?: string; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { project: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    // node:util's own message, first sentence: it names the flag.
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(message.split('. ')[0] ?? message);
  }
  const { project, help } = parsed.values;
  return { help: help ?? false, ...(project !== undefined ? { projectDir: project } : {}) };
}

/** Reads the settings from argv (`--project DIR`) and the environment. */
export function parseMainSettings(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): MainSettings {
  const args = parseMainArgs(argv);
  const projectDir = args.projectDir !== undefined ? path.resolve(args.projectDir) : REPO_ROOT;
  const port = env.PORT !== undefined && env.PORT !== '' ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const timer = env.TIMER_OVERRIDE_S ? Number(env.TIMER_OVERRIDE_S) : 0;
  if (!Number.isFinite(timer) || timer < 0)
    throw new Error(`TIMER_OVERRIDE_S must be a number of seconds, got ${env.TIMER_OVERRIDE_S}`);
  return {
    port,
    dataDir: path.resolve(env.DATA_DIR || path.join(REPO_ROOT, '.data')),
    projectDir,
    timerOverrideS: timer,
  };
}

/** The start banner; `extra` lines (e.g. "local webhook secret ...", "Coze in use ...") go before the footer. */
function bannerLines(
  stack: LocalStack,
  extra: string[] = [],
  title = 'CloudBase local stack',
): string[] {
  const ws = stack.url.replace(/^http/, 'ws');
  return [
    '',
    `  ${title}`,
    `  functions   POST ${stack.url}/functions/<name>   (header x-wx-openid: <user>)`,
    `  admin       ${stack.adminUrl}   (server SDK serviceUrl)`,
    `  watch       ${ws}/_watch?openid=<user>`,
    `  outbox      GET  ${stack.url}/_outbox    grants  POST ${stack.url}/_grants`,
    `  health      GET  ${stack.url}/health`,
    `  data dir    ${stack.dataDir}`,
    ...extra.map((l) => `  ${l}`),
    '',
    '  Ctrl-C to stop.',
    '',
  ];
}

export interface RunOptions {
  settings?: MainSettings;
  /** Adjusts the options before start (add templates, extraRoutes, env...). */
  configure?: (base: LocalStackOptions) => LocalStackOptions | Promise<LocalStackOptions>;
  /** Extra banner lines, computed once the stack runs. */
  banner?: (stack: LocalStack) => string[];
  title?: string;
  /** Called after the stack closed on a signal, before exit. */
  onStop?: () => void | Promise<void>;
}

/** Starts the stack, prints the banner, stops cleanly on Ctrl-C/SIGTERM (a second signal forces exit). */
export async function runLocalStack(run: RunOptions = {}): Promise<LocalStack> {
  const s = run.settings ?? parseMainSettings();
  const base: LocalStackOptions = {
    port: s.port,
    dataDir: s.dataDir,
    projectDir: s.projectDir,
    timerOverrideS: s.timerOverrideS,
    log: (line) => console.log(line),
  };
  const stack = await startLocalStack(run.configure ? await run.configure(base) : base);
  console.log(bannerLines(stack, run.banner?.(stack) ?? [], run.title).join('\n'));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      console.log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping…`);
    stack
      .close()
      .then(() => run.onStop?.())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e instanceof Error ? e.message : String(e));
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return stack;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  let settings: MainSettings;
  try {
    if (parseMainArgs(argv).help) {
      console.log(MAIN_USAGE);
      process.exit(0);
    }
    settings = parseMainSettings(argv);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`emulator: ${message}`);
    if (e instanceof UsageError) console.error(MAIN_USAGE);
    process.exit(e instanceof UsageError ? 2 : 1);
  }
  runLocalStack({ settings }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}

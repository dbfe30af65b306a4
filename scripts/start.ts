/**
 * `npm start`: the whole product on this machine. Prints where everything is; Ctrl-C stops it.
 * `npm start -- --project DIR` serves another CloudBase project's cloudbaserc.json and functions
 * on the same emulator, with nothing of this product in it.
 *
 * The flags and the settings are checked first, so `--help`, an unknown flag or an invalid
 * setting answer at once, before anything is built or started.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseMainSettings, runLocalStack } from '../emulator/main';
import { commandLineOrExit } from './cli';
import { REPO_ROOT, startProductStack } from './local-stack';
import { portSetting, refuseInvalidSettings } from './local-settings';

export const START_USAGE = `usage: npm start [-- --project DIR]
  --project DIR  serve another CloudBase project (its cloudbaserc.json and functions) instead
  --build        build the function bundles and the mini-program first (npm start passes it)
  -h, --help     this text
  settings: every key of .env.example from the environment (local-only defaults for the secrets);
  PORT (3000), DATA_DIR (.data), TIMER_OVERRIDE_S, COZE_STANDIN_* (see README, Configuration)`;

export const START_COMMAND = {
  name: 'npm start',
  usage: START_USAGE,
  options: { project: { type: 'string' }, build: { type: 'boolean' } },
  allowPositionals: false,
} as const;

/** What `npm start` prints once the stack is up: the console first, then every door. */
export function startBanner(o: {
  url: string;
  port: number;
  dataDir: string;
  /** the local secret to print, or null when it comes from WEBHOOK_SECRET (never printed) */
  webhookSecret: string | null | undefined;
  /** the real Coze's API base, or null for the stand-in */
  realCoze: string | null | undefined;
}): string {
  const { url } = o;
  return [
    '',
    '  短视频文案提取 · local stack',
    `  console        ${url}/   (open it in a browser: tasks, requests, outbox, logs, drive it)`,
    `  functions      POST ${url}/functions/<name>   (header x-wx-openid: <user>)`,
    `  webhook        POST ${url}/webhook/coze`,
    `  admin (SDK)    ${url}/admin`,
    `  watch          ws://127.0.0.1:${o.port}/_watch?openid=<user>`,
    `  outbox         GET  ${url}/_outbox      grants  POST ${url}/_grants`,
    `  health         GET  ${url}/health`,
    `  data dir       ${o.dataDir}`,
    o.webhookSecret
      ? `  webhook secret ${o.webhookSecret}   (local only; set WEBHOOK_SECRET to change)`
      : '  webhook secret from WEBHOOK_SECRET (not printed)',
    o.realCoze
      ? `  Coze           REAL Coze at ${o.realCoze} (callbacks cannot reach 127.0.0.1: the sweeper finishes tasks from run history)`
      : `  Coze           stand-in at ${url}/coze (results are simulated; set COZE_API_TOKEN and COZE_WORKFLOW_ID for the real one)`,
    '',
    '  Ctrl-C to stop.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = commandLineOrExit(START_COMMAND);
  if (values.project !== undefined) {
    await runLocalStack({ settings: parseMainSettings(['--project', values.project]) });
    return;
  }
  refuseInvalidSettings(START_COMMAND.name, process.env);
  if (values.build) {
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  }
  const port = portSetting(process.env) ?? 3000;
  const dataDir = process.env.DATA_DIR ?? join(REPO_ROOT, '.data');
  const product = await startProductStack({
    port,
    dataDir,
    inheritEnv: true,
    log: (line) => console.log(line),
  });
  console.log(
    startBanner({
      url: product.url,
      port: product.port,
      dataDir,
      webhookSecret: process.env.WEBHOOK_SECRET ? null : product.env.WEBHOOK_SECRET,
      realCoze: product.usingRealCoze ? product.env.COZE_API_BASE : null,
    }),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    await product.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

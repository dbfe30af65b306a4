/**
 * `npm start`: the whole product on this machine. Prints where everything is; Ctrl-C stops it.
 * `npm start -- --project DIR` serves another CloudBase project's cloudbaserc.json and functions
 * on the same emulator, with nothing of this product in it.
 */
import { join } from 'node:path';
import { parseMainSettings, runLocalStack } from '../emulator/main';
import { REPO_ROOT, startProductStack } from './local-stack';

async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--project' || a.startsWith('--project='))) {
    await runLocalStack({ settings: parseMainSettings() });
    return;
  }
  const port = Number(process.env.PORT ?? 3000);
  const dataDir = process.env.DATA_DIR ?? join(REPO_ROOT, '.data');
  const product = await startProductStack({
    port,
    dataDir,
    inheritEnv: true,
    log: (line) => console.log(line),
  });
  const { url, env } = product;
  const secretFromEnv = Boolean(process.env.WEBHOOK_SECRET);
  console.log(
    [
      '',
      '  短视频文案提取 · local stack',
      `  functions      POST ${url}/functions/<name>   (header x-wx-openid: <user>)`,
      `  webhook        POST ${url}/webhook/coze`,
      `  admin (SDK)    ${url}/admin`,
      `  watch          ws://127.0.0.1:${product.port}/_watch?openid=<user>`,
      `  outbox         GET  ${url}/_outbox      grants  POST ${url}/_grants`,
      `  health         GET  ${url}/health`,
      `  data dir       ${dataDir}`,
      secretFromEnv
        ? '  webhook secret from WEBHOOK_SECRET (not printed)'
        : `  webhook secret ${env.WEBHOOK_SECRET}   (local only; set WEBHOOK_SECRET to change)`,
      product.usingRealCoze
        ? `  Coze           REAL Coze at ${env.COZE_API_BASE} (callbacks cannot reach 127.0.0.1: the sweeper finishes tasks from run history)`
        : `  Coze           stand-in at ${url}/coze (results are simulated; set COZE_API_TOKEN and COZE_WORKFLOW_ID for the real one)`,
      '',
      '  Ctrl-C to stop.',
      '',
    ].join('\n'),
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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

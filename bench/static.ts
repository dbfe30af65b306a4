/**
 * Per function: the size of its deployable bundle, and how long a fresh Node process takes to
 * require it (module load plus the cold-start work its entry does: config validation, SDK init),
 * with the environment the cloud's runtime gives. Nothing is contacted: the service address is a
 * closed local port and the SDK is told it runs in Tencent Cloud (no metadata probe).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, round } from './stats';

export const FUNCTIONS_DIR = join(__dirname, '..', 'dist', 'functions');

export function functionNames(): string[] {
  return readdirSync(FUNCTIONS_DIR).filter((n) => {
    try {
      return statSync(join(FUNCTIONS_DIR, n, 'index.js')).isFile();
    } catch {
      return false;
    }
  });
}

export function bundleKb(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of functionNames()) {
    out[name] = round(statSync(join(FUNCTIONS_DIR, name, 'index.js')).size / 1024);
  }
  return out;
}

const PROBE = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
require(process.argv[1]);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms }));
process.exit(0);
`;

/**
 * Median of `runs` fresh-process requires of each bundle, and of wx-server-sdk alone (the part of
 * every cold start that the bundles cannot shrink).
 */
export function coldRequireMs(
  settings: Record<string, string>,
  runs: number,
): { functions: Record<string, number>; sdkAlone: number } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    ...settings,
    TENCENTCLOUD: 'true',
    TENCENTCLOUD_RUNENV: 'SCF',
    TENCENTCLOUD_REGION: 'ap-shanghai',
    TENCENTCLOUD_SECRETID: 'local-secret-id',
    TENCENTCLOUD_SECRETKEY: 'local-secret-key',
    TCB_CONTEXT_CNFG: JSON.stringify({ URL: 'http://127.0.0.1:9/admin' }),
    TCB_ENV: 'local',
    SCF_NAMESPACE: 'local',
  };
  const median = (file: string) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const text = execFileSync(process.execPath, ['-e', PROBE, file], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      samples.push((JSON.parse(text) as { ms: number }).ms);
    }
    return round(percentile(samples, 50));
  };
  const functions: Record<string, number> = {};
  for (const name of functionNames())
    functions[name] = median(join(FUNCTIONS_DIR, name, 'index.js'));
  return { functions, sdkAlone: median(require.resolve('wx-server-sdk')) };
}

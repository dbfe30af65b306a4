/**
 * Per function: the size of its deployable bundle, and how long a fresh Node process takes to
 * require it (module load plus the cold-start work its entry does: config validation, SDK init),
 * with the environment the cloud's runtime gives. Nothing is contacted: the service address is a
 * closed local port and the SDK is told it runs in Tencent Cloud (no metadata probe).
 *
 * The same require is also timed with the SDK out of the way, to show our code alone: once with
 * wx-server-sdk already loaded (its own load is not counted; its `init` and `database()` are), and
 * once with a stub resolved for it (nothing of the SDK runs).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, round } from './stats';

const FUNCTIONS_DIR = join(__dirname, '..', 'dist', 'functions');

function functionNames(): string[] {
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

/** How the SDK is present when the bundle is required: as in the cloud, already loaded, or a stub. */
export type SdkMode = 'real' | 'cached' | 'stub';

const PROBE = `
const { performance } = require('node:perf_hooks');
const { dirname } = require('node:path');
const file = process.argv[1];
const mode = process.argv[2];
const sdkPath = require.resolve('wx-server-sdk', { paths: [dirname(file)] });
if (mode === 'cached') require(sdkPath);
if (mode === 'stub') {
  // Any property is a callable stub, so the entry's init and database() calls run through; not
  // an ES module, so the bundle's default import is the stub itself.
  const stub = () =>
    new Proxy(function () {}, {
      get: (_t, key) =>
        key === 'then' || key === '__esModule' || typeof key === 'symbol' ? undefined : stub(),
      apply: () => stub(),
    });
  const Module = require('node:module');
  const m = new Module(sdkPath);
  m.filename = sdkPath;
  m.loaded = true;
  m.exports = stub();
  require.cache[sdkPath] = m;
}
const t0 = performance.now();
require(file);
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
): {
  functions: Record<string, number>;
  /** our code alone: the bundle's require with wx-server-sdk already loaded, then stubbed */
  oursAlone: Record<string, { sdkCached: number; sdkStubbed: number }>;
  sdkAlone: number;
} {
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
  const median = (file: string, mode: SdkMode = 'real') => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const text = execFileSync(process.execPath, ['-e', PROBE, file, mode], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      samples.push((JSON.parse(text) as { ms: number }).ms);
    }
    return round(percentile(samples, 50));
  };
  const functions: Record<string, number> = {};
  const oursAlone: Record<string, { sdkCached: number; sdkStubbed: number }> = {};
  for (const name of functionNames()) {
    const file = join(FUNCTIONS_DIR, name, 'index.js');
    functions[name] = median(file);
    oursAlone[name] = { sdkCached: median(file, 'cached'), sdkStubbed: median(file, 'stub') };
  }
  return { functions, oursAlone, sdkAlone: median(require.resolve('wx-server-sdk')) };
}

/**
 * The product on the local stack: the CloudBase emulator running our built functions, the Coze
 * stand-in (standin/) mounted at /coze through the emulator's `extraRoutes` (the emulator itself
 * knows nothing of the product), and the local values of every setting. Used by `npm start`, the demo,
 * the benchmark and the end-to-end tests, so they all run the same thing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../emulator';
import {
  createCozeStandin,
  standinOptionsFromEnv,
  type CozeStandin,
} from '../standin/coze-standin';
import { COLLECTIONS } from '../cloudfunctions/_adapters/database';
import { createConsole } from '../console/server';

export const REPO_ROOT = join(__dirname, '..');

/** Local-only values; each can be overridden from the environment. Never used in the cloud. */
export const LOCAL_DEFAULTS = {
  WEBHOOK_SECRET: 'whsec_bG9jYWwtb25seS13ZWJob29rLXNlY3JldC0wMDAw',
  COZE_API_TOKEN: 'local-standin-token',
  COZE_WORKFLOW_ID: 'local-workflow',
  SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'local-success-template',
  SUBSCRIBE_TEMPLATE_FAILURE_ID: 'local-failure-template',
  MINIPROGRAM_STATE: 'developer',
} as const;

const SUCCESS_KEYS = 'title:thing1,status:phrase2,time:time3,note:thing4';
const FAILURE_KEYS = 'title:thing1,status:phrase2,reason:thing3,time:time4';

/** A template as the local stack declares it: what WeChat checks (id, keywords) and shows (names). */
export interface LocalTemplate {
  id: string;
  /** the template's title, the first line of the notice in 服务通知 */
  title: string;
  keywords: string[];
  /** keyword → the name WeChat prints before its value ("视频标题: …") */
  labels: Record<string, string>;
}

const SUCCESS_SHAPE = {
  title: '文案提取完成通知',
  labels: { title: '视频标题', status: '处理状态', time: '完成时间', note: '备注' },
};
const FAILURE_SHAPE = {
  title: '文案提取失败通知',
  labels: {
    title: '视频标题',
    status: '处理状态',
    reason: '失败原因',
    time: '失败时间',
    note: '备注',
  },
};

function templateOf(
  id: string,
  spec: string,
  shape: { title: string; labels: Record<string, string> },
): LocalTemplate {
  const pairs = spec.split(',').map((pair) => pair.split(':'));
  const labels: Record<string, string> = {};
  for (const [field = '', keyword = ''] of pairs) labels[keyword] = shape.labels[field] ?? field;
  return { id, title: shape.title, keywords: pairs.map((p) => p[1] ?? ''), labels };
}

/** The two templates the emulator knows, as WeChat would: id, title and keyword names. */
export function localTemplates(env: Record<string, string | undefined> = {}): LocalTemplate[] {
  return [
    templateOf(
      env.SUBSCRIBE_TEMPLATE_SUCCESS_ID ?? LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
      env.SUBSCRIBE_SUCCESS_KEYS ?? SUCCESS_KEYS,
      SUCCESS_SHAPE,
    ),
    templateOf(
      env.SUBSCRIBE_TEMPLATE_FAILURE_ID ?? LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_FAILURE_ID,
      env.SUBSCRIBE_FAILURE_KEYS ?? FAILURE_KEYS,
      FAILURE_SHAPE,
    ),
  ];
}

export interface ProductStackOptions {
  port?: number;
  host?: string;
  dataDir: string;
  /** overrides for any setting (else process.env when inheritEnv, else the local defaults) */
  env?: Record<string, string>;
  /** read settings from process.env too (npm start, demo); tests leave it off so nothing leaks in */
  inheritEnv?: boolean;
  timerOverrideS?: number;
  timersEnabled?: boolean;
  instancesPerFunction?: number;
  /** test stacks: every function's timeout raised to at least this (see startLocalStack) */
  minFunctionTimeoutS?: number;
  /** serve the console at `/` (default true) */
  console?: boolean;
  /** build dist/functions first (default: only when missing) */
  build?: boolean;
  log?: (line: string) => void;
}

export interface ProductStack {
  url: string;
  port: number;
  stack: LocalStack;
  /** null when the real Coze is configured */
  standin: CozeStandin | null;
  /** the settings the functions run with (secrets included: never print them all) */
  env: Record<string, string>;
  usingRealCoze: boolean;
  outbox(): unknown[];
  close(): Promise<void>;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function buildFunctionsIfNeeded(force = false): void {
  const built = ['extractText', 'webhookHandler', 'taskSweeper'].every((n) =>
    existsSync(join(REPO_ROOT, 'dist', 'functions', n, 'index.js')),
  );
  if (built && !force) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs'), 'functions'], {
    stdio: 'inherit',
    cwd: REPO_ROOT,
  });
}

export async function startProductStack(opts: ProductStackOptions): Promise<ProductStack> {
  buildFunctionsIfNeeded(opts.build);
  const host = opts.host ?? '127.0.0.1';
  // The port must be known before start: it is part of the webhook and Coze URLs.
  const port = opts.port && opts.port > 0 ? opts.port : await freePort(host);
  const url = `http://${host}:${port}`;
  const given = { ...(opts.inheritEnv ? pickDefined(process.env) : {}), ...opts.env };
  const { env, usingRealCoze } = productEnv(url, given);

  const standin = usingRealCoze
    ? null
    : createCozeStandin({
        ...standinOptionsFromEnv(env, {
          dataDir: join(opts.dataDir, 'coze'),
          token: env.COZE_API_TOKEN!,
          workflowId: env.COZE_WORKFLOW_ID!,
          webhookSecret: env.WEBHOOK_SECRET!,
        }),
        log: opts.log ?? (() => undefined),
      });

  const templates = localTemplates(env);

  const localConsole = opts.console === false ? null : createConsole();
  const timerOverride = opts.timerOverrideS ?? numberOrUndefined(env.TIMER_OVERRIDE_S);
  const stack = await startLocalStack({
    port,
    host,
    dataDir: opts.dataDir,
    projectDir: REPO_ROOT,
    env,
    templates,
    ...(timerOverride !== undefined ? { timerOverrideS: timerOverride } : {}),
    ...(opts.timersEnabled !== undefined ? { timersEnabled: opts.timersEnabled } : {}),
    ...(opts.instancesPerFunction !== undefined
      ? { instancesPerFunction: opts.instancesPerFunction }
      : {}),
    ...(opts.minFunctionTimeoutS !== undefined
      ? { minFunctionTimeoutS: opts.minFunctionTimeoutS }
      : {}),
    extraRoutes: [
      ...(standin ? [{ prefix: standin.prefix, handler: standin.handler }] : []),
      ...(localConsole?.routes ?? []),
    ],
    collections: [...COLLECTIONS],
    ...(opts.log ? { log: opts.log } : {}),
  });

  localConsole?.attach({ stack, standin, env, usingRealCoze, dataDir: opts.dataDir, templates });

  return {
    url: stack.url,
    port: stack.port,
    stack,
    standin,
    env,
    usingRealCoze,
    outbox: () => stack.outbox(),
    close: async () => {
      localConsole?.close();
      await standin?.close();
      await stack.close();
    },
  };
}

/** The settings the functions run with on a stack at `url`, from what was set (`given`). */
export function productEnv(
  url: string,
  given: Record<string, string>,
): { env: Record<string, string>; usingRealCoze: boolean } {
  // As the design says: with a token and a workflow id, the real Coze is used.
  const usingRealCoze = Boolean(given.COZE_API_TOKEN && given.COZE_WORKFLOW_ID);
  const env: Record<string, string> = {
    ...LOCAL_DEFAULTS,
    SUBSCRIBE_SUCCESS_KEYS: SUCCESS_KEYS,
    SUBSCRIBE_FAILURE_KEYS: FAILURE_KEYS,
    WEBHOOK_URL: `${url}/webhook/coze`,
    ...given,
    // The stand-in answers at /coze; the real Coze is api.coze.cn unless COZE_API_BASE says else.
    COZE_API_BASE: usingRealCoze ? (given.COZE_API_BASE ?? 'https://api.coze.cn') : `${url}/coze`,
  };
  return { env, usingRealCoze };
}

export function pickDefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string' && v !== '') out[k] = v;
  return out;
}

function numberOrUndefined(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

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
import { startLocalStack, type ClientReadRules, type LocalStack } from '../emulator';
import {
  createCozeStandin,
  standinOptionsFromEnv,
  type CozeStandin,
} from '../standin/coze-standin';
import { COLLECTIONS } from '../cloudfunctions/_adapters/database';
import { loadCollections } from './db-init';
import { createConsole } from '../console/server';
import { getConfig as miniprogramConfig } from '../miniprogram/config';
import { DEFAULT_TEMPLATE_KEYS } from '../shared/config';
import { parseTemplateKeys } from '../shared/notice';

export const REPO_ROOT = join(__dirname, '..');

// The local stack serves the mini-program, so its templates are the ones the mini-program asks
// the user to accept in local mode (miniprogram/config.ts): the ids are written there only.
const LOCAL_TEMPLATE_IDS = miniprogramConfig().local.templates;

/** Local-only values; each can be overridden from the environment. Never used in the cloud. */
export const LOCAL_DEFAULTS = {
  WEBHOOK_SECRET: 'whsec_bG9jYWwtb25seS13ZWJob29rLXNlY3JldC0wMDAw',
  COZE_API_TOKEN: 'local-standin-token',
  COZE_WORKFLOW_ID: 'local-workflow',
  SUBSCRIBE_TEMPLATE_SUCCESS_ID: LOCAL_TEMPLATE_IDS.success,
  SUBSCRIBE_TEMPLATE_FAILURE_ID: LOCAL_TEMPLATE_IDS.failure,
  MINIPROGRAM_STATE: 'developer',
} as const;

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

/** A template from its keyword list, read by the parser the send uses (shared/notice.ts). */
function templateOf(
  id: string,
  spec: string,
  shape: { title: string; labels: Record<string, string> },
): LocalTemplate {
  const labels: Record<string, string> = {};
  for (const [field, keyword] of Object.entries(parseTemplateKeys(spec))) {
    labels[keyword] = shape.labels[field] ?? field;
  }
  // In the template's own order: its keywords are numbered (thing1, phrase2, ...).
  const order = (keyword: string) => Number(/\d+$/.exec(keyword)?.[0] ?? 0);
  const keywords = Object.keys(labels).sort((a, b) => order(a) - order(b));
  return { id, title: shape.title, keywords, labels };
}

/** The two templates the emulator knows, as WeChat would: id, title and keyword names. */
export function localTemplates(env: Record<string, string | undefined> = {}): LocalTemplate[] {
  return [
    templateOf(
      env.SUBSCRIBE_TEMPLATE_SUCCESS_ID ?? LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
      env.SUBSCRIBE_SUCCESS_KEYS ?? DEFAULT_TEMPLATE_KEYS.success,
      SUCCESS_SHAPE,
    ),
    templateOf(
      env.SUBSCRIBE_TEMPLATE_FAILURE_ID ?? LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_FAILURE_ID,
      env.SUBSCRIBE_FAILURE_KEYS ?? DEFAULT_TEMPLATE_KEYS.failure,
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

/**
 * Who may read each collection from the client, from database/collections.json's security rules:
 * the queue's one state document is any signed-in user's to watch, the rest their owner's.
 */
export function clientReadRules(): ClientReadRules {
  const { spec } = loadCollections(REPO_ROOT);
  const rules: ClientReadRules = {};
  for (const c of spec?.collections ?? []) {
    rules[c.name] = c.rule.read === 'auth.openid != null' ? 'signed-in' : 'owner';
  }
  return rules;
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
    clientReadRules: clientReadRules(),
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
    SUBSCRIBE_SUCCESS_KEYS: DEFAULT_TEMPLATE_KEYS.success,
    SUBSCRIBE_FAILURE_KEYS: DEFAULT_TEMPLATE_KEYS.failure,
    WEBHOOK_URL: `${url}/webhook/coze`,
    ...given,
    // The stand-in answers at /coze (a local Coze: the documented override); the real Coze is
    // api.coze.cn unless COZE_API_BASE says else.
    ...(usingRealCoze
      ? { COZE_API_BASE: given.COZE_API_BASE ?? 'https://api.coze.cn' }
      : { COZE_API_BASE: `${url}/coze`, COZE_API_BASE_CUSTOM: 'true' }),
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

/**
 * `npm run deploy [-- --dry-run] [--skip-build] [--only <name,...>]`
 *
 * build → check the configuration offline → (dry run: print the plan, stop) → check the tcb login
 * → `tcb fn deploy <name> --force` per function, each with a timeout and its outcome checked →
 * check the HTTP route → print the webhook URL and what only the consoles can do.
 *
 * Facts this relies on, read in node_modules/@cloudbase/cli 2.12.10 (dist/standalone/cli.js):
 * - cloudbaserc.json is rendered as text: `JSON.stringify(config)`, then mustache with `{{env.X}}`
 *   looked up in {ENV_ID: config.envId, ...`.env`, ...`.env.local`, ...process.env}, values
 *   inserted unescaped (its `mustache.escape` returns strings as they are), then `JSON.parse` with
 *   a reviver that turns any string that parses as a JSON object/array/null into that value.
 *   A `"` or `\` in a value breaks or rewrites the JSON; an unset key becomes "".
 * - `tcb login --apiKeyId --apiKey` stores {secretId, secretKey} in ~/.config/.cloudbase/auth.json;
 *   every command that needs auth calls `checkAndGetCredential()`, which reads that file and calls
 *   the `DescribeEnvs` API (a credential that fails that call counts as no login). `tcb env list`
 *   is such a command without `autoRunLogin`: not logged in, it prints "无有效身份信息 / No valid
 *   identity information" and exits 1; logged in, it prints a table with every EnvId.
 * - `tcb fn deploy` has `autoRunLogin` (no login → it opens a browser authorisation) and, when the
 *   deploy fails, only logs "[name] 函数部署失败 / 错误信息: ..." and still exits 0.
 * - `tcb login` while a credential is valid says "您已登录" and keeps the old one.
 * - Messages are Chinese or English depending on the system locale, so both are matched.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { redactSecrets } from '../shared/errors';
import {
  CONFIG_KEYS,
  ConfigError,
  SECRET_KEYS,
  configSchema,
  loadConfig,
  type Config,
} from '../shared/config';
import { parseEnvFile, resolveEnv, type EnvSource, type ResolvedEnv } from './env-file';

export const ROOT = path.resolve(__dirname, '..');
export const RC_FILE = 'cloudbaserc.json';
export const DIST_FUNCTIONS = 'dist/functions';
export const TCB_CLI_VERSION = '2.12.10';

/** What the design fixes (docs/architecture.md): the webhook route and the timer function. */
export const ROUTE = { fn: 'webhookHandler', path: '/webhook/coze' } as const;
export const TIMER_FN = 'taskSweeper';

/** Runtimes CloudBase offers for Node (docs/platform-notes.md); 22 and 24 are beta. */
export const SUPPORTED_RUNTIMES = ['Nodejs16.13', 'Nodejs18.15', 'Nodejs20.19'] as const;
const BETA_RUNTIME = /^Nodejs2[24](\.\d+)?$/;

export const TCB_REGIONS = ['ap-shanghai', 'ap-beijing', 'ap-guangzhou', 'ap-singapore'] as const;

// ---------------------------------------------------------------------------------------------
// Issues

export interface Issue {
  level: 'error' | 'warning';
  /** The configuration key concerned, when there is one. Never a value. */
  key?: string;
  message: string;
}

const err = (message: string, key?: string): Issue => ({
  level: 'error',
  message,
  ...(key ? { key } : {}),
});
const warn = (message: string, key?: string): Issue => ({
  level: 'warning',
  message,
  ...(key ? { key } : {}),
});

export const errorsOf = (issues: Issue[]) => issues.filter((i) => i.level === 'error');

// ---------------------------------------------------------------------------------------------
// Deploy-only keys (not given to the functions)

const blank = (v: string | undefined) => v === undefined || v.trim() === '';

export const deployKeysSchema = z.object({
  ENV_ID: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9-]{2,62}[A-Za-z0-9]$/,
      'must be the CloudBase environment id (letters, digits, hyphens)',
    ),
  TCB_API_KEY_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{8,128}$/, 'must be a Tencent Cloud SecretId (letters and digits)')
    .optional(),
  TCB_API_KEY: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9+/=_-]{8,128}$/, 'must be a Tencent Cloud SecretKey')
    .optional(),
  TCB_REGION: z.enum(TCB_REGIONS, { error: `must be one of ${TCB_REGIONS.join(', ')}` }).optional(),
});
export type DeployKeys = z.infer<typeof deployKeysSchema>;
export const DEPLOY_KEYS = Object.keys(deployKeysSchema.shape) as (keyof DeployKeys)[];
/** Deploy-only secrets: never printed, redacted from tcb output. */
export const DEPLOY_SECRET_KEYS = ['TCB_API_KEY', 'TCB_API_KEY_ID'] as const;

/** Keys whose `.env.example` value is a placeholder: a real deploy refuses to ship it. */
export const SAMPLE_GUARDED_KEYS = [
  'ENV_ID',
  'COZE_API_TOKEN',
  'COZE_WORKFLOW_ID',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
  'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
  'SUBSCRIBE_TEMPLATE_FAILURE_ID',
  'TCB_API_KEY_ID',
  'TCB_API_KEY',
] as const;

/** Every key `{{env.X}}` may reference in cloudbaserc.json. */
export const TEMPLATE_KEYS: readonly string[] = ['ENV_ID', ...CONFIG_KEYS];

const CONTROL_CHARS = new RegExp(`[${String.fromCharCode(0)}-${String.fromCharCode(31)}]`);

function isRequired(key: keyof Config): boolean {
  return !configSchema.shape[key].safeParse(undefined).success;
}

function hasDefault(key: keyof Config): boolean {
  const r = configSchema.shape[key].safeParse(undefined);
  return r.success && r.data !== undefined;
}

/** The per-key problems of a ConfigError, as `loadConfig` worded them (names, never values). */
function configProblems(e: ConfigError): Map<string, string> {
  const body = e.message.replace(/^Invalid configuration:\s*/, '');
  const parts = body.split('; ');
  const out = new Map<string, string>();
  for (const key of e.keys) {
    const part = parts.find((p) => p.startsWith(`${key} `));
    out.set(key, part ? part.slice(key.length + 1) : 'is missing or malformed');
  }
  return out;
}

export interface EnvCheckOptions {
  /** A real deploy: sample values are errors instead of warnings. */
  forDeploy: boolean;
  /** `.env.example` values, to catch placeholders that were never replaced. */
  samples?: Record<string, string>;
  source?: Record<string, EnvSource>;
}

export interface EnvCheck {
  config?: Config;
  deploy?: DeployKeys;
  issues: Issue[];
}

/**
 * Every key the functions and the deploy read: present when required, well-formed (through the one
 * schema in shared/config.ts), and safe to insert unescaped into cloudbaserc.json.
 */
export function checkEnvironment(
  env: Record<string, string | undefined>,
  opts: EnvCheckOptions,
): EnvCheck {
  const issues: Issue[] = [];
  const flagged = new Set<string>();
  const from = (key: string) =>
    opts.source?.[key] === 'environment'
      ? ' (set in the process environment, which overrides .env)'
      : '';

  // 1. What tcb would insert unescaped into the JSON.
  for (const key of TEMPLATE_KEYS) {
    const v = env[key];
    if (v === undefined || v === '') continue;
    if (/["\\]/.test(v) || CONTROL_CHARS.test(v)) {
      issues.push(
        err(
          `${key} contains " or \\ or a control character: tcb inserts values unescaped into cloudbaserc.json, which would break the JSON${from(key)}`,
          key,
        ),
      );
      flagged.add(key);
      continue;
    }
    const t = v.trim();
    if (t === 'null' || t.startsWith('{') || t.startsWith('[')) {
      let parsesAsObject: boolean;
      try {
        const parsed: unknown = JSON.parse(t);
        parsesAsObject = typeof parsed === 'object';
      } catch {
        parsesAsObject = false;
      }
      if (parsesAsObject) {
        issues.push(
          err(`${key} parses as JSON null/object/array: tcb would replace the string with it`, key),
        );
        flagged.add(key);
      }
    }
  }

  // 2. The functions' configuration, through the one schema.
  let config: Config | undefined;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const [key, problem] of configProblems(e)) {
      if (flagged.has(key)) continue;
      issues.push(err(`${key} ${problem}${from(key)}`, key));
      flagged.add(key);
    }
  }

  // 3. Deploy-only keys.
  const deployInput: Record<string, string> = {};
  for (const key of DEPLOY_KEYS) {
    const v = env[key];
    if (!blank(v) && v !== undefined) deployInput[key] = v;
  }
  let deploy: DeployKeys | undefined;
  const parsed = deployKeysSchema.safeParse(deployInput);
  if (parsed.success) {
    deploy = parsed.data;
  } else {
    const seen = new Set<string>();
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? 'deploy');
      if (seen.has(key) || flagged.has(key)) continue;
      seen.add(key);
      const problem =
        deployInput[key] === undefined
          ? 'is required'
          : issue.message.replace(/^Invalid input:?\s*/, '') || 'is malformed';
      issues.push(err(`${key} ${problem}${from(key)}`, key));
      flagged.add(key);
    }
  }
  if (blank(env.TCB_API_KEY_ID) !== blank(env.TCB_API_KEY)) {
    const missing = blank(env.TCB_API_KEY_ID) ? 'TCB_API_KEY_ID' : 'TCB_API_KEY';
    issues.push(err(`${missing} is required when the other half of the API key is set`, missing));
  }

  // 4. Placeholders from .env.example that were never replaced.
  for (const key of SAMPLE_GUARDED_KEYS) {
    const sample = opts.samples?.[key];
    const v = env[key];
    if (!sample || blank(v) || v?.trim() !== sample.trim()) continue;
    const message = `${key} is still the .env.example sample value`;
    issues.push(
      opts.forDeploy ? err(`${message}: replace it before deploying`, key) : warn(message, key),
    );
  }

  // 5. Things that deploy but probably should not.
  if (config) {
    const base = new URL(config.COZE_API_BASE);
    if (['localhost', '127.0.0.1', '::1', '[::1]'].includes(base.hostname)) {
      issues.push(
        err('COZE_API_BASE points at this machine: the cloud cannot reach it', 'COZE_API_BASE'),
      );
    } else if (base.protocol !== 'https:') {
      issues.push(err('COZE_API_BASE must be https in the cloud', 'COZE_API_BASE'));
    }
    if (config.COZE_API_TOKEN.startsWith('pat_')) {
      issues.push(
        warn(
          'COZE_API_TOKEN is a personal token (pat_), which expires within 30 days: use a service token (sat_)',
          'COZE_API_TOKEN',
        ),
      );
    }
    if (config.WEBHOOK_SECRET_PREVIOUS !== undefined) {
      issues.push(
        config.WEBHOOK_SECRET_PREVIOUS === config.WEBHOOK_SECRET
          ? warn('WEBHOOK_SECRET_PREVIOUS equals WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS')
          : warn(
              'WEBHOOK_SECRET_PREVIOUS is set: a rotation is in progress; empty it and deploy again once Coze signs with the new secret',
              'WEBHOOK_SECRET_PREVIOUS',
            ),
      );
    }
    for (const key of ['SUBSCRIBE_TEMPLATE_SUCCESS_ID', 'SUBSCRIBE_TEMPLATE_FAILURE_ID'] as const) {
      if (config[key] === undefined) {
        issues.push(
          warn(`${key} is not set: no subscription message of that kind will be sent`, key),
        );
      }
    }
    if (config.MINIPROGRAM_STATE !== 'formal') {
      issues.push(
        warn(
          `MINIPROGRAM_STATE is ${config.MINIPROGRAM_STATE}: notices open that version, not the released one`,
          'MINIPROGRAM_STATE',
        ),
      );
    }
  }
  return { ...(config ? { config } : {}), ...(deploy ? { deploy } : {}), issues };
}

// ---------------------------------------------------------------------------------------------
// cloudbaserc.json

export interface RcTrigger {
  name: string;
  type: string;
  config: string;
}

export interface RcFunction {
  name: string;
  handler: string;
  runtime: string;
  timeout: number;
  memorySize: number;
  installDependency: boolean;
  envVariables: Record<string, string>;
  path?: string;
  triggers: RcTrigger[];
}

export interface Rc {
  envId: string;
  functionRoot: string;
  functions: RcFunction[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The cron tcb accepts for a timer: 7 fields (second minute hour day month weekday year), UTC+8. */
export function checkCron(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 7) {
    return `has ${fields.length} fields; a CloudBase timer needs 7 (second minute hour day month weekday year)`;
  }
  const field =
    /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
  const bad = fields.findIndex((f) => !field.test(f));
  if (bad >= 0) return `field ${bad + 1} is not a cron field`;
  if (!/^\d+$/.test(fields[0] ?? '')) return 'the seconds field must be a single number';
  return null;
}

export function describeCron(expr: string): string {
  const f = expr.trim().split(/\s+/);
  if (f.length === 7 && /^\d+$/.test(f[0] ?? '') && f.slice(1).every((x) => x === '*')) {
    return `every minute at second ${f[0]}`;
  }
  const m = /^\*\/(\d+)$/.exec(f[1] ?? '');
  if (f.length === 7 && m && f.slice(2).every((x) => x === '*')) return `every ${m[1]} minutes`;
  return 'custom schedule';
}

function readRcFunction(raw: unknown, index: number, issues: Issue[]): RcFunction | null {
  if (!isRecord(raw)) {
    issues.push(err(`${RC_FILE}: functions[${index}] is not an object`));
    return null;
  }
  const name = typeof raw.name === 'string' ? raw.name : `functions[${index}]`;
  const where = `${RC_FILE}: ${name}`;
  const fieldErr = (m: string) => issues.push(err(`${where}: ${m}`));
  if (typeof raw.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,59}$/.test(raw.name)) {
    fieldErr('name must be a function name (a letter, then letters, digits, - or _)');
  }
  // The CLI's own defaults differ from the docs: every field is required here, so nothing is left
  // to a default (docs/platform-notes.md).
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const num = (k: string) => (typeof raw[k] === 'number' ? (raw[k] as number) : undefined);
  const handler = str('handler');
  const runtime = str('runtime');
  const timeout = num('timeout');
  const memorySize = num('memorySize');
  const installDependency = raw.installDependency;
  if (handler === undefined) fieldErr('handler is required');
  else if (handler !== 'index.main')
    fieldErr('handler must be index.main (the bundle exports main)');
  if (runtime === undefined)
    fieldErr('runtime is required (the CLI default is not the documented one)');
  if (timeout === undefined) fieldErr('timeout is required');
  else if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900) {
    fieldErr('timeout must be a whole number of seconds, 1-900');
  }
  if (memorySize === undefined) fieldErr('memorySize is required');
  else if (
    !Number.isInteger(memorySize) ||
    memorySize < 64 ||
    memorySize > 3072 ||
    memorySize % 64
  ) {
    fieldErr('memorySize must be 64-3072 MB, a multiple of 64');
  }
  if (installDependency !== true) {
    fieldErr(
      'installDependency must be true (wx-server-sdk is installed by the cloud, not bundled)',
    );
  }
  const envVariables: Record<string, string> = {};
  if (!isRecord(raw.envVariables)) {
    fieldErr('envVariables is required');
  } else {
    for (const [k, v] of Object.entries(raw.envVariables)) {
      if (typeof v !== 'string') fieldErr(`envVariables.${k} must be a string`);
      else envVariables[k] = v;
    }
  }
  let route: string | undefined;
  if (raw.path !== undefined) {
    if (typeof raw.path !== 'string' || !raw.path.startsWith('/'))
      fieldErr('path must start with /');
    else route = raw.path;
  }
  const triggers: RcTrigger[] = [];
  if (raw.triggers !== undefined) {
    if (!Array.isArray(raw.triggers)) {
      fieldErr('triggers must be an array');
    } else {
      raw.triggers.forEach((t: unknown, i) => {
        if (
          isRecord(t) &&
          typeof t.name === 'string' &&
          typeof t.type === 'string' &&
          typeof t.config === 'string'
        ) {
          triggers.push({ name: t.name, type: t.type, config: t.config });
        } else {
          fieldErr(`triggers[${i}] needs string name, type and config`);
        }
      });
    }
  }
  if (raw.dir !== undefined) {
    issues.push(
      warn(`${where}: dir overrides functionRoot; the built bundle may not be what deploys`),
    );
  }
  if (
    typeof raw.name !== 'string' ||
    handler === undefined ||
    runtime === undefined ||
    timeout === undefined ||
    memorySize === undefined
  ) {
    return null;
  }
  return {
    name: raw.name,
    handler,
    runtime,
    timeout,
    memorySize,
    installDependency: installDependency === true,
    envVariables,
    ...(route !== undefined ? { path: route } : {}),
    triggers,
  };
}

/** Node major the bundles are built for, read from scripts/build.mjs (`target: 'nodeNN'`). */
export function buildTargetMajor(root: string): number | null {
  try {
    const src = fs.readFileSync(path.join(root, 'scripts', 'build.mjs'), 'utf8');
    const m = /target:\s*['"]node(\d+)/.exec(src);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface RcCheckContext {
  /** Function folders under cloudfunctions/ (what the build bundles). */
  sourceFunctions: string[];
  /** Node major of the build target, when known. */
  targetMajor?: number | null;
  root?: string;
}

/** The structure of cloudbaserc.json: everything declared, secrets only as `{{env.X}}`. */
export function checkRc(text: string, ctx: RcCheckContext): { rc?: Rc; issues: Issue[] } {
  const issues: Issue[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { issues: [err(`${RC_FILE} is not valid JSON`)] };
  }
  if (!isRecord(raw)) return { issues: [err(`${RC_FILE} must be a JSON object`)] };
  if (raw.version !== '2.0') issues.push(warn(`${RC_FILE}: version should be "2.0"`));
  if (raw.envId !== '{{env.ENV_ID}}') {
    issues.push(err(`${RC_FILE}: envId must be "{{env.ENV_ID}}" so the id comes from .env`));
  }
  if (typeof raw.functionRoot !== 'string') {
    issues.push(err(`${RC_FILE}: functionRoot is required`));
  } else if (
    path.posix.normalize(raw.functionRoot.replace(/^\.\//, '')).replace(/\/$/, '') !==
    DIST_FUNCTIONS
  ) {
    issues.push(err(`${RC_FILE}: functionRoot must be ./${DIST_FUNCTIONS} (the built bundles)`));
  }
  if (!Array.isArray(raw.functions) || raw.functions.length === 0) {
    issues.push(err(`${RC_FILE}: functions must list the functions`));
    return { issues };
  }
  const functions: RcFunction[] = [];
  raw.functions.forEach((f: unknown, i) => {
    const fn = readRcFunction(f, i, issues);
    if (fn) functions.push(fn);
  });

  const names = functions.map((f) => f.name);
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length)
    issues.push(err(`${RC_FILE}: functions declared twice: ${[...new Set(dup)].join(', ')}`));
  for (const n of ctx.sourceFunctions) {
    if (!names.includes(n))
      issues.push(err(`${RC_FILE}: cloudfunctions/${n} is built but not declared`));
  }
  for (const n of names) {
    if (!ctx.sourceFunctions.includes(n)) {
      issues.push(err(`${RC_FILE}: ${n} is declared but there is no cloudfunctions/${n}/index.ts`));
    }
  }

  // One runtime, supported, not older than the build target.
  const runtimes = [...new Set(functions.map((f) => f.runtime))];
  if (runtimes.length > 1)
    issues.push(err(`${RC_FILE}: runtimes differ (${runtimes.join(', ')}): use one`));
  for (const r of runtimes) {
    if (BETA_RUNTIME.test(r)) issues.push(warn(`${RC_FILE}: runtime ${r} is in beta on CloudBase`));
    else if (!(SUPPORTED_RUNTIMES as readonly string[]).includes(r)) {
      issues.push(err(`${RC_FILE}: runtime ${r} is not one of ${SUPPORTED_RUNTIMES.join(', ')}`));
    }
    const major = Number(/^Nodejs(\d+)/.exec(r)?.[1] ?? NaN);
    if (ctx.targetMajor && major < ctx.targetMajor) {
      issues.push(
        err(`${RC_FILE}: runtime ${r} is older than the build target node${ctx.targetMajor}`),
      );
    }
  }

  // Variables: exactly the schema's keys, each from its own placeholder.
  const secretSet = new Set<string>(SECRET_KEYS);
  for (const f of functions) {
    const keys = Object.keys(f.envVariables);
    for (const k of CONFIG_KEYS) {
      if (!keys.includes(k)) issues.push(err(`${RC_FILE}: ${f.name} envVariables lacks ${k}`, k));
    }
    for (const k of keys) {
      const v = f.envVariables[k] ?? '';
      if (!(CONFIG_KEYS as string[]).includes(k)) {
        issues.push(
          err(`${RC_FILE}: ${f.name} envVariables.${k} is not a key of shared/config.ts`, k),
        );
      } else if (v !== `{{env.${k}}}`) {
        issues.push(
          err(
            secretSet.has(k) && !v.includes('{{')
              ? `${RC_FILE}: ${f.name} envVariables.${k} is a literal: a secret must come from {{env.${k}}}`
              : `${RC_FILE}: ${f.name} envVariables.${k} must be exactly {{env.${k}}}`,
            k,
          ),
        );
      }
    }
  }

  // The route and the timer.
  for (const f of functions) {
    if (f.name === ROUTE.fn) {
      if (f.path !== ROUTE.path)
        issues.push(err(`${RC_FILE}: ${f.name} needs "path": "${ROUTE.path}"`));
    } else if (f.path !== undefined) {
      issues.push(err(`${RC_FILE}: ${f.name} must not have an HTTP path (only ${ROUTE.fn} does)`));
    }
    if (f.name === TIMER_FN) {
      const timers = f.triggers.filter((t) => t.type === 'timer');
      if (timers.length !== 1 || f.triggers.length !== 1) {
        issues.push(err(`${RC_FILE}: ${f.name} needs exactly one trigger, of type timer`));
      }
      for (const t of timers) {
        if (!/^[A-Za-z][A-Za-z0-9_-]{0,59}$/.test(t.name)) {
          issues.push(err(`${RC_FILE}: ${f.name} trigger name ${t.name} is not valid`));
        }
        const problem = checkCron(t.config);
        if (problem) issues.push(err(`${RC_FILE}: ${f.name} timer ${t.name} ${problem}`));
        else if (!describeCron(t.config).startsWith('every minute')) {
          issues.push(warn(`${RC_FILE}: ${f.name} timer ${t.name} does not run every minute`));
        }
      }
    } else if (f.triggers.length) {
      issues.push(err(`${RC_FILE}: ${f.name} must not have triggers (only ${TIMER_FN} does)`));
    }
  }
  if (!functions.some((f) => f.name === ROUTE.fn))
    issues.push(err(`${RC_FILE}: ${ROUTE.fn} is not declared`));
  if (!functions.some((f) => f.name === TIMER_FN))
    issues.push(err(`${RC_FILE}: ${TIMER_FN} is not declared`));

  return {
    rc: { envId: String(raw.envId), functionRoot: String(raw.functionRoot), functions },
    issues,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering the way tcb does

const TAG = /\{\{([\s\S]*?)\}\}/g;
const NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

function lookup(view: Record<string, unknown>, name: string): unknown {
  let cur: unknown = view;
  for (const part of name.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function tagValue(view: Record<string, unknown>, name: string): string {
  const v = lookup(view, name);
  if (v === undefined || v === null) return '';
  // tcb's mustache.escape: objects become JSON with escaped quotes, everything else as it is.
  return typeof v === 'object' ? JSON.stringify(v).replace(/"/g, '\\"') : String(v);
}

function tcbView(raw: Record<string, unknown>, env: Record<string, string | undefined>) {
  const envView: Record<string, string> = { ENV_ID: String(raw.envId ?? '') };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) envView[k] = v;
  return { env: envView, tcb: { envId: raw.envId }, util: { uid: 'u'.repeat(24) } };
}

/** tcb's JSON.parse reviver: strings that parse as a JSON object/array/null become that value. */
function tcbReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' ? parsed : value;
  } catch {
    return value;
  }
}

function fillStructurally(value: unknown, view: Record<string, unknown>): unknown {
  if (typeof value === 'string')
    return value.replace(TAG, (_m, name: string) => tagValue(view, name.trim()));
  if (Array.isArray(value)) return value.map((v) => fillStructurally(v, view));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillStructurally(v, view);
    return out;
  }
  return value;
}

function diffPaths(a: unknown, b: unknown, at = ''): string[] {
  if (Object.is(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      out.push(...diffPaths(a[i], b[i], `${at}[${i}]`));
    return out;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return [at || '(root)'];
}

export interface RenderResult {
  ok: boolean;
  /** The configuration as tcb will read it (only when it parses). */
  value?: unknown;
  issues: Issue[];
}

/**
 * Renders cloudbaserc.json as the CLI does (text substitution, then JSON.parse with its reviver)
 * and checks the result is the intended one: valid JSON, same structure, every value a string
 * equal to its key's value. Reports paths and key names only, never values.
 */
export function renderLikeTcb(text: string, env: Record<string, string | undefined>): RenderResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, issues: [err(`${RC_FILE} is not valid JSON`)] };
  }
  if (!isRecord(raw)) return { ok: false, issues: [err(`${RC_FILE} must be a JSON object`)] };
  const view = tcbView(raw, env);
  const issues: Issue[] = [];
  const serialized = JSON.stringify(raw);
  for (const m of serialized.matchAll(TAG)) {
    const name = (m[1] ?? '').trim();
    if (!NAME.test(name))
      issues.push(err(`${RC_FILE}: template tag {{${name}}} is not a plain {{env.X}}`));
    else if (name.startsWith('env.') && !TEMPLATE_KEYS.includes(name.slice(4))) {
      issues.push(err(`${RC_FILE}: {{${name}}} is not a known key`));
    }
  }
  const rendered = serialized.replace(TAG, (_m, name: string) => tagValue(view, name.trim()));
  let value: unknown;
  try {
    value = JSON.parse(rendered, tcbReviver);
  } catch {
    // Never echo the parser's message: it quotes the text around the error, values included.
    issues.push(err(`${RC_FILE} is not valid JSON once tcb fills {{env.X}}`));
    return { ok: false, issues };
  }
  const intended = fillStructurally(raw, view);
  const paths = diffPaths(value, intended);
  if (paths.length) {
    issues.push(
      err(`${RC_FILE} changes shape once tcb fills {{env.X}}, at: ${paths.slice(0, 5).join(', ')}`),
    );
  }
  if (isRecord(value) && (value.envId === '{{env.ENV_ID}}' || value.envId === '')) {
    issues.push(err('ENV_ID is required (tcb would prompt for an environment)', 'ENV_ID'));
  }
  return { ok: issues.length === 0, value, issues };
}

// ---------------------------------------------------------------------------------------------
// Cross-checks between the configuration and cloudbaserc.json

export function defaultServiceUrl(envId: string, route: string): string {
  // What `tcb fn deploy` prints for a function with a path (the console shows the real domain).
  return `https://${envId}.service.tcloudbase.com${route}`;
}

export function checkProject(rc: Rc, config: Config, deploy: DeployKeys | undefined): Issue[] {
  const issues: Issue[] = [];
  const url = new URL(config.WEBHOOK_URL);
  if (url.protocol !== 'https:') {
    issues.push(
      err('WEBHOOK_URL must be https: the callback carries results and a signature', 'WEBHOOK_URL'),
    );
  }
  const route = rc.functions.find((f) => f.name === ROUTE.fn)?.path;
  if (route && url.pathname.replace(/\/$/, '') !== route) {
    issues.push(err(`WEBHOOK_URL must end with the route path ${route}`, 'WEBHOOK_URL'));
  }
  if (deploy && route && url.host !== new URL(defaultServiceUrl(deploy.ENV_ID, route)).host) {
    issues.push(
      warn(
        `WEBHOOK_URL's host is not ${deploy.ENV_ID}.service.tcloudbase.com: fine for a custom or console-shown domain, check it`,
        'WEBHOOK_URL',
      ),
    );
  }
  const sweeper = rc.functions.find((f) => f.name === TIMER_FN);
  if (sweeper) {
    // A sweep stops starting work at its budget; a call already started may take 2 x COZE_TIMEOUT_MS.
    const worst = config.SWEEP_BUDGET_MS + 2 * config.COZE_TIMEOUT_MS;
    if (worst >= sweeper.timeout * 1000) {
      issues.push(
        err(
          `SWEEP_BUDGET_MS + 2 x COZE_TIMEOUT_MS (${worst} ms) must stay under ${TIMER_FN}'s timeout (${sweeper.timeout} s)`,
          'SWEEP_BUDGET_MS',
        ),
      );
    }
  }
  const starter = rc.functions.find((f) => f.name === 'extractText');
  // `create` bounds its Coze call at COZE_START_TIMEOUT_MS (+100) and still writes the task.
  if (starter && config.COZE_START_TIMEOUT_MS + 2000 > starter.timeout * 1000) {
    issues.push(
      err(
        `COZE_START_TIMEOUT_MS + 2 s of database work must fit extractText's timeout (${starter.timeout} s)`,
        'COZE_START_TIMEOUT_MS',
      ),
    );
  }
  if (config.TASK_TIMEOUT_S <= config.RECONCILE_AFTER_S) {
    issues.push(
      warn(
        'TASK_TIMEOUT_S is not above RECONCILE_AFTER_S: tasks time out before any reconcile',
        'TASK_TIMEOUT_S',
      ),
    );
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Bundles and the CLI on disk

export interface BundleInfo {
  bytes: number;
  openapi: string[];
}

export function checkBundles(
  distRoot: string,
  names: string[],
): { info: Record<string, BundleInfo>; issues: Issue[] } {
  const info: Record<string, BundleInfo> = {};
  const issues: Issue[] = [];
  for (const name of names) {
    const dir = path.join(distRoot, name);
    const rel = `${DIST_FUNCTIONS}/${name}`;
    let bytes: number;
    try {
      bytes = fs.statSync(path.join(dir, 'index.js')).size;
    } catch {
      issues.push(err(`${rel}/index.js is missing: run the build`));
      continue;
    }
    if (bytes === 0) issues.push(err(`${rel}/index.js is empty`));
    try {
      const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const deps = isRecord(pkg) && isRecord(pkg.dependencies) ? pkg.dependencies : {};
      if (typeof deps['wx-server-sdk'] !== 'string') {
        issues.push(
          err(`${rel}/package.json must depend on wx-server-sdk (installed in the cloud)`),
        );
      }
    } catch {
      issues.push(err(`${rel}/package.json is missing or not JSON`));
    }
    let openapi: string[] = [];
    try {
      const cfg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      const list = isRecord(cfg) && isRecord(cfg.permissions) ? cfg.permissions.openapi : undefined;
      openapi = Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      issues.push(
        err(
          `${rel}/config.json is missing or not JSON (DevTools reads the openapi permission there)`,
        ),
      );
    }
    info[name] = { bytes, openapi };
  }
  return { info, issues };
}

/** Function folders the build bundles: cloudfunctions/<name>/index.ts, `_`-prefixed excluded. */
export function sourceFunctions(root: string): string[] {
  const dir = path.join(root, 'cloudfunctions');
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
      .filter((d) => fs.existsSync(path.join(dir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export function tcbEntry(root: string): string {
  return path.join(root, 'node_modules', '@cloudbase', 'cli', 'bin', 'tcb');
}

export function checkCli(root: string): Issue[] {
  try {
    const pkg: unknown = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', '@cloudbase', 'cli', 'package.json'), 'utf8'),
    );
    const version = isRecord(pkg) ? pkg.version : undefined;
    if (!fs.existsSync(tcbEntry(root)))
      return [err('node_modules/@cloudbase/cli/bin/tcb is missing: npm ci')];
    if (version !== TCB_CLI_VERSION) {
      return [
        warn(
          `@cloudbase/cli is ${String(version)}, not ${TCB_CLI_VERSION}: the login and failure checks were read from ${TCB_CLI_VERSION}`,
        ),
      ];
    }
    return [];
  } catch {
    return [err('@cloudbase/cli is not installed: npm ci')];
  }
}

// ---------------------------------------------------------------------------------------------
// The plan

export type KeyState = 'set' | 'default' | 'unset' | 'missing';

export function keyState(key: string, env: Record<string, string | undefined>): KeyState {
  if (!blank(env[key])) return 'set';
  if ((CONFIG_KEYS as string[]).includes(key)) {
    const k = key as keyof Config;
    if (hasDefault(k)) return 'default';
    return isRequired(k) ? 'missing' : 'unset';
  }
  return key === 'ENV_ID' ? 'missing' : 'unset';
}

export interface Plan {
  dryRun: boolean;
  rc?: Rc;
  envId?: string;
  region?: string;
  env: ResolvedEnv;
  bundles?: Record<string, BundleInfo>;
  bundlesChecked: boolean;
  only?: string[];
  issues: Issue[];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export function formatPlan(plan: Plan): string[] {
  const out: string[] = [];
  const { rc, env } = plan;
  const envId = plan.envId ?? '<ENV_ID>';
  out.push(
    `Environment: ${envId}, region ${plan.region ?? 'ap-shanghai (default)'}; keys read from ${
      env.files.length ? env.files.join(', ') + ' and ' : ''
    }the process environment`,
  );
  if (rc) {
    const runtimes = [...new Set(rc.functions.map((f) => f.runtime))].join(', ');
    out.push(
      `Functions (${rc.functions.length}, runtime ${runtimes} (fixed once created), code from ${rc.functionRoot}):`,
    );
    for (const f of rc.functions) {
      const skipped = plan.only && !plan.only.includes(f.name) ? '  [skipped: --only]' : '';
      const b = plan.bundles?.[f.name];
      const bundle = b ? `, bundle ${kb(b.bytes)}` : plan.bundlesChecked ? ', bundle MISSING' : '';
      const extra = [
        f.path ? `HTTP ${f.path}` : '',
        ...f.triggers.map((t) => `${t.type} "${t.name}" ${t.config}`),
      ].filter(Boolean);
      out.push(
        `  ${f.name.padEnd(15)} ${f.handler}, ${f.timeout} s, ${f.memorySize} MB, ` +
          `${f.installDependency ? 'cloud installs deps' : 'no dep install'}${bundle}` +
          (extra.length ? `; ${extra.join('; ')}` : '') +
          skipped,
      );
    }
    for (const f of rc.functions.filter((x) => x.path)) {
      out.push(`HTTP route: ${f.path} -> ${f.name} (${defaultServiceUrl(envId, f.path ?? '')})`);
    }
    for (const f of rc.functions) {
      for (const t of f.triggers) {
        out.push(
          `Timer trigger: "${t.name}" -> ${f.name}, cron ${t.config} (${describeCron(t.config)}, UTC+8)`,
        );
      }
    }
    const withPerm = rc.functions.filter((f) => (plan.bundles?.[f.name]?.openapi.length ?? 0) > 0);
    if (withPerm.length) {
      out.push(
        `Cloud-call permission (config.json, applied only by a DevTools upload): ${withPerm
          .map((f) => `${f.name} [${plan.bundles?.[f.name]?.openapi.join(', ')}]`)
          .join('; ')}`,
      );
    }
  }
  const secret = new Set<string>([...SECRET_KEYS, ...DEPLOY_SECRET_KEYS]);
  const line = (k: string) => {
    const state = keyState(k, env.values);
    const src = env.source[k];
    const where = state === 'set' && src ? ` (${src})` : state === 'unset' ? ' (optional)' : '';
    return `  ${k.padEnd(30)} ${secret.has(k) ? 'secret ' : '       '}${state}${where}`;
  };
  out.push(
    `Variables given to every function (${CONFIG_KEYS.length}; names only, values never printed):`,
  );
  for (const k of CONFIG_KEYS) out.push(line(k));
  out.push('Deploy-only keys:');
  for (const k of DEPLOY_KEYS) out.push(line(k));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running tcb

export interface RunResult {
  code: number | null;
  timedOut: boolean;
  /** stdout and stderr, colours removed. */
  output: string;
}

export type Runner = (args: string[], opts: { timeoutMs: number }) => Promise<RunResult>;

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Replaces every secret value by its name, then applies the shared pattern redactor. */
export function redact(text: string, secrets: Record<string, string | undefined>): string {
  let out = text;
  const pairs = Object.entries(secrets)
    .filter((p): p is [string, string] => typeof p[1] === 'string' && p[1].trim().length >= 4)
    .sort((a, b) => b[1].length - a[1].length);
  for (const [name, value] of pairs) out = out.split(value.trim()).join(`[${name}]`);
  return redactSecrets(out);
}

/** Spawns the project's own tcb with a timeout; prints its output redacted, line by line. */
export function createTcbRunner(
  root: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
): Runner {
  return (args, { timeoutMs }) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [tcbEntry(root), ...args], {
        cwd: root,
        env: { ...env, NO_UPDATE_NOTIFIER: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let partial = '';
      let timedOut = false;
      const take = (chunk: Buffer) => {
        const text = stripAnsi(chunk.toString('utf8'));
        output += text;
        const lines = (partial + text).split(/\r?\n|\r/);
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) onLine(l);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }, timeoutMs);
      const finish = (code: number | null) => {
        clearTimeout(timer);
        if (partial.trim()) onLine(partial);
        partial = '';
        resolve({ code, timedOut, output });
      };
      child.on('error', () => finish(-1));
      child.on('close', (code) => finish(code));
    });
}

const NOT_LOGGED_IN = /无有效身份信息|No valid identity information/i;
const LOGIN_OK = /登录成功|login succeeded|您已登录|You are logged in/i;
const LOGIN_FAILED = /密钥验证失败|Key verification failed|登录失败|login failed/i;

function tail(output: string, n = 3): string {
  return output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

export type LoginState =
  { state: 'ok' } | { state: 'not-logged-in' | 'env-not-found' | 'failed'; reason: string };

/** Whether a `tcb env list` table has a cell that is exactly the environment id. */
function listsEnv(output: string, envId: string): boolean {
  if (/[│|┃]/.test(output)) {
    return output
      .split(/\r?\n/)
      .some((l) => l.split(/[│|┃]/).some((cell) => cell.trim() === envId));
  }
  const escaped = envId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9-])${escaped}([^A-Za-z0-9-]|$)`, 'm').test(output);
}

/** `tcb env list`: exit 0 and a table that names the environment. */
export function interpretEnvList(r: RunResult, envId: string): LoginState {
  if (r.timedOut) return { state: 'failed', reason: 'tcb env list timed out (network or proxy?)' };
  if (NOT_LOGGED_IN.test(r.output))
    return { state: 'not-logged-in', reason: 'tcb has no valid login' };
  if (r.code !== 0)
    return { state: 'failed', reason: `tcb env list exited ${String(r.code)}: ${tail(r.output)}` };
  if (!listsEnv(r.output, envId)) {
    return {
      state: 'env-not-found',
      reason: `the logged-in account does not list ${envId} (another account, or another region: set TCB_REGION)`,
    };
  }
  return { state: 'ok' };
}

export function interpretLogin(r: RunResult): { ok: boolean; reason: string } {
  if (r.timedOut) return { ok: false, reason: 'tcb login timed out' };
  if (r.code !== 0 || LOGIN_FAILED.test(r.output) || !LOGIN_OK.test(r.output)) {
    return { ok: false, reason: `tcb login failed (exit ${String(r.code)}): ${tail(r.output)}` };
  }
  return { ok: true, reason: '' };
}

/** Failure lines tcb 2.12.10 prints while still exiting 0, plus the generic ones. */
export function deployFailureMarkers(name: string): RegExp[] {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    new RegExp(`\\[${n}\\] (函数部署失败|部署失败|Function deploy failed|Deploy failed)`),
    /错误信息:|错误码:/,
    /云函数更新失败|cloud function update failed/i,
    /等待函数更新超时|Function update timeout/i,
    /个云函数部署失败|cloud function\(s\) deployment failed/i,
    NOT_LOGGED_IN,
    /无有效身份信息，将自动为您打开授权页面|will automatically open authorization page/i,
    /unhandledRejection/,
    /^\s*[✖×] /m,
  ];
}

export function deploySuccessMarker(name: string): RegExp {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `\\[${n}\\] (云函数部署成功|云函数更新成功|Cloud function deployed successfully|Cloud function updated successfully)`,
    'i',
  );
}

export function interpretDeploy(name: string, r: RunResult): { ok: boolean; reason: string } {
  if (r.timedOut) return { ok: false, reason: `tcb fn deploy ${name} timed out` };
  if (r.code !== 0)
    return {
      ok: false,
      reason: `tcb fn deploy ${name} exited ${String(r.code)}: ${tail(r.output)}`,
    };
  const marker = deployFailureMarkers(name).find((re) => re.test(r.output));
  if (marker)
    return {
      ok: false,
      reason: `tcb reported a failure for ${name} (it exits 0 anyway): ${tail(r.output)}`,
    };
  if (!deploySuccessMarker(name).test(r.output)) {
    return {
      ok: false,
      reason: `tcb did not report "[${name}] 云函数部署成功": ${tail(r.output)}`,
    };
  }
  return { ok: true, reason: '' };
}

/** `tcb service list`: a table row with the path and the function. */
export function interpretServiceList(r: RunResult, route: string, fn: string): boolean {
  if (r.timedOut || r.code !== 0 || NOT_LOGGED_IN.test(r.output)) return false;
  return r.output.split(/\r?\n/).some((l) => l.includes(route) && l.includes(fn));
}

/** The HTTP access link `tcb fn deploy` prints for a function with a path. */
export function printedServiceLink(output: string): string | undefined {
  return /(?:HTTP 访问服务访问链接：|HTTP access service link: )\s*(\S+)/.exec(output)?.[1];
}

// ---------------------------------------------------------------------------------------------
// main

export interface DeployArgs {
  dryRun: boolean;
  skipBuild: boolean;
  only?: string[];
  help: boolean;
}

export function parseArgs(argv: string[]): { args?: DeployArgs; error?: string } {
  const args: DeployArgs = { dryRun: false, skipBuild: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dry-run') args.dryRun = true;
    else if (a === '--skip-build') args.skipBuild = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--only' || a?.startsWith('--only=')) {
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!v) return { error: '--only needs a function name' };
      args.only = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    } else return { error: `unknown argument ${String(a)}` };
  }
  return { args };
}

export const USAGE = `usage: npm run deploy [-- --dry-run] [--skip-build] [--only <name>[,<name>]]
  --dry-run     build and check everything offline, print the plan; no login, no network
  --skip-build  check the bundles already in ${DIST_FUNCTIONS}
  --only        deploy only these functions (all checks still run)`;

export interface MainOptions {
  root?: string;
  argv: string[];
  processEnv: Record<string, string | undefined>;
  out?: (line: string) => void;
  /** Builds the bundles; default imports scripts/build.mjs. */
  build?: (root: string) => Promise<Record<string, number>>;
  /** Runs tcb; default spawns node_modules/@cloudbase/cli with a timeout. */
  runner?: Runner;
}

export const TIMEOUTS = { envList: 90_000, login: 120_000, deploy: 600_000, service: 90_000 };

async function defaultBuild(root: string): Promise<Record<string, number>> {
  const mod = (await import(pathToFileURL(path.join(root, 'scripts', 'build.mjs')).href)) as {
    buildFunctions: (o?: { quiet?: boolean }) => Promise<Record<string, number>>;
  };
  return mod.buildFunctions({ quiet: true });
}

export async function main(opts: MainOptions): Promise<number> {
  const root = opts.root ?? ROOT;
  const out = opts.out ?? ((l: string) => console.log(l));
  const parsedArgs = parseArgs(opts.argv);
  if (!parsedArgs.args) {
    out(`deploy: ${parsedArgs.error ?? 'bad arguments'}`);
    out(USAGE);
    return 2;
  }
  const args = parsedArgs.args;
  if (args.help) {
    out(USAGE);
    return 0;
  }
  out(args.dryRun ? 'deploy --dry-run: offline checks, nothing is deployed' : 'deploy');

  const env = resolveEnv(root, opts.processEnv);
  const issues: Issue[] = env.notes.map((n) =>
    warn(`${n.file}:${n.line}${n.key ? ` (${n.key})` : ''} ${n.message}`, n.key),
  );

  // 1. Build.
  let built = false;
  if (!args.skipBuild) {
    try {
      const sizes = await (opts.build ?? defaultBuild)(root);
      built = true;
      out(`build: ${Object.keys(sizes).length} function bundle(s) in ${DIST_FUNCTIONS}`);
    } catch (e) {
      out(`build failed: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }

  // 2. Checks, all offline.
  let samples: Record<string, string> = {};
  try {
    samples = parseEnvFile(fs.readFileSync(path.join(root, '.env.example'), 'utf8')).values;
  } catch {
    issues.push(warn('.env.example is missing'));
  }
  const envCheck = checkEnvironment(env.values, {
    forDeploy: !args.dryRun,
    samples,
    source: env.source,
  });
  issues.push(...envCheck.issues);

  let rcText = '';
  try {
    rcText = fs.readFileSync(path.join(root, RC_FILE), 'utf8');
  } catch {
    issues.push(err(`${RC_FILE} is missing`));
  }
  const sources = sourceFunctions(root);
  const rcCheck = rcText
    ? checkRc(rcText, { sourceFunctions: sources, targetMajor: buildTargetMajor(root), root })
    : { issues: [] as Issue[] };
  issues.push(...rcCheck.issues);
  const rc = rcCheck.rc;
  if (rcText) {
    const flagged = new Set(issues.filter((i) => i.key).map((i) => i.key));
    for (const i of renderLikeTcb(rcText, env.values).issues) {
      if (!i.key || !flagged.has(i.key)) issues.push(i);
    }
  }
  if (rc && envCheck.config) issues.push(...checkProject(rc, envCheck.config, envCheck.deploy));
  if (rc && args.only) {
    for (const n of args.only) {
      if (!rc.functions.some((f) => f.name === n))
        issues.push(err(`--only ${n}: no such function`));
    }
  }
  issues.push(...checkCli(root));

  const distRoot = path.join(root, DIST_FUNCTIONS);
  let bundles: Record<string, BundleInfo> | undefined;
  const bundlesChecked = built || fs.existsSync(distRoot);
  if (rc && bundlesChecked) {
    const b = checkBundles(
      distRoot,
      rc.functions.map((f) => f.name),
    );
    bundles = b.info;
    issues.push(...b.issues);
  } else if (!bundlesChecked) {
    issues.push(
      args.dryRun
        ? warn(`bundles not checked: ${DIST_FUNCTIONS} does not exist (--skip-build)`)
        : err(`${DIST_FUNCTIONS} does not exist: build first (drop --skip-build)`),
    );
  }

  const envId =
    envCheck.deploy?.ENV_ID ?? (blank(env.values.ENV_ID) ? undefined : env.values.ENV_ID);
  const region = envCheck.deploy?.TCB_REGION;
  out('');
  for (const l of formatPlan({
    dryRun: args.dryRun,
    ...(rc ? { rc } : {}),
    ...(envId ? { envId } : {}),
    ...(region ? { region } : {}),
    env,
    ...(bundles ? { bundles } : {}),
    bundlesChecked,
    ...(args.only ? { only: args.only } : {}),
    issues,
  })) {
    out(l);
  }

  const warnings = issues.filter((i) => i.level === 'warning');
  const errors = errorsOf(issues);
  if (warnings.length) {
    out('');
    out(`Warnings (${warnings.length}):`);
    for (const w of warnings) out(`  - ${w.message}`);
  }
  if (errors.length) {
    out('');
    out(`Errors (${errors.length}):`);
    for (const e of errors) out(`  - ${e.message}`);
    const keys = [...new Set(errors.map((e) => e.key).filter((k): k is string => Boolean(k)))];
    out('');
    out(
      `Not deployed: fix the errors above${keys.length ? ` (keys: ${keys.join(', ')})` : ''}. Values are never printed.`,
    );
    return 1;
  }
  if (!rc || !envCheck.config || !envCheck.deploy || !envId) {
    out('Not deployed: the configuration could not be read.');
    return 1;
  }

  const steps = [
    `tcb${region ? ` -r ${region}` : ''} env list  (login check; must list ${envId})`,
    ...rc.functions
      .filter((f) => !args.only || args.only.includes(f.name))
      .map((f) => `tcb${region ? ` -r ${region}` : ''} fn deploy ${f.name} --force -e ${envId}`),
    `tcb${region ? ` -r ${region}` : ''} service list -e ${envId}  (route ${ROUTE.path} -> ${ROUTE.fn})`,
  ];
  out('');
  out('Steps:');
  steps.forEach((s, i) => out(`  ${i + 1}. ${s}`));
  if (args.dryRun) {
    out('');
    out('Dry run OK: every check passed offline. Nothing was deployed; tcb was not called.');
    return 0;
  }

  // 3. Login, then deploy.
  const secrets: Record<string, string | undefined> = {};
  for (const k of [...SECRET_KEYS, ...DEPLOY_SECRET_KEYS]) secrets[k] = env.values[k];
  const print = (l: string) => out(`    | ${redact(l, secrets)}`);
  const run = opts.runner ?? createTcbRunner(root, opts.processEnv, print);
  const regionArgs = region ? ['-r', region] : [];
  const deployKeys = envCheck.deploy;

  out('');
  out('Checking the tcb login (tcb env list)...');
  let login = interpretEnvList(
    await run([...regionArgs, 'env', 'list'], { timeoutMs: TIMEOUTS.envList }),
    envId,
  );
  if (login.state === 'not-logged-in' && deployKeys.TCB_API_KEY_ID && deployKeys.TCB_API_KEY) {
    out('Not logged in: tcb login --apiKeyId <TCB_API_KEY_ID> --apiKey <TCB_API_KEY>');
    const l = interpretLogin(
      await run(
        [
          ...regionArgs,
          'login',
          '--apiKeyId',
          deployKeys.TCB_API_KEY_ID,
          '--apiKey',
          deployKeys.TCB_API_KEY,
        ],
        { timeoutMs: TIMEOUTS.login },
      ),
    );
    if (!l.ok) {
      out(`Not deployed: ${redact(l.reason, secrets)}`);
      return 1;
    }
    login = interpretEnvList(
      await run([...regionArgs, 'env', 'list'], { timeoutMs: TIMEOUTS.envList }),
      envId,
    );
  }
  if (login.state !== 'ok') {
    out(
      login.state === 'not-logged-in'
        ? 'Not deployed: tcb is not logged in. Run `npx tcb login` (browser), or set TCB_API_KEY_ID and TCB_API_KEY (CI).'
        : `Not deployed: ${redact(login.reason, secrets)}`,
    );
    return 1;
  }
  out(`Logged in; ${envId} is visible.`);

  const targets = rc.functions.filter((f) => !args.only || args.only.includes(f.name));
  const done: string[] = [];
  let link: string | undefined;
  for (const f of targets) {
    out('');
    out(`Deploying ${f.name} (tcb fn deploy ${f.name} --force -e ${envId})...`);
    const r = await run([...regionArgs, 'fn', 'deploy', f.name, '--force', '-e', envId], {
      timeoutMs: TIMEOUTS.deploy,
    });
    const verdict = interpretDeploy(f.name, r);
    if (!verdict.ok) {
      out(`FAILED: ${redact(verdict.reason, secrets)}`);
      out(
        `Deployed before the failure: ${done.length ? done.join(', ') : 'none'}. Fix and run again.`,
      );
      return 1;
    }
    if (f.path) link = printedServiceLink(r.output) ?? link;
    done.push(f.name);
    out(`OK: ${f.name}`);
  }

  // 4. The route: applied by fn deploy from "path"; created by hand if it is not there.
  const routeFn = rc.functions.find((f) => f.name === ROUTE.fn);
  if (routeFn?.path && (!args.only || args.only.includes(ROUTE.fn))) {
    out('');
    out(`Checking the HTTP route ${routeFn.path} -> ${routeFn.name}...`);
    const list = () =>
      run([...regionArgs, 'service', 'list', '-e', envId], { timeoutMs: TIMEOUTS.service });
    let routed = interpretServiceList(await list(), routeFn.path, routeFn.name);
    if (!routed) {
      out(`Route missing: tcb service create -p ${routeFn.path} -f ${routeFn.name} -e ${envId}`);
      await run(
        [...regionArgs, 'service', 'create', '-p', routeFn.path, '-f', routeFn.name, '-e', envId],
        {
          timeoutMs: TIMEOUTS.service,
        },
      );
      routed = interpretServiceList(await list(), routeFn.path, routeFn.name);
    }
    if (!routed) {
      out(
        `FAILED: the route ${routeFn.path} -> ${routeFn.name} is not listed by tcb service list.`,
      );
      return 1;
    }
    out('Route OK.');
  }

  const config = envCheck.config;
  const webhook = config.WEBHOOK_URL;
  out('');
  out(`Deployed to ${envId}: ${done.join(', ')}.`);
  out('');
  out('Webhook URL (WEBHOOK_URL, handed to every Coze run as callback_url):');
  out(`  ${webhook}`);
  if (link && link.replace(/\/$/, '') !== webhook.replace(/\/$/, '')) {
    out(
      `  tcb printed ${link} for the route: if that is the working domain, set WEBHOOK_URL to it and deploy again.`,
    );
  }
  out(
    '  In the Coze workflow, make it the default of the start input callback_url (for test runs);',
  );
  out(
    '  the HTTP node posts to {{callback_url}}. Check: curl -i -X POST <url> -d {} answers 401, not 404/5xx.',
  );
  out('');
  out('Still to do by hand (the CLI cannot):');
  out(
    `  1. Cloud-call permission (openapi subscribeMessage.send, from each config.json): in WeChat DevTools,`,
  );
  out(
    `     with cloudfunctionRoot at ${DIST_FUNCTIONS}/, right-click each function -> 上传并部署 (cloud installs deps).`,
  );
  out(
    '     Without it notices fail with -604101. Then check the variables are still set (console -> 云函数 -> 配置).',
  );
  out(
    '  2. Subscription templates: mini-program console -> 订阅消息 -> pick templates whose keywords match',
  );
  out(
    '     SUBSCRIBE_SUCCESS_KEYS / SUBSCRIBE_FAILURE_KEYS; put their ids in .env and deploy again.',
  );
  out('  3. Database: npm run db:init (collections, indexes, security rules).');
  out('  4. Smoke test: docs/operations.md, "Smoke test".');
  return 0;
}

const isMain = require.main === module;
if (isMain) {
  main({ argv: process.argv.slice(2), processEnv: process.env }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`deploy: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}

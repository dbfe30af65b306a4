/** cloudbaserc.json: its structure, every function declared explicitly, secrets only as `{{env.X}}`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_KEYS, FUNCTION_SETTINGS, SECRET_KEYS } from '../../shared/config';
import { parseCron } from '../../emulator/timers/cron';
import {
  BETA_RUNTIME,
  DIST_FUNCTIONS,
  RC_FILE,
  ROUTE,
  SUPPORTED_RUNTIMES,
  TIMER_FN,
} from './facts';
import { err, isRecord, warn, type Issue } from './issues';

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

/**
 * The cron tcb accepts for a timer: 7 fields (second minute hour day month weekday year), UTC+8,
 * read by the emulator's parser (emulator/cron.ts), so what deploys is what the local stack runs.
 * CloudBase also wants the seconds field as one number.
 */
export function checkCron(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 7) {
    return `has ${fields.length} fields; a CloudBase timer needs 7 (second minute hour day month weekday year)`;
  }
  try {
    parseCron(expr);
  } catch (e) {
    return `is not a valid cron: ${e instanceof Error ? e.message : String(e)}`;
  }
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
  // to a default.
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

  // Variables: exactly the function's own settings (FUNCTION_SETTINGS), each from its own
  // placeholder, so the webhook never holds the Coze token.
  const secretSet = new Set<string>(SECRET_KEYS);
  for (const f of functions) {
    const keys = Object.keys(f.envVariables);
    const own: readonly string[] | undefined =
      FUNCTION_SETTINGS[f.name as keyof typeof FUNCTION_SETTINGS];
    if (!own) {
      issues.push(
        err(`${RC_FILE}: ${f.name} has no settings list (FUNCTION_SETTINGS in shared/config.ts)`),
      );
      continue;
    }
    for (const k of own) {
      if (!keys.includes(k)) issues.push(err(`${RC_FILE}: ${f.name} envVariables lacks ${k}`, k));
    }
    for (const k of keys) {
      const v = f.envVariables[k] ?? '';
      if (!(CONFIG_KEYS as string[]).includes(k)) {
        issues.push(
          err(`${RC_FILE}: ${f.name} envVariables.${k} is not a key of shared/config.ts`, k),
        );
      } else if (!own.includes(k)) {
        issues.push(
          err(
            `${RC_FILE}: ${f.name} envVariables.${k} is not one of ${f.name}'s settings: give each function only what it reads (FUNCTION_SETTINGS)`,
            k,
          ),
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

/**
 * Reads a project the way its deploy tools apply it to the functions we emulate: `cloudbaserc.json` (tcb CLI), else
 * `project.config.json`'s `cloudfunctionRoot` (WeChat DevTools, every folder a function); per function its own
 * `config.json` (DevTools: `triggers`, `permissions.openapi`); and `local-templates.json` (subscription templates,
 * emulator only).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPlainObject } from './database/ejson';

export interface TimerTrigger {
  name: string;
  config: string;
}

export interface FunctionSpec {
  name: string;
  /** Absolute folder holding the function code. */
  dir: string;
  /** Module file (relative to dir, without extension) and export name, from `handler` (default `index.main`). */
  module: string;
  exportName: string;
  timeoutS: number;
  envVariables: Record<string, string>;
  timers: TimerTrigger[];
  /** HTTP access path, e.g. `/webhook/coze`. */
  httpPath?: string;
  /** `permissions.openapi` of the function's config.json (read and listed; not enforced, see README). */
  openapi: string[];
}

export interface ProjectTemplate {
  id: string;
  keywords: string[];
}

export interface ProjectSpec {
  envId: string;
  functionRoot: string;
  functions: FunctionSpec[];
  /** From `local-templates.json` in the project dir. */
  templates: ProjectTemplate[];
}

/** The emulator-only file declaring a project's subscription-message templates. */
const TEMPLATES_FILE = 'local-templates.json';

/** The CLI's code default (docs/platform-notes.md: timeout 10 even though the docs say 3). */
const DEFAULT_TIMEOUT_S = 10;

const PLACEHOLDER = /\{\{\s*env\.([A-Za-z0-9_]+)\s*\}\}/g;

/** Fills `{{env.X}}` from `env`, then `process.env`; unknown placeholders become empty. */
function fillPlaceholders(text: string, env: Record<string, string | undefined>): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => env[name] ?? process.env[name] ?? '');
}

function fillDeep(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, env);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, env));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillDeep(v, env);
    return out;
  }
  return value;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function loadProject(
  projectDir: string,
  env: Record<string, string | undefined> = {},
): ProjectSpec {
  const file = path.join(projectDir, 'cloudbaserc.json');
  let raw: unknown;
  if (!fs.existsSync(file)) {
    const fromDevtools = devtoolsProject(projectDir);
    if (fromDevtools) raw = fromDevtools;
  }
  try {
    raw ??= JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  // Filled per string value (not on the raw text like the CLI), so a quote in a secret cannot break the JSON.
  const rc = fillDeep(raw, env);
  if (!isPlainObject(rc)) throw new Error(`${file}: expected a JSON object`);
  const functionRoot = str(rc.functionRoot) ?? 'cloudfunctions';
  const functions: FunctionSpec[] = [];
  const list = Array.isArray(rc.functions) ? rc.functions : [];
  for (const f of list) {
    if (!isPlainObject(f)) continue;
    const name = str(f.name);
    if (!name) continue;
    const handler = str(f.handler) ?? 'index.main';
    const dot = handler.lastIndexOf('.');
    const envVariables: Record<string, string> = {};
    if (isPlainObject(f.envVariables)) {
      for (const [k, v] of Object.entries(f.envVariables)) {
        if (v !== undefined && v !== null) envVariables[k] = String(v);
      }
    }
    const timeout = typeof f.timeout === 'number' && f.timeout > 0 ? f.timeout : DEFAULT_TIMEOUT_S;
    const dir = str(f.dir)
      ? path.resolve(projectDir, str(f.dir) ?? '')
      : path.resolve(projectDir, functionRoot, name);
    const own = functionConfig(dir, env);
    // cloudbaserc.json wins where it defines triggers (what the tcb CLI deploys); else the function's config.json
    // (what DevTools deploys).
    const timers = timerTriggers(f.triggers) ?? timerTriggers(own.triggers) ?? [];
    const perms = isPlainObject(own.permissions) ? own.permissions.openapi : undefined;
    const openapi = Array.isArray(perms)
      ? perms.filter((x): x is string => typeof x === 'string')
      : [];
    const httpPath = str(f.path);
    functions.push({
      name,
      dir,
      module: dot > 0 ? handler.slice(0, dot) : 'index',
      exportName: dot > 0 ? handler.slice(dot + 1) : handler,
      timeoutS: timeout,
      envVariables,
      timers,
      openapi,
      ...(httpPath ? { httpPath: httpPath.startsWith('/') ? httpPath : `/${httpPath}` } : {}),
    });
  }
  return {
    envId: str(rc.envId) ?? 'local',
    functionRoot,
    functions,
    templates: loadTemplates(projectDir),
  };
}

function timerTriggers(list: unknown): TimerTrigger[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const timers: TimerTrigger[] = [];
  for (const t of list) {
    if (isPlainObject(t) && t.type === 'timer' && typeof t.config === 'string') {
      timers.push({ name: str(t.name) ?? 'timer', config: t.config });
    }
  }
  return timers;
}

/** A function folder's own `config.json` (absent or unreadable: empty). */
function functionConfig(
  dir: string,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) return {};
  try {
    const parsed = fillDeep(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown, env);
    return isPlainObject(parsed) ? parsed : {};
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A DevTools project without cloudbaserc.json: `project.config.json`'s `cloudfunctionRoot`, every sub-folder with
 * an index.js or package.json is a function (DevTools deploys them with the cloud's defaults).
 */
function devtoolsProject(projectDir: string): Record<string, unknown> | undefined {
  const file = path.join(projectDir, 'project.config.json');
  if (!fs.existsSync(file)) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const root = isPlainObject(cfg) ? str(cfg.cloudfunctionRoot) : undefined;
  if (!root) return undefined;
  const abs = path.resolve(projectDir, root);
  const names = fs.existsSync(abs)
    ? fs
        .readdirSync(abs, { withFileTypes: true })
        .filter(
          (d) =>
            d.isDirectory() &&
            (fs.existsSync(path.join(abs, d.name, 'index.js')) ||
              fs.existsSync(path.join(abs, d.name, 'package.json'))),
        )
        .map((d) => d.name)
        .sort()
    : [];
  return { functionRoot: root, functions: names.map((name) => ({ name })) };
}

/** `local-templates.json`: `[{id, keywords}]` or `{templates: [...]}`. */
function loadTemplates(projectDir: string): ProjectTemplate[] {
  const file = path.join(projectDir, TEMPLATES_FILE);
  if (!fs.existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const list = isPlainObject(raw) ? raw.templates : raw;
  if (!Array.isArray(list))
    throw new Error(`${file}: expected [{id, keywords}] or {templates: [...]}`);
  return list.map((t, i) => {
    if (
      !isPlainObject(t) ||
      typeof t.id !== 'string' ||
      !t.id ||
      !Array.isArray(t.keywords) ||
      !t.keywords.every((k) => typeof k === 'string' && /^[a-z_]+\d+$/.test(k))
    ) {
      throw new Error(
        `${file}: templates[${i}] must be {id: string, keywords: ["thing1", "time2", ...]}`,
      );
    }
    return { id: t.id, keywords: t.keywords as string[] };
  });
}

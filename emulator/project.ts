/** Reads `cloudbaserc.json` the way the tcb CLI applies it to the functions we emulate. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPlainObject } from './ejson';

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
}

export interface ProjectSpec {
  envId: string;
  functionRoot: string;
  functions: FunctionSpec[];
}

/** The CLI's code default (docs/platform-notes.md: timeout 10 even though the docs say 3). */
export const DEFAULT_TIMEOUT_S = 10;

const PLACEHOLDER = /\{\{\s*env\.([A-Za-z0-9_]+)\s*\}\}/g;

/** Fills `{{env.X}}` from `env`, then `process.env`; unknown placeholders become empty. */
export function fillPlaceholders(text: string, env: Record<string, string | undefined>): string {
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
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
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
    const timers: TimerTrigger[] = [];
    if (Array.isArray(f.triggers)) {
      for (const t of f.triggers) {
        if (isPlainObject(t) && t.type === 'timer' && typeof t.config === 'string') {
          timers.push({ name: str(t.name) ?? 'timer', config: t.config });
        }
      }
    }
    const timeout = typeof f.timeout === 'number' && f.timeout > 0 ? f.timeout : DEFAULT_TIMEOUT_S;
    const dir = str(f.dir)
      ? path.resolve(projectDir, str(f.dir) ?? '')
      : path.resolve(projectDir, functionRoot, name);
    const httpPath = str(f.path);
    functions.push({
      name,
      dir,
      module: dot > 0 ? handler.slice(0, dot) : 'index',
      exportName: dot > 0 ? handler.slice(dot + 1) : handler,
      timeoutS: timeout,
      envVariables,
      timers,
      ...(httpPath ? { httpPath: httpPath.startsWith('/') ? httpPath : `/${httpPath}` } : {}),
    });
  }
  return { envId: str(rc.envId) ?? 'local', functionRoot, functions };
}

/** cloudbaserc.json rendered the way tcb 2.12.10 does it, and checked to be what was meant. */
import { RC_FILE } from './facts';
import { TEMPLATE_KEYS } from './env-check';
import { err, isRecord, type Issue } from './issues';

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

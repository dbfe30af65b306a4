/**
 * Reads `.env` files exactly as `@cloudbase/cli` 2.12.10 does when it fills `{{env.X}}` in
 * cloudbaserc.json, so what the deploy checks is what the CLI will insert.
 *
 * Ground truth (node_modules/@cloudbase/cli/dist/standalone/cli.js):
 * - `loadEnvVariables(cwd)` parses `.env`, then `.env.local`, then `.env.<--mode>`, later files
 *   winning; `ConfigParser.parseRawConfig` then lays `process.env` over them (the environment wins,
 *   even with an empty value).
 * - The parser is the old bundled dotenv (v8): one `KEY=value` per line, `#` lines skipped, no
 *   `export` prefix (the whole line is ignored), no inline comments (`A=b # c` gives `b # c`),
 *   surrounding single or double quotes removed (double quotes also turn `\n` into a newline),
 *   unquoted values trimmed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const RE_INI_KEY_VAL = /^\s*([\w.-]+)\s*=\s*(.*)?\s*$/;
const NEWLINES_MATCH = /\n|\r|\r\n/;

export interface EnvFileNote {
  line: number;
  key?: string;
  message: string;
}

export interface ParsedEnvFile {
  values: Record<string, string>;
  /** Lines tcb ignores or reads differently from what the author probably meant. Never values. */
  notes: EnvFileNote[];
}

export function parseEnvFile(src: string): ParsedEnvFile {
  const values: Record<string, string> = {};
  const notes: EnvFileNote[] = [];
  src.split(NEWLINES_MATCH).forEach((line, idx) => {
    const lineNo = idx + 1;
    const m = RE_INI_KEY_VAL.exec(line);
    if (!m) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const key = /^(?:export\s+)?([\w.-]+)\s*=/.exec(trimmed)?.[1];
      notes.push({
        line: lineNo,
        ...(key ? { key } : {}),
        message: /^export\s/.test(trimmed)
          ? 'starts with `export`: the tcb CLI ignores this line'
          : 'is not KEY=value: the tcb CLI ignores this line',
      });
      return;
    }
    const key = m[1] ?? '';
    let val = m[2] ?? '';
    const end = val.length - 1;
    const isDoubleQuoted = val[0] === '"' && val[end] === '"';
    const isSingleQuoted = val[0] === "'" && val[end] === "'";
    if (isSingleQuoted || isDoubleQuoted) {
      val = val.substring(1, end);
      if (isDoubleQuoted) val = val.replace(/\\n/g, '\n');
    } else {
      val = val.trim();
      if (/\s#/.test(val)) {
        notes.push({
          line: lineNo,
          key,
          message: 'has an inline ` #`: the tcb CLI keeps it as part of the value',
        });
      }
    }
    values[key] = val;
  });
  return { values, notes };
}

/** The files the CLI reads, in order (we never pass `--mode`, so no `.env.<mode>`). */
export const TCB_ENV_FILES = ['.env', '.env.local'] as const;

export type EnvSource = (typeof TCB_ENV_FILES)[number] | 'environment';

export interface ResolvedEnv {
  /** What `{{env.X}}` resolves to: the files, then the process environment on top. */
  values: Record<string, string | undefined>;
  /** Where each key's value came from. */
  source: Record<string, EnvSource>;
  /** Files that exist and were read. */
  files: string[];
  notes: (EnvFileNote & { file: string })[];
}

export function resolveEnv(
  dir: string,
  processEnv: Record<string, string | undefined>,
  files: readonly string[] = TCB_ENV_FILES,
): ResolvedEnv {
  const values: Record<string, string | undefined> = {};
  const source: Record<string, EnvSource> = {};
  const read: string[] = [];
  const notes: (EnvFileNote & { file: string })[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, file), 'utf8');
    } catch {
      continue;
    }
    read.push(file);
    const parsed = parseEnvFile(text);
    for (const [k, v] of Object.entries(parsed.values)) {
      values[k] = v;
      source[k] = file as EnvSource;
    }
    for (const n of parsed.notes) notes.push({ ...n, file });
  }
  for (const [k, v] of Object.entries(processEnv)) {
    if (v === undefined) continue;
    values[k] = v;
    source[k] = 'environment';
  }
  return { values, source, files: read, notes };
}

/**
 * The repository stands alone: no tracked file imports, reads or cites a file outside it. A static
 * scan of every tracked file, the other half of the guard in test/outside-guard.js (which catches
 * what a test really opens). Checked: relative import/require specifiers, `path.join(__dirname,
 * ...)` with literal parts, relative paths in JSON configs, relative links and paths in Markdown,
 * and the names of the first design notes, which lived outside the repo (the repo's own are
 * docs/architecture.md and docs/platform-notes.md).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '..');

// Spelled in parts so this file does not cite them itself.
const OUTSIDE_DOCS = ['ARCHITECTURE' + '.md', 'PLATFORM' + '-NOTES'];

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\0').filter((f) => f && f !== 'package-lock.json');
}

const inside = (p: string) => p === ROOT || p.startsWith(ROOT + sep);

interface Finding {
  file: string;
  line: number;
  what: string;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** The parent-folder prefix, spelled so that no scan of this file (ours or another tool's) reads it as a path. */
const PARENT = ['..', ''].join('/');

/** Every path-like reference in one file, as [index, the path resolved, what it was]. */
function references(file: string, text: string): [number, string, string][] {
  const dir = dirname(join(ROOT, file));
  const refs: [number, string, string][] = [];
  const rel = (spec: string) => spec.startsWith('./') || spec.startsWith(PARENT);
  if (/\.(ts|js|mjs|cjs)$/.test(file)) {
    const specifier =
      /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|\bjest\.(?:mock|requireActual)\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;
    for (const m of text.matchAll(specifier)) {
      const spec = m[2]!;
      if (rel(spec)) refs.push([m.index, resolve(dir, spec), `import '${spec}'`]);
    }
    const joined = /\b(?:path\.)?(?:join|resolve)\(\s*__dirname((?:\s*,\s*'[^']*')+)\s*\)/g;
    for (const m of text.matchAll(joined)) {
      const parts = [...m[1]!.matchAll(/'([^']*)'/g)].map((p) => p[1]!);
      refs.push([m.index, resolve(dir, ...parts), `__dirname + ${parts.join('/')}`]);
    }
  }
  if (file.endsWith('.json')) {
    for (const m of text.matchAll(/"(\.\.?\/[^"]*)"/g)) {
      refs.push([m.index, resolve(dir, m[1]!), `"${m[1]!}"`]);
    }
  }
  if (file.endsWith('.md')) {
    for (const m of text.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/i.test(target) || target.startsWith('/')) continue;
      refs.push([m.index, resolve(dir, target), `link ${target}`]);
    }
    for (const m of text.matchAll(/`(\.\.\/[^`\s]*)`/g)) {
      refs.push([m.index, resolve(dir, m[1]!), `path ${m[1]!}`]);
    }
  }
  return refs;
}

function scan(): Finding[] {
  const findings: Finding[] = [];
  for (const file of trackedFiles()) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      continue; // deleted in the working tree
    }
    if (text.includes('\0')) continue; // binary
    for (const [index, target, what] of references(file, text)) {
      if (!inside(target)) {
        findings.push({
          file,
          line: lineOf(text, index),
          what: `${what} -> ${relative(ROOT, target)}`,
        });
      }
    }
    for (const name of OUTSIDE_DOCS) {
      let at = text.indexOf(name);
      while (at >= 0) {
        findings.push({ file, line: lineOf(text, at), what: `cites ${name}` });
        at = text.indexOf(name, at + 1);
      }
    }
  }
  return findings;
}

describe('the repository stands alone', () => {
  it('no tracked file imports, reads or cites a file outside it', () => {
    const findings = scan().map((f) => `${f.file}:${f.line}: ${f.what}`);
    expect(findings).toEqual([]);
  });

  it('the scan does see an outside reference (it can fail)', () => {
    // Built from parts, so the scan of this very file does not find them.
    const up = PARENT;
    const refs = references(
      'shared/x.test.ts',
      `import v from '${up}${up}shared/fixtures/v.json';`,
    );
    expect(refs.map(([, target]) => inside(target))).toEqual([false]);
    const md = references(
      ['docs', 'y.md'].join('/'),
      `see [notes](${up}${up}notes.md) and \`${up}${up}x/f.json\``,
    );
    expect(md.map(([, target]) => inside(target))).toEqual([false, false]);
    const q = "'";
    const code = `const f = join(__dirname, ${q}..${q}, ${q}..${q}, ${q}shared${q});`;
    expect(references('test/x.ts', code).map(([, target]) => inside(target))).toEqual([false]);
    // ...and lets an inside one through.
    expect(references('shared/x.test.ts', "import v from './fixtures/v.json';")[0]?.[1]).toBe(
      join(ROOT, 'shared', 'fixtures', 'v.json'),
    );
  });

  it('the docs the code points to exist in the repo', () => {
    const files = new Set(trackedFiles());
    for (const doc of ['docs/architecture.md', 'docs/platform-notes.md']) {
      expect(files.has(doc)).toBe(true);
    }
    // Every `docs/<name>.md` a tracked file mentions is tracked.
    const cited = new Set<string>();
    for (const file of files) {
      if (!/\.(ts|js|mjs|cjs|md|json)$/.test(file)) continue;
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'utf8');
      } catch {
        continue;
      }
      for (const m of text.matchAll(/\bdocs\/([a-z0-9-]+\.md)\b/g)) cited.add(`docs/${m[1]!}`);
    }
    expect([...cited].filter((d) => !files.has(d))).toEqual([]);
  });
});

describe('the outside guard (test/outside-guard.js)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const guard = require('./outside-guard') as {
    outsideReason(p: string): string | null;
  };
  const parent = dirname(ROOT);

  it('refuses a read beside the repository', () => {
    expect(guard.outsideReason(join(parent, 'shared', 'fixtures', 'x.json'))).toMatch(/beside/);
    expect(() => readFileSync(join(parent, 'shared', 'notes.md'))).toThrow(
      /outside the repository/,
    );
  });

  it('lets the repo, the temp folder and system paths through', () => {
    expect(guard.outsideReason(join(ROOT, 'shared', 'fixtures', 'share-texts.json'))).toBeNull();
    expect(guard.outsideReason(join(ROOT, 'node_modules', 'jest', 'package.json'))).toBeNull();
    expect(guard.outsideReason('/usr/bin/node')).toBeNull();
  });
});

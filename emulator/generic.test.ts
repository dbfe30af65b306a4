/**
 * The emulator is a generic CloudBase emulator: no file of it reaches outside emulator/ (packages
 * aside), so any CloudBase project could use it. The product mounts its own parts (the Coze
 * stand-in) from outside. ESLint says the same for imports; this also catches require() and
 * dynamic import().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = __dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory())
      return e.name === 'node_modules' || e.name === 'fixtures' ? [] : sources(p);
    return /\.(ts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier of a file: static imports and exports, require() and import(). */
function specifiers(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}

describe('emulator/ is generic', () => {
  // This file's own examples of a reach outside are not imports.
  const files = sources(ROOT).filter((f) => f !== __filename);

  it('finds its sources', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(files).toContain(join(ROOT, 'index.ts'));
  });

  it('imports nothing outside emulator/ but packages and Node built-ins', () => {
    const outside: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        if (target !== ROOT && !target.startsWith(ROOT + sep)) {
          outside.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('the check sees a reach outside', () => {
    const code = [
      "import { x } from '../shared/callback';",
      "export * from '../standin/coze-standin';",
      "const y = require('../cloudfunctions/_lib/pipeline');",
      "void import('../scripts/local-stack');",
    ].join('\n');
    expect(specifiers(code)).toEqual([
      '../shared/callback',
      '../standin/coze-standin',
      '../cloudfunctions/_lib/pipeline',
      '../scripts/local-stack',
    ]);
  });
});

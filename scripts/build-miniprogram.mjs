// Builds the mini-program into dist/miniprogram/ (the `miniprogramRoot` of project.config.json):
// - every .ts under miniprogram/ (app, pages, components, services, utils; not tests) becomes one
//   CommonJS .js beside its source path, target es2018, no eval;
// - imports between mini-program files stay `require('./x.js')`, so each module is in the package
//   once (shared state such as the watch socket stays single);
// - the repo's shared/ domain (and zod) is bundled into domain.js only: miniprogram/domain.ts is
//   the one file allowed to import ../shared (zod/mini with English messages only: shared/zod.ts);
// - .wxml/.wxss/.json/.wxs and images are copied; the total size is printed and checked.
// MINIPROGRAM_MODE=local|cloud overrides the backend mode of miniprogram/config.ts.
import { build } from 'esbuild';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  readFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcRoot = join(root, 'miniprogram');
const GATEWAY = join(srcRoot, 'domain.ts');
const ASSETS = /\.(wxml|wxss|json|wxs|png|jpe?g|gif|svg|webp)$/;
const MAX_MAIN_PACKAGE = 2 * 1024 * 1024;
/** Warn well before WeChat's limit: the main package should stay small. */
const BUDGET = 1024 * 1024;

const isTestPath = (rel) =>
  rel.split(sep).includes('test') || /\.test\.ts$/.test(rel) || rel.endsWith('.d.ts');

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(p, out);
    } else {
      out.push(p);
    }
  }
  return out;
}

const toPosix = (p) => p.split(sep).join('/');

/** Resolves a relative import the way TypeScript does: file.ts, or dir/index.ts. */
function resolveTs(fromDir, spec) {
  const base = join(fromDir, spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Keeps mini-program modules separate and shared/ behind the gateway. */
function modulesPlugin() {
  return {
    name: 'miniprogram-modules',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        if (args.kind === 'entry-point' || !args.importer.startsWith(srcRoot + sep))
          return undefined;
        const target = resolveTs(args.resolveDir, args.path);
        if (!target) return undefined;
        if (target.startsWith(srcRoot + sep)) {
          // Another mini-program module: a runtime require of its built .js.
          let rel = toPosix(relative(dirname(args.importer), target)).replace(/\.ts$/, '.js');
          if (!rel.startsWith('.')) rel = `./${rel}`;
          return { path: rel, external: true };
        }
        if (args.importer !== GATEWAY) {
          return {
            errors: [
              {
                text: `${toPosix(relative(root, args.importer))} imports ${args.path}: import the domain through miniprogram/domain.ts`,
              },
            ],
          };
        }
        return undefined;
      });
    },
  };
}

function formatKB(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export async function buildMiniprogram({
  outDir = join(root, 'dist', 'miniprogram'),
  quiet = false,
  mode = process.env.MINIPROGRAM_MODE,
} = {}) {
  if (mode !== undefined && mode !== '' && mode !== 'local' && mode !== 'cloud') {
    throw new Error(`MINIPROGRAM_MODE must be local or cloud, not ${mode}`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const files = walk(srcRoot)
    .map((abs) => ({ abs, rel: relative(srcRoot, abs) }))
    .filter(({ rel }) => !isTestPath(rel) && rel !== 'tsconfig.json');
  const entries = files.filter(({ rel }) => rel.endsWith('.ts')).map(({ abs }) => abs);

  const result = await build({
    entryPoints: entries,
    outdir: outDir,
    outbase: srcRoot,
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    // ESM entry points let esbuild drop the parts of zod the domain never uses.
    mainFields: ['module', 'main'],
    conditions: ['import', 'default'],
    target: 'es2018',
    minify: true,
    keepNames: false,
    legalComments: 'none',
    charset: 'utf8',
    define: mode ? { __MINIPROGRAM_MODE__: JSON.stringify(mode) } : {},
    plugins: [modulesPlugin()],
    metafile: true,
    logLevel: 'warning',
  });

  for (const { abs, rel } of files) {
    if (!ASSETS.test(rel)) continue;
    const dest = join(outDir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(abs, dest);
  }

  // WeChat runs no eval / new Function; make sure nothing we ship calls eval.
  const sizes = {};
  let total = 0;
  for (const abs of walk(outDir)) {
    const rel = toPosix(relative(outDir, abs));
    const bytes = statSync(abs).size;
    sizes[rel] = bytes;
    total += bytes;
    if (rel.endsWith('.js') && /\beval\s*\(/.test(readFileSync(abs, 'utf8'))) {
      throw new Error(`${rel} calls eval, which WeChat refuses`);
    }
  }
  if (total > MAX_MAIN_PACKAGE) {
    throw new Error(`main package is ${formatKB(total)}, over WeChat's 2 MB limit`);
  }
  if (!quiet) {
    const js = Object.entries(sizes).filter(([f]) => f.endsWith('.js'));
    const biggest = js.sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(
      `built miniprogram      ${formatKB(total)}  dist/miniprogram/ (${Object.keys(sizes).length} files, ` +
        `mode ${mode || 'from config.ts'}; largest: ${biggest.map(([f, b]) => `${f} ${formatKB(b)}`).join(', ')})`,
    );
    if (total > BUDGET) console.warn(`warning: main package over the ${formatKB(BUDGET)} budget`);
  }
  return { total, sizes, outputs: Object.keys(result.metafile.outputs).length };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) await buildMiniprogram();

// Bundles each cloud function with its share of shared/ into a self-contained deployable folder:
// dist/functions/<name>/{index.js, package.json, config.json}. wx-server-sdk stays external: the
// cloud installs it (installDependency) and the local stack resolves it from node_modules.
import { build } from 'esbuild';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * Each function bundle's size budget (issue 14): it is read and compiled on every cold start.
 * scripts/build.test.ts fails when a bundle is over it; the build says so too.
 */
export const FUNCTION_BUNDLE_BUDGET_BYTES = 150 * 1024;

/** Function folders: every folder under cloudfunctions/ with an index.ts, except `_`-prefixed ones. */
export function functionNames() {
  return readdirSync(join(root, 'cloudfunctions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
    .filter((d) => existsSync(join(root, 'cloudfunctions', d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/**
 * Axios runs on our adapter over node:http (cloudfunctions/_adapters/node-http.ts), so its own
 * transports stay out of the bundle. Its `browser` field already swaps the Node adapter (with
 * follow-redirects, proxy and form-data/mime-db) and the Node platform for lighter files; that map is
 * read from its package.json and applied, and the xhr and fetch adapters go the same way, to
 * `helpers/null.js`. About 18 KB less than axios' browser build, 160 KB less than its Node one.
 */
const axiosRoot = join(root, 'node_modules', 'axios');
const axiosSwaps = new Map(
  Object.entries({
    ...JSON.parse(readFileSync(join(axiosRoot, 'package.json'), 'utf8')).browser,
    './lib/adapters/xhr.js': './lib/helpers/null.js',
    './lib/adapters/fetch.js': './lib/helpers/null.js',
  }).map(([from, to]) => [join(axiosRoot, from), join(axiosRoot, to)]),
);
const axiosWithoutTransports = {
  name: 'axios-without-transports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(axiosRoot + sep)) return undefined;
      const swap = axiosSwaps.get(join(args.resolveDir, args.path));
      return swap ? { path: swap } : undefined;
    });
  },
};

export async function buildFunctions({
  outRoot = join(root, 'dist', 'functions'),
  quiet = false,
} = {}) {
  const names = functionNames();
  const sizes = {};
  for (const name of names) {
    const src = join(root, 'cloudfunctions', name);
    // Built beside the target and renamed into place: a running local stack never sees a
    // half-written function folder.
    const final = join(outRoot, name);
    const out = join(outRoot, `.${name}.${process.pid}.tmp`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    await build({
      entryPoints: [join(src, 'index.ts')],
      outfile: join(out, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      external: ['wx-server-sdk'],
      // ESM entry points let esbuild drop what is never used (most of zod and axios).
      mainFields: ['module', 'main'],
      plugins: [axiosWithoutTransports],
      minify: true,
      // Names are not kept (about 10 KB a bundle): nothing reads a bundled function's or class's
      // `name` (our errors set theirs; zod names its classes itself), and stack traces do not use it.
      keepNames: false,
      legalComments: 'none',
      logLevel: 'warning',
    });
    writeFileSync(
      join(out, 'package.json'),
      JSON.stringify(
        {
          name,
          version: rootPkg.version,
          private: true,
          main: 'index.js',
          dependencies: { 'wx-server-sdk': rootPkg.dependencies['wx-server-sdk'] },
        },
        null,
        2,
      ) + '\n',
    );
    const configPath = join(src, 'config.json');
    writeFileSync(
      join(out, 'config.json'),
      existsSync(configPath)
        ? readFileSync(configPath, 'utf8')
        : '{ "permissions": { "openapi": [] } }\n',
    );
    sizes[name] = readFileSync(join(out, 'index.js')).length;
    rmSync(final, { recursive: true, force: true });
    renameSync(out, final);
  }
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  if (!quiet) {
    for (const [name, bytes] of Object.entries(sizes)) {
      console.log(
        `built ${name.padEnd(16)} ${kb(bytes).padStart(8)}  dist/functions/${name}/index.js` +
          ` (budget ${kb(FUNCTION_BUNDLE_BUDGET_BYTES)})`,
      );
    }
  }
  for (const [name, bytes] of Object.entries(sizes)) {
    if (bytes > FUNCTION_BUNDLE_BUDGET_BYTES) {
      console.error(
        `warning: ${name} is ${kb(bytes)}, over its ${kb(FUNCTION_BUNDLE_BUDGET_BYTES)} budget (scripts/build.test.ts fails)`,
      );
    }
  }
  return sizes;
}

export const BUILD_USAGE = `usage: npm run build [-- functions]
  (no argument)  the function bundles into dist/functions/ and the mini-program into dist/miniprogram/
  functions      the function bundles only
  -h, --help     this text`;

/**
 * The command line, read with node:util's parseArgs (strict, as scripts/cli.ts reads every other
 * entry's; that helper is TypeScript and this file runs under plain node): what to build, or the
 * usage problem in words.
 */
export function readBuildArgs(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const flag = /'(-[^' ]*)/.exec(String(e?.message))?.[1];
    return {
      error:
        e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag
          ? `unknown option ${flag}`
          : String(e?.message ?? e),
    };
  }
  if (parsed.values.help) return { help: true };
  const [what = 'all', ...extra] = parsed.positionals;
  if (extra.length || !['all', 'functions'].includes(what)) {
    return { error: `unexpected argument ${extra[0] ?? what} (expected "functions" or nothing)` };
  }
  return { what };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const args = readBuildArgs(process.argv.slice(2));
  if (args.help) {
    console.log(BUILD_USAGE);
    process.exit(0);
  }
  if (args.error) {
    console.error(`npm run build: ${args.error}`);
    console.error(BUILD_USAGE);
    process.exit(2);
  }
  await buildFunctions();
  if (args.what === 'all' && existsSync(join(root, 'scripts', 'build-miniprogram.mjs'))) {
    const { buildMiniprogram } = await import('./build-miniprogram.mjs');
    await buildMiniprogram();
  }
}

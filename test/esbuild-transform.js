/**
 * Jest's TypeScript transform: esbuild (already the bundler of the functions) strips the types,
 * file by file, as `isolatedModules` allows. Type checking is `npm run typecheck`, not the tests;
 * this only saves the TypeScript compiler's start-up and per-file work in every worker, which a
 * fresh clone (no jest cache) pays for every file.
 *
 * jest.config.js passes the project's tsconfig: its target, and the class-field semantics that
 * target implies for TypeScript, so the code runs as `tsc` would emit it.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const esbuild = require('esbuild');

const THIS_FILE = fs.readFileSync(__filename);
const ESBUILD_VERSION = require('esbuild/package.json').version;

/** tsconfig.json is JSON with comments and trailing commas: esbuild's own reader does not apply here. */
function readTsconfig(file) {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    .replace(/,(\s*[}\]])/g, '$1');
  return JSON.parse(text).compilerOptions ?? {};
}

function esbuildOptions(tsconfig) {
  const compilerOptions = readTsconfig(tsconfig);
  const target = String(compilerOptions.target ?? 'ES2022').toLowerCase();
  const year = Number(/^es(\d{4})$/.exec(target)?.[1] ?? 2022);
  return {
    loader: 'ts',
    format: 'cjs',
    target: target === 'esnext' ? 'esnext' : `es${year}`,
    platform: 'node',
    sourcemap: 'inline',
    sourcesContent: false,
    tsconfigRaw: {
      compilerOptions: {
        // TypeScript's default: define semantics from ES2022 on.
        useDefineForClassFields:
          compilerOptions.useDefineForClassFields ?? (target === 'esnext' || year >= 2022),
        verbatimModuleSyntax: compilerOptions.verbatimModuleSyntax ?? false,
      },
    },
  };
}

module.exports = {
  createTransformer(transformerConfig = {}) {
    const options = esbuildOptions(transformerConfig.tsconfig);
    const optionsKey = JSON.stringify(options);
    return {
      canInstrument: false,
      getCacheKey(source, filename) {
        return createHash('sha256')
          .update(THIS_FILE)
          .update(ESBUILD_VERSION)
          .update(optionsKey)
          .update(filename)
          .update(source)
          .digest('hex');
      },
      process(source, filename) {
        const out = esbuild.transformSync(source, { ...options, sourcefile: filename });
        return { code: out.code };
      },
    };
  },
};

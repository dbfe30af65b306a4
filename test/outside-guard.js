/**
 * The repo stands alone: a test that reads a file beside the clone (a design folder, fixtures of
 * another checkout) passes on a developer's machine and fails on a fresh clone. This guard makes it
 * fail everywhere, loudly, at the read.
 *
 * Used twice by jest.config.js: as the resolver (an `import`/`require` that resolves beside the
 * repo is refused) and in setupFiles (fs reads of such a path throw). "Beside" = under the repo's
 * parent folder but outside the repo. Temporary folders, system paths and the user's
 * hidden tool folders (`~/.cache`, ...) are not "beside the repo" and stay allowed: the local stack
 * keeps its data in the temp folder and tools keep caches there.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const PARENT = path.dirname(REPO_ROOT);

function realOrSelf(p) {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}

const ROOTS = [...new Set([REPO_ROOT, realOrSelf(REPO_ROOT)])];
const TMP = realOrSelf(os.tmpdir());

const under = (p, dir) => p === dir || p.startsWith(dir + path.sep);

/** Why a path is off limits, or null when it is fine. */
function outsideReason(target) {
  if (typeof target !== 'string' || target === '') return null;
  const abs = path.resolve(target);
  if (ROOTS.some((r) => under(abs, r))) return null;
  if (!under(abs, PARENT) || abs === PARENT) return null;
  // Cloned straight into the temp folder: its siblings are the tests' own data folders.
  if (under(TMP, PARENT) && under(abs, TMP)) return null;
  const first = path.relative(PARENT, abs).split(path.sep)[0] ?? '';
  if (first.startsWith('.')) return null;
  return `${abs} is beside the repository (${REPO_ROOT}), not in it`;
}

function fail(what, target, reason) {
  const err = new Error(
    `A test reached outside the repository: ${what}(${String(target)}): ${reason}. ` +
      'Everything a test reads must live in the repo (fixtures: shared/fixtures/).',
  );
  err.code = 'E_OUTSIDE_REPO';
  return err;
}

function toPath(p) {
  if (typeof p === 'string') return p;
  // Checked by shape: a test environment (jsdom) has its own URL and Buffer classes.
  if (p && typeof p === 'object' && p.protocol === 'file:' && typeof p.href === 'string') {
    return require('node:url').fileURLToPath(p.href);
  }
  if (p && typeof p === 'object' && typeof p.toString === 'function' && ArrayBuffer.isView(p)) {
    return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8');
  }
  return null;
}

const READERS = [
  'readFileSync',
  'readFile',
  'openSync',
  'open',
  'createReadStream',
  'readdirSync',
  'readdir',
  'statSync',
  'existsSync',
];
const PROMISE_READERS = ['readFile', 'open', 'readdir', 'stat'];
const MARK = Symbol.for('shortvideo-text.outside-guard');

/** Wraps fs's read entry points once per process (jest reuses the real `fs` across test files). */
function guardFs() {
  if (fs[MARK]) return;
  fs[MARK] = true;
  const wrap = (obj, name, label) => {
    const original = obj[name];
    if (typeof original !== 'function') return;
    obj[name] = function guarded(target, ...rest) {
      const p = toPath(target);
      const reason = p === null ? null : outsideReason(p);
      if (reason) throw fail(label, p, reason);
      return original.call(this, target, ...rest);
    };
  };
  for (const n of READERS) wrap(fs, n, `fs.${n}`);
  for (const n of PROMISE_READERS) wrap(fs.promises, n, `fs.promises.${n}`);
}

/**
 * Jest resolver: the default resolution, refused when it lands beside the repo (the same rule as
 * for reads: a test may load what it built into the temp folder).
 */
function resolver(request, options) {
  const resolved = options.defaultResolver(request, options);
  if (path.isAbsolute(resolved)) {
    const reason = outsideReason(resolved);
    if (reason) {
      const err = fail('import', request, reason);
      // Jest reports a resolver's error as "Cannot find module": say why, loudly, first.
      process.stderr.write(`\n${err.message}\n`);
      throw err;
    }
  }
  return resolved;
}

module.exports = resolver;
module.exports.guardFs = guardFs;
module.exports.outsideReason = outsideReason;
module.exports.REPO_ROOT = REPO_ROOT;

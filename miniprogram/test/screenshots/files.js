/**
 * The Node side of the screenshot tests, in plain JS like ../node-bridge.js (the mini-program's
 * TypeScript has no Node types): write the rendered HTML, run the shooter, read what it wrote.
 */
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { spawnSync } = require('node:child_process');

const repoRoot = path.join(__dirname, '..', '..', '..');
/** Where `npm run screenshots` keeps the rendered HTML between its two steps. */
const htmlDir = path.join(repoRoot, '.data', 'screenshots', 'html');

function writeText(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mp-shots-'));
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs scripts/screenshots/shoot.ts with `args`; never throws (the caller reads status). */
function runShooter(args, timeoutMs) {
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const res = spawnSync(tsx, [path.join(repoRoot, 'scripts', 'screenshots', 'shoot.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return {
    status: res.status,
    stdout: res.stdout ?? '',
    stderr: res.stderr ?? String(res.error ?? ''),
  };
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function readText(file) {
  return fs.readFileSync(file, 'utf8');
}

/** Width and height of a PNG, from its IHDR chunk; null when the file is not a PNG. */
function pngSize(file) {
  const b = fs.readFileSync(file);
  if (b.length < 24 || b.toString('latin1', 1, 4) !== 'PNG') return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

module.exports = {
  repoRoot,
  htmlDir,
  writeText,
  tempDir,
  removeDir,
  runShooter,
  readJson,
  readText,
  pngSize,
};

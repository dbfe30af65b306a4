/**
 * Node-side helpers for the mini-program tests, kept in plain JS so the mini-program's TypeScript
 * program (no Node types: WeChat has no Node) stays clean; node-bridge.d.ts types what is used.
 *
 * - `nodeRequest` / `nodeConnectSocket`: `wx.request` and `wx.connectSocket` that really reach
 *   the local stack (127.0.0.1 only), for the end-to-end test;
 * - `startStack`: runs the product stack (scripts/local-stack.ts) in a child process, so the
 *   server runs under plain Node rather than inside the test's jsdom world.
 */
'use strict';
const path = require('node:path');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const { execFileSync, spawn } = require('node:child_process');
const { pathToFileURL } = require('node:url');

const miniprogramRoot = path.join(__dirname, '..');
const repoRoot = path.join(miniprogramRoot, '..');

function isLoopback(url) {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost';
}

/** `wx.request` over node:http: JSON in, JSON out, success/fail/complete like WeChat. */
function nodeRequest(options) {
  const url = new URL(options.url);
  const done = (kind, res) => {
    if (kind === 'success') options.success?.(res);
    else options.fail?.(res);
    options.complete?.(res);
  };
  if (!isLoopback(url)) {
    setTimeout(() => done('fail', { errMsg: 'request:fail tests only reach 127.0.0.1' }), 0);
    return { abort() {} };
  }
  const body =
    options.data === undefined
      ? ''
      : typeof options.data === 'string'
        ? options.data
        : JSON.stringify(options.data);
  const req = http.request(
    {
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: options.method || 'GET',
      headers: { ...(options.header || {}), 'content-length': Buffer.byteLength(body) },
      timeout: options.timeout || 10000,
    },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let data = text;
        if (options.dataType !== 'text') {
          try {
            data = JSON.parse(text);
          } catch {
            data = text;
          }
        }
        done('success', {
          statusCode: res.statusCode,
          data,
          header: res.headers,
          errMsg: 'request:ok',
        });
      });
    },
  );
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => done('fail', { errMsg: `request:fail ${e.message}` }));
  req.end(body);
  return { abort: () => req.destroy() };
}

/** `wx.connectSocket` over the `ws` package (loaded by path: jsdom would pick its browser stub). */
function nodeConnectSocket(options) {
  const WebSocket = require(path.join(repoRoot, 'node_modules', 'ws', 'index.js'));
  const url = new URL(options.url);
  const listeners = { open: [], message: [], error: [], close: [] };
  const emit = (kind, arg) => listeners[kind].slice().forEach((cb) => cb(arg));
  let ws = null;
  if (isLoopback(url)) {
    ws = new WebSocket(options.url);
    ws.on('open', () => emit('open', {}));
    ws.on('message', (data, isBinary) => emit('message', { data: isBinary ? data : String(data) }));
    ws.on('error', (e) => emit('error', { errMsg: e.message }));
    ws.on('close', (code, reason) => emit('close', { code, reason: String(reason) }));
  } else {
    setTimeout(() => emit('error', { errMsg: 'connectSocket:fail tests only reach 127.0.0.1' }), 0);
  }
  setTimeout(() => options.success?.({ errMsg: 'connectSocket:ok' }), 0);
  return {
    send(o) {
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(o.data);
        o.success?.({ errMsg: 'sendSocketMessage:ok' });
      } else {
        o.fail?.({ errMsg: 'sendSocketMessage:fail not open' });
      }
    },
    close(o = {}) {
      ws?.close(o.code || 1000, o.reason || '');
      o.success?.({ errMsg: 'closeSocket:ok' });
    },
    onOpen: (cb) => listeners.open.push(cb),
    onMessage: (cb) => listeners.message.push(cb),
    onError: (cb) => listeners.error.push(cb),
    onClose: (cb) => listeners.close.push(cb),
  };
}

function getJson(urlText) {
  return new Promise((resolve, reject) => {
    nodeRequest({
      url: urlText,
      method: 'GET',
      success: (res) => resolve(res.data),
      fail: (err) => reject(new Error(err.errMsg)),
    });
  });
}

/** Starts the product stack in a child process; resolves once it prints its address. */
function startStack({ env = {}, timeoutMs = 20000 } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-e2e-'));
  const runner = path.join(__dirname, 'stack-runner.mjs');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', runner, JSON.stringify({ dataDir, env })],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  let stderr = '';
  child.stderr.on('data', (c) => {
    stderr = (stderr + String(c)).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`local stack did not start in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (c) => {
      out += String(c);
      const m = /^READY (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited (${code})\n${stderr}`));
    });
  });
}

/** Whether the pieces the end-to-end test needs exist yet (the stack is built by colleagues). */
function stackAvailable() {
  return ['scripts/local-stack.ts', 'emulator/index.ts'].every((p) =>
    fs.existsSync(path.join(repoRoot, p)),
  );
}

/** Runs scripts/build-miniprogram.mjs into a temporary folder; answers the folder and sizes. */
function buildInto() {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-build-'));
  const script = pathToFileURL(path.join(repoRoot, 'scripts', 'build-miniprogram.mjs')).href;
  const code =
    `import(${JSON.stringify(script)}).then((m) => m.buildMiniprogram({ outDir: ${JSON.stringify(outDir)}, quiet: true }))` +
    '.then((r) => process.stdout.write(JSON.stringify(r.sizes)))';
  const out = execFileSync(process.execPath, ['-e', code], { cwd: repoRoot, encoding: 'utf8' });
  return {
    outDir,
    sizes: JSON.parse(out),
    remove: () => fs.rmSync(outDir, { recursive: true, force: true }),
  };
}

function readText(file) {
  return fs.readFileSync(file, 'utf8');
}

module.exports = {
  buildInto,
  readText,
  miniprogramRoot,
  nodeRequest,
  nodeConnectSocket,
  getJson,
  startStack,
  stackAvailable,
};

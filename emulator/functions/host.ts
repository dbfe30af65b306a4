/**
 * One function instance. Runs in its own Node process (forked with no loader, like the cloud's runtime), loads
 * the function module once, then serves one event at a time. Bundled to plain CommonJS by the pool at start.
 */
import { createRequire } from 'node:module';
import { routeCloudHosts } from './cloud-hosts';
import type { ChildMessage, InvokeMessage, ParentMessage } from './protocol';

// Older SDKs post to the cloud's fixed hosts: answer them here (cloud-hosts.ts).
const serviceUrl = (JSON.parse(process.env.TCB_CONTEXT_CNFG ?? '{}') as { URL?: string }).URL;
if (serviceUrl) routeCloudHosts(serviceUrl);

type Handler = (
  event: unknown,
  context: unknown,
  callback: (err: unknown, value?: unknown) => void,
) => unknown;

let handler: Handler | undefined;
let current: number | undefined;

function send(msg: ChildMessage, then?: () => void): void {
  if (!process.send) return;
  process.send(msg, undefined, {}, () => then?.());
}

function rss(): number {
  // rss() alone reads one number; memoryUsage() also walks the heap spaces.
  return process.memoryUsage.rss();
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    // Keep the function's own frames; the host's and Node's internals only add noise.
    const stack = (err.stack ?? `${err.name}: ${err.message}`)
      .split('\n')
      .filter(
        (l) =>
          !/^\s+at /.test(l) ||
          !(l.includes(__filename) || /node:[a-z_]/.test(l) || l.includes('(<anonymous>)')),
      );
    return stack.join('\n');
  }
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function load(file: string, exportName: string): void {
  try {
    const req = createRequire(file);
    const mod = req(file) as Record<string, unknown>;
    const fn = mod[exportName];
    if (typeof fn !== 'function')
      throw new Error(`handler export "${exportName}" is not a function in ${file}`);
    handler = fn as Handler;
    send({ type: 'ready', rss: rss() });
  } catch (e) {
    send({ type: 'load-error', message: describe(e) }, () => process.exit(1));
  }
}

function run(fn: Handler, msg: InvokeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (err: unknown, value?: unknown): void => (err ? reject(err) : resolve(value));
    try {
      const out = fn(msg.event, msg.context, callback);
      if (out && typeof (out as PromiseLike<unknown>).then === 'function') {
        (out as PromiseLike<unknown>).then(resolve, reject);
      } else if (fn.length < 3) {
        resolve(out);
      }
    } catch (e) {
      reject(e);
    }
  });
}

async function invoke(msg: InvokeMessage): Promise<void> {
  for (const k of msg.unset) delete process.env[k];
  Object.assign(process.env, msg.env);
  current = msg.id;
  try {
    if (!handler) throw new Error('function not loaded');
    const value = await run(handler, msg);
    // The cloud answers JSON: Dates become strings, undefined becomes null.
    const json = value === undefined ? 'null' : JSON.stringify(value);
    send({ type: 'result', id: msg.id, ok: true, json: json ?? 'null', rss: rss() });
  } catch (e) {
    send({ type: 'result', id: msg.id, ok: false, message: describe(e), rss: rss() });
  } finally {
    current = undefined;
  }
}

function fatal(kind: string, err: unknown): void {
  const message = `${kind}: ${describe(err)}`;
  process.stderr.write(`${message}\n`);
  // The instance is no longer trustworthy: fail the event in flight and let the pool start a fresh one.
  if (current !== undefined)
    send({ type: 'result', id: current, ok: false, message, rss: rss() }, () => process.exit(1));
  else process.exit(1);
}

process.on('uncaughtException', (e) => fatal('uncaughtException', e));
process.on('unhandledRejection', (e) => fatal('unhandledRejection', e));
process.on('disconnect', () => process.exit(0));
process.on('message', (raw: unknown) => {
  const msg = raw as ParentMessage;
  if (msg.type === 'load') load(msg.file, msg.exportName);
  else if (msg.type === 'invoke') void invoke(msg);
});
setInterval(() => send({ type: 'rss', rss: rss() }), 500).unref();

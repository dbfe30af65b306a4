/**
 * A small Node client of the local stack for scripts and tests: function calls as a given user and the live
 * document watch. Also the settings that let the unmodified server SDK talk to the stack from outside a function.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { WatchClientMessage, WatchServerMessage, WatchSnapshot } from './watch/protocol';

export type { WatchSnapshot } from './watch/protocol';

/** A failed call: `errCode`/`errMsg` as the cloud's callFunction failure (HTTP status kept for diagnostics). */
export class CallFunctionError extends Error {
  constructor(
    readonly errCode: number,
    readonly errMsg: string,
    readonly status: number,
  ) {
    super(`callFunction:fail errCode: ${errCode} | errMsg: ${errMsg}`);
    this.name = 'CallFunctionError';
  }
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `POST <url>/functions/<name>` as `openid`; resolves the function's return value. */
export async function callFunction(
  url: string,
  name: string,
  data: unknown,
  openid?: string,
  opts: { appid?: string; signal?: AbortSignal } = {},
): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (openid) headers['x-wx-openid'] = openid;
  if (opts.appid) headers['x-wx-appid'] = opts.appid;
  const res = await fetch(`${url}/functions/${encodeURIComponent(name)}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(data ?? {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await res.text();
  const body = parseJson(text);
  if (res.ok) return body;
  const err = body as { errCode?: unknown; errMsg?: unknown } | null;
  throw new CallFunctionError(
    typeof err?.errCode === 'number' ? err.errCode : -1,
    typeof err?.errMsg === 'string' ? err.errMsg : `HTTP ${res.status}`,
    res.status,
  );
}

export interface WatchError extends Error {
  code: string;
}

function watchError(code: string, message: string): WatchError {
  return Object.assign(new Error(message), { code });
}

/**
 * Watches `collection` documents matching `where` (plain equality or `{$in: [...]}`; `'{openid}'` = this user)
 * as `openid`. `onSnapshot` gets the init snapshot, then one per change. `onError` fires at most once; the watch
 * is then closed.
 */
export function watch(
  url: string,
  openid: string,
  collection: string,
  where: Record<string, unknown>,
  onSnapshot: (snapshot: WatchSnapshot) => void,
  onError: (err: WatchError) => void,
): { close(): void } {
  const watchId = randomBytes(6).toString('hex');
  const wsUrl = `${url.replace(/^http/, 'ws')}/_watch?openid=${encodeURIComponent(openid)}`;
  const ws = new WebSocket(wsUrl);
  let closed = false;
  const fail = (err: WatchError): void => {
    if (closed) return;
    closed = true;
    ws.terminate();
    onError(err);
  };
  const send = (msg: WatchClientMessage): void => ws.send(JSON.stringify(msg));
  ws.on('open', () => send({ op: 'watch', watchId, collection, where }));
  ws.on('message', (data) => {
    // The server's messages, read defensively: a field may be missing.
    let msg: Partial<WatchServerMessage> & { error?: { code?: unknown; message?: unknown } };
    try {
      msg = JSON.parse(String(data)) as typeof msg;
    } catch {
      return;
    }
    if (closed || (msg.watchId !== watchId && msg.watchId !== null)) return;
    if (msg.op === 'snapshot' && msg.snapshot) onSnapshot(msg.snapshot);
    else if (msg.op === 'error') {
      fail(
        watchError(
          String(msg.error?.code ?? 'WATCH_ERROR'),
          String(msg.error?.message ?? 'watch failed'),
        ),
      );
    }
  });
  ws.on('error', (e) => fail(watchError('CONNECTION_ERROR', e.message)));
  ws.on('close', () => fail(watchError('CONNECTION_CLOSED', 'watch connection closed')));
  return {
    close() {
      if (closed) return;
      closed = true;
      if (ws.readyState === WebSocket.OPEN) send({ op: 'close', watchId });
      ws.close();
    },
  };
}

export interface SdkInitOptions {
  serviceUrl: string;
  secretId: string;
  secretKey: string;
  env: string;
  keepalive: boolean;
}

/**
 * Options for `cloud.init(...)` outside a function (tests, scripts). Also sets `TENCENTCLOUD=true`: without it,
 * node-sdk probes `metadata.tencentyun.com` on init and on every call to learn whether it runs in Tencent Cloud.
 */
export function sdkInitOptions(adminUrl: string, env = 'local'): SdkInitOptions {
  process.env.TENCENTCLOUD = 'true';
  return {
    serviceUrl: adminUrl,
    secretId: 'local-secret-id',
    secretKey: 'local-secret-key',
    env,
    // As in a cloud function: outside one, node-sdk's keep-alive agent drops a request whose socket
    // is quiet for 9.6 s, which a busy machine reaches; Node's own agent has no such limit.
    keepalive: false,
  };
}

/** `POST <url>/_grants`: what an accepted wx.requestSubscribeMessage grants. */
export async function grantSubscriptions(
  url: string,
  openid: string,
  templateIds?: string[],
): Promise<Record<string, number>> {
  const res = await fetch(`${url}/_grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(templateIds ? { openid, templateIds } : { openid }),
  });
  const body = (await res.json()) as {
    ok?: boolean;
    grants?: Record<string, number>;
    error?: string;
  };
  if (!res.ok || !body.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body.grants ?? {};
}

/**
 * The cloud's own service hosts, answered by the emulator inside the function runtime. wx-server-sdk
 * 0.x and 1.x (tcb-admin-node), 2.0.x for database calls and 2.1.x for openapi calls post to fixed
 * hosts when they run as a cloud function (`TENCENTCLOUD_RUNENV=SCF`) and never read the address the
 * emulator gives newer SDKs (`TCB_CONTEXT_CNFG`); in the cloud those names resolve inside Tencent's
 * network. Here, in the instance's own process, a request to one of them goes to the emulator's
 * `/admin` instead (plain HTTP, same path and query), as the cloud's network would route it.
 */
import type * as Http from 'node:http';

// The modules themselves, not a bundler's copy of their exports: their `request` is replaced below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = require('node:http') as typeof Http;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const https = require('node:https') as typeof Http;

/** Read in tcb-admin-node 1.9–1.23 (src/utils/httpRequest.js) and @cloudbase/node-sdk 2.x (lib/utils). */
const CLOUD_SERVICE_HOSTS = [
  'tcb-admin.tencentyun.com',
  'tcb-admin.tencentcloudapi.com',
  'tcb-open.tencentyun.com',
  'tcb-open.tencentcloudapi.com',
];

type RequestFn = typeof Http.request;

interface Target {
  hostname: string;
  port: number;
  /** Host header value. */
  host: string;
}

function hostOf(options: Http.RequestOptions | URL | string): string | undefined {
  if (typeof options === 'string') return new URL(options).hostname;
  if (options instanceof URL) return options.hostname;
  return (options.hostname ?? options.host ?? undefined)?.replace(/:\d+$/, '') ?? undefined;
}

/** The request's options as plain `http` options aimed at the emulator; its path and query kept. */
function redirected(
  url: URL | string | undefined,
  options: Http.RequestOptions,
  target: Target,
): Http.RequestOptions {
  const fromUrl = url === undefined ? undefined : typeof url === 'string' ? new URL(url) : url;
  const path = options.path ?? (fromUrl ? `${fromUrl.pathname}${fromUrl.search}` : '/');
  const headers: Http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (k.toLowerCase() !== 'host' && v !== undefined) headers[k] = v;
  }
  headers.host = target.host;
  const out: Http.RequestOptions = {
    method: options.method ?? 'GET',
    hostname: target.hostname,
    port: target.port,
    path,
    headers,
    // An https agent cannot carry a plain HTTP request: the global one serves it.
    agent: undefined,
  };
  if (options.timeout !== undefined) out.timeout = options.timeout;
  if (options.signal) out.signal = options.signal;
  return out;
}

/**
 * Sends requests for the cloud's service hosts to `adminUrl`'s server instead. Patches `request`
 * and `get` of `http` and `https` in this process (the `request` package and axios both call them).
 */
export function routeCloudHosts(adminUrl: string): void {
  const admin = new URL(adminUrl);
  const target: Target = {
    hostname: admin.hostname.replace(/^\[|\]$/g, ''),
    port: Number(admin.port || 80),
    host: admin.host,
  };
  const originalRequest: RequestFn = http.request;
  const wrap = (original: RequestFn): RequestFn =>
    function request(this: unknown, ...args: unknown[]): Http.ClientRequest {
      const [first, second, third] = args;
      let url: URL | string | undefined;
      let options: Http.RequestOptions;
      let callback: ((res: Http.IncomingMessage) => void) | undefined;
      if (typeof first === 'string' || first instanceof URL) {
        url = first;
        if (typeof second === 'function') {
          options = {};
          callback = second as typeof callback;
        } else {
          options = (second ?? {}) as Http.RequestOptions;
          callback = third as typeof callback;
        }
      } else {
        options = (first ?? {}) as Http.RequestOptions;
        callback = second as typeof callback;
      }
      const host = url !== undefined ? hostOf(url) : hostOf(options);
      if (!host || !CLOUD_SERVICE_HOSTS.includes(host.toLowerCase())) {
        return (original as (...a: unknown[]) => Http.ClientRequest).apply(this, args);
      }
      const opts = redirected(url, options, target);
      return callback ? originalRequest(opts, callback) : originalRequest(opts);
    } as RequestFn;
  const httpRequest = wrap(http.request);
  const httpsRequest = wrap(https.request);
  const get = (request: RequestFn): typeof Http.get =>
    ((...args: Parameters<RequestFn>) => {
      const req = request(...args);
      req.end();
      return req;
    }) as typeof Http.get;
  (http as { request: unknown }).request = httpRequest;
  (http as { get: unknown }).get = get(httpRequest);
  (https as { request: unknown }).request = httpsRequest;
  (https as { get: unknown }).get = get(httpsRequest);
}

/**
 * The emulator's front door: what every request passes before any route (built-in, a product's
 * `extraRoutes`, HTTP access) and every WebSocket upgrade sees it. The local stack holds every user's
 * data and can start paid work, and a browser on this machine can reach it: so a request must name
 * this server in `Host` (DNS rebinding), must not come from a foreign web page (`Origin`), and its path
 * must decode. README.md ("The front door") says what passes.
 */
import type { IncomingMessage } from 'node:http';

/**
 * WeChat's own origin. A mini-program's `wx.request` carries the fixed, unsettable
 * `Referer: https://servicewechat.com/{appid}/{version}/page-frame.html` (`{version}` is `devtools` in
 * WeChat DevTools, `0` for a development or trial build); no web page can send this origin.
 */
const WECHAT_ORIGIN = 'https://servicewechat.com';

export interface FrontDoorOptions {
  /** The address the server is bound to (`127.0.0.1`, `::1`, `0.0.0.0`, a name...). */
  host: string;
  port: number;
  /**
   * Further names this server may be reached by (`192.168.1.20`, `devbox.lan`, `name:port`), e.g. for a
   * phone on the LAN with the stack bound to 0.0.0.0. Without a port any port passes.
   */
  allowedHosts?: readonly string[];
}

export interface Refusal {
  status: number;
  error: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

/** `host[:port]` as in a Host header or an origin, lower case, IPv6 without brackets. */
function splitHost(value: string): { name: string; port: string | null } | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return null;
  return { name: (m[1] ?? m[2] ?? '').toLowerCase().replace(/\.$/, ''), port: m[3] ?? null };
}

function isLoopbackName(name: string): boolean {
  return (
    LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name)
  );
}

/** Whether `hostPort` (a Host header's value) names this server. */
function hostAllowed(hostPort: string | undefined, opts: FrontDoorOptions): boolean {
  if (!hostPort) return false;
  const h = splitHost(hostPort);
  if (!h) return false;
  const port = h.port ?? '80';
  for (const extra of opts.allowedHosts ?? []) {
    const e = splitHost(extra);
    if (e && e.name === h.name && (e.port === null || e.port === port)) return true;
  }
  if (port !== String(opts.port)) return false;
  const bound = opts.host.toLowerCase().replace(/^\[|\]$/g, '');
  if (isLoopbackName(h.name)) return true;
  return !ANY_ADDRESS.has(bound) && h.name === bound;
}

/** Whether a request with this `Origin` may act here: this server's own pages and WeChat's. */
function originAllowed(origin: string, opts: FrontDoorOptions): boolean {
  if (origin === WECHAT_ORIGIN) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // `null` (a sandboxed frame, a file: page) and anything unreadable
  }
  if (u.protocol !== 'http:' || u.origin !== origin) return false;
  return hostAllowed(u.host, opts);
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

/**
 * Checks `Host`, `Origin` (or, without one, a `Referer` on a request that changes something) and the
 * path's percent-encoding. Answers why a request is refused, or null when it may go on.
 */
export function frontDoorRefusal(req: IncomingMessage, opts: FrontDoorOptions): Refusal | null {
  const host = firstHeader(req, 'host');
  if (!hostAllowed(host, opts)) {
    return {
      status: 421,
      error: `host not allowed: ${String(host)} (this server answers to loopback names and its bound address; add others with allowedHosts / LOCAL_STACK_ALLOWED_HOSTS)`,
    };
  }
  const origin = firstHeader(req, 'origin');
  if (origin !== undefined && !originAllowed(origin, opts)) {
    return { status: 403, error: `cross-origin request refused (Origin: ${origin})` };
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const referer = firstHeader(req, 'referer');
  if (origin === undefined && referer && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
    let refOrigin = '';
    try {
      refOrigin = new URL(referer).origin;
    } catch {
      // unreadable: refused below
    }
    if (!originAllowed(refOrigin, opts)) {
      return { status: 403, error: `cross-origin request refused (Referer: ${referer})` };
    }
  }
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  try {
    decodeURIComponent(pathname);
  } catch {
    return { status: 400, error: `malformed percent-encoding in the path: ${pathname}` };
  }
  return null;
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether the request carries a body (a length above 0, or a chunked one). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * The emulator's HTTP routing: one table of routes, tried in order (the first match answers), one
 * body reader with a size limit and one JSON writer. A route is one table entry; see README.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `url.pathname` */
  path: string;
  /** Upper case. */
  method: string;
  /** The whole body, or null when it is over `limit` bytes (the rest is drained, not kept). */
  body(limit: number): Promise<Buffer | null>;
  /** Answers `body` as JSON with `status`. */
  json(status: number, body: unknown): void;
  /** A request header's first value; undefined when absent or empty. */
  header(name: string): string | undefined;
}

export interface Route {
  /** Upper-case method; omitted: any method. */
  method?: string;
  /** The exact path, e.g. `/health`. */
  path?: string;
  /** A path prefix: matches itself and everything below it (`/coze` matches `/coze/v1/...`). */
  prefix?: string;
  /**
   * A browser may call it from another origin (the mini-program in DevTools, a console page): CORS
   * headers on every answer of this path, whatever the method, and 204 to a preflight OPTIONS.
   */
  cors?: boolean;
  handle(ctx: RequestContext): void | Promise<void>;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-wx-openid, x-wx-appid, x-wx-unionid',
};

/** The body, or null when it is over `limit` bytes (the rest is drained, not buffered). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function requestHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

/** Whether `path` is `prefix` or below it. */
export function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function pathMatches(route: Route, path: string): boolean {
  if (route.path !== undefined) return path === route.path;
  if (route.prefix !== undefined) return underPrefix(path, route.prefix);
  return false;
}

/**
 * The server's request listener: CORS for the paths that allow it, then the first route whose
 * method and path match, else 404. A handler that throws answers 500 (and is logged).
 */
export function createRouter(
  routes: readonly Route[],
  log: (line: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (routes.some((r) => r.cors && pathMatches(r, path))) {
      for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
      if (method === 'OPTIONS') {
        res.writeHead(204).end();
        return;
      }
    }
    const found = routes.find(
      (r) => (r.method === undefined || r.method === method) && pathMatches(r, path),
    );
    if (!found) return sendJson(res, 404, { error: 'not found', path });
    await found.handle({
      req,
      res,
      url,
      path,
      method,
      body: (limit) => readBody(req, limit),
      json: (status, body) => sendJson(res, status, body),
      header: (name) => requestHeader(req, name),
    });
  }

  return (req, res) => {
    route(req, res).catch((e: unknown) => {
      log(`request ${req.method} ${req.url} failed: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  };
}

/**
 * The emulator's HTTP routing: one table of routes, tried in order (the first match answers), one
 * body reader with a size limit and one JSON writer. A route is one table entry; see README.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { TOO_DEEP, jsonTooDeep } from '../database/ejson';
import { type FrontDoorOptions, frontDoorRefusal, hasBody, mediaType } from './front-door';

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
  /**
   * The media types a request body may have. Default `['application/json']`: such a body is read
   * whole by the router (at most `bodyLimit`), refused when nested deeper than MAX_JSON_DEPTH, and
   * handed on. `'any'`: the handler reads the raw body itself (HTTP access, storage uploads).
   */
  accepts?: readonly string[] | 'any';
  /** Bytes the router reads of a JSON body; over it the handler's `body()` answers null. Default 6 MiB. */
  bodyLimit?: number;
  handle(ctx: RequestContext): void | Promise<void>;
}

const JSON_ONLY = ['application/json'] as const;
/** A cloud gateway's request limit. */
const DEFAULT_BODY_LIMIT = 6 * 1024 * 1024;

const CORS_HEADERS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-wx-openid, x-wx-appid, x-wx-unionid',
  vary: 'Origin',
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

function requestHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
}

/** Whether `path` is `prefix` or below it. */
function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function pathMatches(route: Route, path: string): boolean {
  if (route.path !== undefined) return path === route.path;
  if (route.prefix !== undefined) return underPrefix(path, route.prefix);
  return false;
}

/**
 * The same request with its body already read: what a handler that reads `req` itself (a product's
 * extra route) gets once the router has read and checked a JSON body.
 */
function replayed(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Readable.from(body.length ? [body] : []);
  return Object.assign(copy, {
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    socket: req.socket,
    complete: true,
  }) as unknown as IncomingMessage;
}

/** The route's body as the router reads it: refused, or read (null when over the limit), or left to the handler. */
async function readRouteBody(
  route: Route,
  req: IncomingMessage,
): Promise<{ refused: { status: number; error: string } } | { body: Buffer | null } | null> {
  if (route.accepts === 'any' || !hasBody(req)) return null;
  const accepts = route.accepts ?? JSON_ONLY;
  const type = mediaType(requestHeader(req, 'content-type'));
  if (!accepts.includes(type)) {
    // Drain it, so the connection can serve the next request.
    await readBody(req, 0);
    return {
      refused: {
        status: 415,
        error: `content-type must be ${accepts.join(' or ')} (got ${type || 'none'})`,
      },
    };
  }
  const body = await readBody(req, route.bodyLimit ?? DEFAULT_BODY_LIMIT);
  if (body && type === 'application/json' && jsonTooDeep(body)) {
    return { refused: { status: 400, error: `invalid JSON body: ${TOO_DEEP}` } };
  }
  return { body };
}

/**
 * The server's request listener: the front door (Host, Origin, the path's encoding), CORS for the
 * paths that allow it, then the first route whose method and path match, else 404; a JSON body is
 * checked (content type, nesting) before its handler runs. A handler that throws answers 500 (and is
 * logged).
 */
export function createRouter(
  routes: readonly Route[],
  log: (line: string) => void,
  door: FrontDoorOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = frontDoorRefusal(req, door);
    if (refusal) {
      await readBody(req, 0);
      return sendJson(res, refusal.status, { error: refusal.error });
    }
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (routes.some((r) => r.cors && pathMatches(r, path))) {
      const origin = requestHeader(req, 'origin');
      // The front door let only this server's own origin or WeChat's through.
      if (origin) res.setHeader('access-control-allow-origin', origin);
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
    const read = await readRouteBody(found, req);
    if (read && 'refused' in read) {
      return sendJson(res, read.refused.status, { error: read.refused.error });
    }
    const body = read?.body;
    const limitBody = async (limit: number): Promise<Buffer | null> => {
      if (read === null) return readBody(req, limit);
      return body && body.length <= limit ? body : null;
    };
    await found.handle({
      req: body ? replayed(req, body) : req,
      res,
      url,
      path,
      method,
      body: limitBody,
      json: (status, value) => sendJson(res, status, value),
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

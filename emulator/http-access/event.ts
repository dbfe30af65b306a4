/** HTTP access (云函数 HTTP 访问服务): builds the integration event and turns the answer into an HTTP response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { isPlainObject } from '../database/ejson';

const TEXT_TYPES =
  /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded|graphql)\b)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(body: Buffer): boolean {
  try {
    utf8.decode(body);
    return true;
  } catch {
    return false;
  }
}

/** Body travels as a UTF-8 string when it is text, else base64 with `isBase64Encoded: true`. */
function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string; isBase64Encoded: boolean } {
  if (!body.length) return { body: '', isBase64Encoded: false };
  const textual = contentType === undefined || contentType === '' || TEXT_TYPES.test(contentType);
  if (textual && isUtf8(body)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}

export function buildHttpEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  routePath: string,
  envId: string,
): unknown {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    (multiValueHeaders[name] ??= []).push(value);
  }
  for (const [name, values] of Object.entries(multiValueHeaders)) headers[name] = values.join(', ');
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    queryStringParameters[k] = v;
    (multiValueQueryStringParameters[k] ??= []).push(v);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: {},
    requestContext: {
      serviceId: 'local',
      envId,
      path: routePath,
      httpMethod: method,
      requestId: randomUUID(),
      identity: {},
      sourceIp: req.socket.remoteAddress ?? '',
      stage: 'release',
    },
    ...encodeBody(body, req.headers['content-type']),
  };
}

/** `{statusCode, headers, body, isBase64Encoded}` is an integration response; anything else is 200 JSON. */
export function writeHttpResult(res: ServerResponse, value: unknown): void {
  if (isPlainObject(value) && typeof value.statusCode === 'number') {
    const headers: Record<string, string | string[]> = {};
    if (isPlainObject(value.headers)) {
      for (const [k, v] of Object.entries(value.headers)) {
        if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(String);
        else if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
      }
    }
    if (isPlainObject(value.multiValueHeaders)) {
      for (const [k, v] of Object.entries(value.multiValueHeaders)) {
        if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(String);
      }
    }
    const raw = value.body;
    let body: Buffer;
    if (raw === undefined || raw === null) body = Buffer.alloc(0);
    else if (typeof raw === 'string')
      body = Buffer.from(raw, value.isBase64Encoded === true ? 'base64' : 'utf8');
    else body = Buffer.from(JSON.stringify(raw), 'utf8');
    headers['content-type'] ??= 'application/json; charset=utf-8';
    headers['content-length'] = String(body.length);
    res.writeHead(value.statusCode, headers);
    res.end(body);
    return;
  }
  if (typeof value === 'string') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(value);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value ?? null));
}

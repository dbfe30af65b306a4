/** HTTP access: the event CloudBase hands a function behind a route, and the answer it expects. */

export interface HttpEvent {
  httpMethod?: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The exact bytes the caller sent: signatures are computed over these, never a re-encoding. */
export function rawBody(event: HttpEvent): Buffer {
  const body = typeof event.body === 'string' ? event.body : '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

export function lowerCaseHeaders(event: HttpEvent): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    out[k.toLowerCase()] = Array.isArray(v) ? v[0] : v;
  }
  return out;
}

export function json(statusCode: number, body: object): HttpAnswer {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** The answer while the function cannot work (e.g. a bad setting): retry later, nothing more. */
export function unavailable(): HttpAnswer {
  const answer = json(503, {
    ok: false,
    error: { code: 'UNAVAILABLE', message: 'try again later' },
  });
  answer.headers['retry-after'] = '60';
  return answer;
}

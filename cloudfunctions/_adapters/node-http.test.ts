import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios, { AxiosError } from 'axios';
import { nodeHttpAdapter } from './node-http';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let server: http.Server;
let base: string;
let handler: Handler;
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = () => axios.create({ adapter: nodeHttpAdapter, baseURL: base });

const failure = async (p: Promise<unknown>): Promise<AxiosError> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof AxiosError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
};

describe('nodeHttpAdapter', () => {
  it('posts the transformed body with its length and headers, and answers status, headers and text', async () => {
    let seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    handler = (req, res, body) => {
      seen = { method: req.method, headers: req.headers, body };
      res.setHeader('x-answer', 'yes');
      res.end('{"code":0}');
    };
    const res = await client().post(
      '/v1/run?x=1',
      { 工作流: 'w' },
      { headers: { Authorization: 'Bearer t' } },
    );
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('{"工作流":"w"}');
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength(seen.body ?? '')));
    expect(seen.headers?.['content-type']).toMatch(/application\/json/);
    expect(seen.headers?.authorization).toBe('Bearer t');
    expect(res.status).toBe(200);
    expect(res.headers['x-answer']).toBe('yes');
    // axios' own response transform still runs after the adapter: JSON text becomes an object.
    expect(res.data).toEqual({ code: 0 });
  });

  it('sends a GET without a body and keeps the query axios built', async () => {
    let url = '';
    let length: string | undefined = 'unset';
    handler = (req, res) => {
      url = req.url ?? '';
      length = req.headers['content-length'];
      res.end('ok');
    };
    const res = await client().get('/history', {
      params: { page: 2, id: 'a b' },
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
    });
    expect(url).toBe('/history?page=2&id=a+b');
    expect(length).toBeUndefined();
    expect(res.data).toBe('ok');
  });

  it('reuses one kept-alive connection for requests in a row', async () => {
    handler = (_req, res) => res.end('ok');
    const c = client();
    await c.get('/a');
    const before = connections;
    await c.get('/b');
    await c.get('/c');
    expect(connections).toBe(before);
  });

  it('rejects a status validateStatus refuses, with the answer attached', async () => {
    handler = (_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    };
    const err = await failure(client().get('/missing'));
    expect(err.code).toBe(AxiosError.ERR_BAD_REQUEST);
    expect(err.response?.status).toBe(404);
    expect(err.response?.data).toBe('nope');
  });

  it('answers any status when validateStatus accepts all', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    };
    const res = await client().get('/busy', { validateStatus: () => true });
    expect(res.status).toBe(503);
    expect(res.data).toBe('busy');
  });

  it('times out a server that never answers with ECONNABORTED', async () => {
    handler = () => undefined;
    const err = await failure(client().get('/silent', { timeout: 50 }));
    expect(err.code).toBe('ECONNABORTED');
    expect(err.message).toBe('timeout of 50ms exceeded');
  });

  it('says ETIMEDOUT when asked to clarify timeouts', async () => {
    handler = () => undefined;
    const err = await failure(
      client().get('/silent', { timeout: 50, transitional: { clarifyTimeoutError: true } }),
    );
    expect(err.code).toBe('ETIMEDOUT');
  });

  it('stops on the caller signal, as a cancel', async () => {
    handler = () => undefined;
    const ac = new AbortController();
    const p = client().get('/silent', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const err = await failure(p);
    expect(axios.isCancel(err)).toBe(true);
    expect(err.code).toBe('ERR_CANCELED');
  });

  it('does not start with a signal already aborted', async () => {
    let reached = false;
    handler = (_req, res) => {
      reached = true;
      res.end();
    };
    const err = await failure(client().get('/x', { signal: AbortSignal.abort() }));
    expect(axios.isCancel(err)).toBe(true);
    expect(reached).toBe(false);
  });

  it('refuses an answer over maxContentLength', async () => {
    handler = (_req, res) => res.end('x'.repeat(5000));
    const err = await failure(client().get('/big', { maxContentLength: 1000 }));
    expect(err.code).toBe(AxiosError.ERR_BAD_RESPONSE);
    expect(err.message).toBe('maxContentLength size of 1000 exceeded');
  });

  it('gives a refused connection the system code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(
      axios.create({ adapter: nodeHttpAdapter }).get(`http://127.0.0.1:${port}/`),
    );
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('answers a Buffer for arraybuffer', async () => {
    handler = (_req, res) => res.end(Buffer.from([1, 2, 3]));
    const res = await client().get<Buffer>('/bin', { responseType: 'arraybuffer' });
    expect(Buffer.isBuffer(res.data)).toBe(true);
    expect([...res.data]).toEqual([1, 2, 3]);
  });

  it('refuses a protocol other than http(s) and a body it cannot send', async () => {
    const c = axios.create({ adapter: nodeHttpAdapter });
    expect((await failure(c.get('ftp://127.0.0.1/x'))).code).toBe(AxiosError.ERR_BAD_REQUEST);
    const stream = await failure(
      c.post(`${base}/x`, new Uint16Array([1]), { transformRequest: [(d: unknown) => d] }),
    );
    expect(stream.code).toBe(AxiosError.ERR_BAD_REQUEST);
  });
});

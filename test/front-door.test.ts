/**
 * The local stack's own doors (issue 21, items 2 and 12), on the real server with the console and
 * the Coze stand-in mounted as `npm start` mounts them: a foreign web page, a rebound DNS name or a
 * malformed request must not drive it, and the mini-program in WeChat DevTools must still reach it.
 */
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { callFunction } from '../emulator/client';
import { freePort, startProductStack, type ProductStack } from '../scripts/local-stack';
import { FAST_ENV } from './support/fault-world';

const DEADLINE_MS = 120_000;
const EVIL = 'http://evil.example';
const DEVTOOLS_REFERER = 'https://servicewechat.com/wx0000000000000000/devtools/page-frame.html';
const SHARE = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/ :9pm';

let product: ProductStack;
let dataDir: string;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'svt-front-door-'));
  product = await startProductStack({
    port: await freePort(),
    dataDir,
    env: { ...FAST_ENV, COZE_STANDIN_CALLBACK: 'drop' },
    timersEnabled: false,
    instancesPerFunction: 1,
    log: (l) => logs.push(l),
  });
}, DEADLINE_MS);

afterAll(async () => {
  await product?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown> | null;
}

/** One request with exactly these headers (fetch would not let a test set Host). */
function send(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body ?? '';
    const req = http.request(
      {
        host: '127.0.0.1',
        port: product.port,
        method,
        path,
        agent: false,
        headers: {
          host: `127.0.0.1:${product.port}`,
          'content-length': Buffer.byteLength(body),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | null;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const tasksOf = (openid: string) =>
  product.stack.data.find('tasks', { _openid: openid }).map((t) => t._id);

describe('Host: only this server’s own names (DNS rebinding)', () => {
  it('refuses a foreign Host on every kind of route, the console’s data first', async () => {
    for (const path of ['/_console/api/tasks', '/_outbox', '/health', '/coze/v1/x', '/']) {
      const a = await send('GET', path, { headers: { host: `attacker.test:${product.port}` } });
      expect([path, a.status]).toEqual([path, 421]);
      expect(a.json?.error).toMatch(/host not allowed: attacker\.test/);
    }
  });

  it('answers loopback names and addresses on its own port', async () => {
    for (const host of [`127.0.0.1:${product.port}`, `localhost:${product.port}`]) {
      expect((await send('GET', '/health', { headers: { host } })).status).toBe(200);
    }
    // Another port is another server: a rebinding page on :80 names no port.
    expect((await send('GET', '/health', { headers: { host: 'localhost' } })).status).toBe(421);
  });
});

describe('Origin: no foreign web page drives the stack', () => {
  // A cross-origin "simple" request: no preflight, so only the server can stop it.
  const simple = { origin: EVIL, 'content-type': 'text/plain' };

  it('refuses a foreign simple POST to every writing route, and nothing is written', async () => {
    const victim = 'o_front_door_victim';
    const grantsBefore = JSON.stringify(product.stack.grants());
    const settingsBefore = JSON.stringify(product.standin?.settings());
    const cases: [string, string][] = [
      ['/_console/api/submit', JSON.stringify({ openid: victim, shareText: SHARE })],
      ['/_console/api/standin', JSON.stringify({ delayMs: 9999 })],
      ['/_console/api/grants', JSON.stringify({ openid: victim })],
      ['/_console/api/sweep', ''],
      ['/_grants', JSON.stringify({ openid: victim })],
      ['/functions/extractText', JSON.stringify({ action: 'create', shareText: SHARE })],
      [
        '/admin?env=local&seqId=x',
        JSON.stringify({
          action: 'database.insertDocument',
          collectionName: 'tasks',
          data: JSON.stringify({ _openid: victim, phishing: true }),
        }),
      ],
    ];
    for (const [path, body] of cases) {
      const a = await send('POST', path, { headers: simple, body });
      expect([path, a.status]).toEqual([path, 403]);
      expect(a.json?.error).toBe(`cross-origin request refused (Origin: ${EVIL})`);
    }
    expect(tasksOf(victim)).toEqual([]);
    expect(JSON.stringify(product.stack.grants())).toBe(grantsBefore);
    expect(JSON.stringify(product.standin?.settings())).toBe(settingsBefore);
    expect(product.stack.stats().invocations.taskSweeper ?? 0).toBe(0);
  });

  it('refuses a foreign page reading with CORS, and its WebSocket', async () => {
    const read = await send('GET', '/_outbox', { headers: { origin: EVIL } });
    expect(read.status).toBe(403);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await send('OPTIONS', '/functions/extractText', {
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${product.port}/_watch?openid=o_x`, {
        origin: EVIL,
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(403);
  });

  it('refuses a Referer-only foreign POST (no Origin sent)', async () => {
    const a = await send('POST', '/_grants', {
      headers: { ...JSON_TYPE, referer: `${EVIL}/page` },
      body: JSON.stringify({ openid: 'o_referer' }),
    });
    expect(a.status).toBe(403);
  });

  it('serves the console page’s own origin', async () => {
    const a = await send('POST', '/_console/api/standin', {
      headers: { ...JSON_TYPE, origin: product.url },
      body: JSON.stringify({}),
    });
    expect(a.status).toBe(200);
  });
});

describe('the mini-program in WeChat DevTools keeps working', () => {
  it('calls a function with DevTools’ fixed Referer (and WeChat’s origin) and watches', async () => {
    const openid = 'o_front_door_devtools';
    const variants: Record<string, string>[] = [
      { referer: DEVTOOLS_REFERER },
      { referer: DEVTOOLS_REFERER, origin: 'https://servicewechat.com' },
    ];
    for (const headers of variants) {
      const a = await send('POST', '/functions/extractText', {
        headers: { ...JSON_TYPE, 'x-wx-openid': openid, ...headers },
        body: JSON.stringify({ action: 'list' }),
      });
      expect(a.status).toBe(200);
      expect(a.json?.ok).toBe(true);
      if (headers.origin) {
        expect(a.headers['access-control-allow-origin']).toBe('https://servicewechat.com');
      }
    }
    for (const origin of [undefined, 'https://servicewechat.com']) {
      const opened = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${product.port}/_watch?openid=${openid}`, {
          ...(origin ? { origin } : {}),
        });
        ws.on('open', () => {
          ws.close();
          resolve(true);
        });
        ws.on('unexpected-response', () => resolve(false));
        ws.on('error', () => undefined);
      });
      expect(opened).toBe(true);
    }
  });
});

describe('content types: a JSON route takes JSON only', () => {
  it('answers 415 to a text/plain body on each JSON route, even from this machine', async () => {
    for (const path of [
      '/functions/extractText',
      '/_grants',
      '/admin?env=local&seqId=x',
      '/_console/api/standin',
      '/_console/api/submit',
      '/coze/v1/workflow/run',
    ]) {
      const a = await send('POST', path, {
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ openid: 'o_plain', action: 'list' }),
      });
      expect([path, a.status]).toEqual([path, 415]);
      expect(a.json?.error).toMatch(
        /^content-type must be application\/json( or multipart\/form-data)? \(got text\/plain\)$/,
      );
    }
    const none = await send('POST', '/_grants', { body: '{"openid":"o_plain"}' });
    expect(none.status).toBe(415);
    expect(product.stack.grants().o_plain).toBeUndefined();
  });

  it('lets HTTP access take a raw body, as the cloud’s gateway does', async () => {
    const a = await send('POST', '/webhook/coze', {
      headers: { 'content-type': 'text/plain' },
      body: 'not json at all',
    });
    // The function itself answers (an unsigned callback is refused by it, not by the door).
    expect(a.status).not.toBe(415);
    expect(a.status).not.toBe(403);
    expect(logs.some((l) => l.includes('invoke webhookHandler (http)'))).toBe(true);
  });
});

describe('bad input answers 400, quickly and quietly', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const deep = nested(100_000);
  const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);

  it('refuses a malformed percent-encoding in the path', async () => {
    for (const path of ['/functions/%ZZ', '/functions/%E4%B8', '/_console/api/tasks/%']) {
      const method = path.startsWith('/functions') ? 'POST' : 'GET';
      const a = await send(method, path, {
        headers: JSON_TYPE,
        body: method === 'POST' ? '{}' : '',
      });
      expect([path, a.status]).toEqual([path, 400]);
      expect(a.json?.error).toBe(`malformed percent-encoding in the path: ${path}`);
    }
  });

  it('refuses a JSON body nested 100,000 deep on every JSON route', async () => {
    for (const path of [
      '/functions/extractText',
      '/admin?env=local&seqId=x',
      '/_grants',
      '/_console/api/submit',
      '/_console/api/standin',
      '/coze/v1/workflow/run',
    ]) {
      for (const body of [deep, deepObject]) {
        const a = await send('POST', path, { headers: JSON_TYPE, body });
        expect([path, a.status]).toEqual([path, 400]);
      }
      // Under every route's size limit (the 64 KiB of /_grants included): refused for its depth.
      const a = await send('POST', path, { headers: JSON_TYPE, body: nested(101) });
      expect([path, a.json?.error]).toEqual([
        path,
        'invalid JSON body: JSON nested deeper than 100 levels',
      ]);
    }
  });

  it('refuses a deep EJSON parameter and a deep callFunction event inside /admin', async () => {
    const query = await send('POST', '/admin?env=local&seqId=x', {
      headers: JSON_TYPE,
      body: JSON.stringify({
        action: 'database.getDocument',
        collectionName: 'tasks',
        query: deep,
      }),
    });
    expect(query.json).toMatchObject({
      code: 'INVALID_PARAM',
      message: 'query is not valid EJSON: JSON nested deeper than 100 levels',
    });
    const call = await send('POST', '/admin?env=local&seqId=x', {
      headers: JSON_TYPE,
      body: JSON.stringify({
        action: 'functions.invokeFunction',
        function_name: 'extractText',
        request_data: deep,
      }),
    });
    expect(call.json).toMatchObject({
      code: 'INVALID_PARAM',
      message: 'request_data must be JSON: JSON nested deeper than 100 levels',
    });
  });

  it('logged no stack trace for any of it, and still serves', async () => {
    expect(logs.filter((l) => /RangeError|Maximum call stack|URIError|\n\s+at /.test(l))).toEqual(
      [],
    );
    const answer = await callFunction(product.url, 'extractText', { action: 'list' }, 'o_after');
    expect(answer).toMatchObject({ ok: true });
  });
});

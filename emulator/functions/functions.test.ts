/** Contract: the function runtime, HTTP access and timers, with plain-JS fixture functions using wx-server-sdk. */
import { createHmac, randomBytes } from 'node:crypto';
import { CallFunctionError, callFunction } from '../client';
import { FunctionCallError, type LocalStack } from '..';
import {
  FIXTURE_ENV,
  adminCall,
  removeDir,
  startFixtureStack,
  tempDataDir,
  waitFor,
} from '../testing';

jest.setTimeout(60_000);

interface EchoAnswer {
  ctx: Record<string, unknown>;
  event: Record<string, unknown>;
  env: Record<string, unknown>;
  functionName: string;
  pid: number;
  called?: EchoAnswer;
  written?: { id: string; atIsDate: boolean };
}

let stack: LocalStack;
let dataDir: string;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = tempDataDir();
  // Few instances keep the suite fast on 2 cores and make the 20 calls queue.
  stack = await startFixtureStack({ dataDir, log: (l) => logs.push(l), instancesPerFunction: 4 });
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

async function callError(p: Promise<unknown>): Promise<CallFunctionError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallFunctionError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('POST /functions/<name>', () => {
  it('runs 20 concurrent invocations, each seeing its own OPENID, queued on at most 4 warm instances', async () => {
    const answers = (await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        callFunction(stack.url, 'echo', { i, delayMs: 50 }, `user-${i}`),
      ),
    )) as EchoAnswer[];
    answers.forEach((a, i) => {
      expect(a.ctx).toEqual({
        OPENID: `user-${i}`,
        APPID: 'wx0000000000000000',
        CLIENTIP: '127.0.0.1',
        ENV: 'local',
        SOURCE: 'wx_client',
      });
      // The cloud adds userInfo to a client call's event (client-event.ts).
      expect(a.event).toEqual({
        i,
        delayMs: 50,
        userInfo: { appId: 'wx0000000000000000', openId: `user-${i}` },
      });
    });
    expect(new Set(answers.map((a) => a.pid)).size).toBeLessThanOrEqual(4);
    // Warm reuse: a later call lands on one of the same instances.
    const again = (await callFunction(stack.url, 'echo', {}, 'user-x')) as EchoAnswer;
    expect(answers.map((a) => a.pid)).toContain(again.pid);
    expect(stack.stats().invocations.echo).toBeGreaterThanOrEqual(21);
    expect(stack.stats().peakRssMb.echo).toBeGreaterThan(10);
  });

  it('gives the cloud runtime environment: envVariables from cloudbaserc, UTC, context', async () => {
    const a = (await stack.invoke('echo', { x: 1 }, 'user-env')) as EchoAnswer;
    expect(a.env).toEqual({ GREETING: FIXTURE_ENV.FIXTURE_GREETING, UNSET_VALUE: '', TZ: 'UTC' });
    expect(a.functionName).toBe('echo');
    expect(a.ctx.OPENID).toBe('user-env');
  });

  it('serves database calls and cloud.callFunction made from inside a function', async () => {
    const a = (await stack.invoke(
      'echo',
      { callEcho: true, write: true },
      'user-db',
    )) as EchoAnswer;
    expect(a.written?.atIsDate).toBe(true);
    expect(a.called?.event).toEqual({ nested: true, delayMs: 0 });
    // A function called from a function has no user.
    expect(a.called?.ctx.OPENID).toBeUndefined();
    const stored = await adminCall(stack.adminUrl, {
      action: 'database.calculateDocument',
      collectionName: 'echoes',
      query: JSON.stringify({ openid: 'user-db' }),
    });
    expect(stored).toMatchObject({ data: { total: 1 } });
  });

  it('enforces the cloudbaserc timeout by killing the instance (-504003), then serves again', async () => {
    // Asked to sleep ten minutes: only the 1 s timeout can end the call within the test's deadline.
    const e = await callError(callFunction(stack.url, 'sleepy', { ms: 600_000 }, 'u'));
    expect(e.status).toBe(500);
    expect(e.errCode).toBe(-504003);
    await expect(stack.invoke('sleepy', { ms: 10 })).resolves.toEqual({ slept: true });
  });

  it('answers a thrown error or a dead instance with -504002 and keeps serving', async () => {
    const thrown = await callError(callFunction(stack.url, 'crash', { reason: 'bad input' }, 'u'));
    expect(thrown.errCode).toBe(-504002);
    expect(thrown.errMsg).toContain('boom: bad input');
    const died = await callError(callFunction(stack.url, 'crash', { exit: true }, 'u'));
    expect(died.errCode).toBe(-504002);
    await expect(stack.invoke('crash', {})).rejects.toBeInstanceOf(FunctionCallError);
  });

  it('hard-kills running instances on request', async () => {
    // Longer than its 10 s timeout: only the kill ends it with -504002.
    const pending = stack.invoke('echo', { delayMs: 600_000 }, 'u').then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 200));
    await stack.killInstances('echo');
    expect(await pending).toMatchObject({ errCode: -504002 });
  });

  it('answers 404 for an unknown function and logs one line per invocation', async () => {
    const e = await callError(callFunction(stack.url, 'nosuch', {}, 'u'));
    expect(e.status).toBe(404);
    expect(logs.some((l) => /^invoke echo \(client\) \d+ms ok$/.test(l))).toBe(true);
  });
});

describe('HTTP access', () => {
  const key = FIXTURE_ENV.FIXTURE_HOOK_KEY;
  const hmac = (b: Buffer): string => createHmac('sha256', key).update(b).digest('hex');

  it('passes a UTF-8 body byte-exact (Chinese text and emoji) and returns the integration response', async () => {
    const body = Buffer.from(JSON.stringify({ text: '视频文案：你好，世界 😀🎬', n: 1 }), 'utf8');
    const res = await fetch(`${stack.url}/webhook/test?a=1&b=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Signature': 'v1,abc', 'x-multi': 'one' },
      body,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-hook')).toBe('yes');
    const out = (await res.json()) as Record<string, unknown>;
    expect(out).toMatchObject({
      hmac: hmac(body),
      length: body.length,
      isBase64Encoded: false,
      method: 'POST',
      path: '/webhook/test',
      query: { a: '1', b: '2' },
      signature: 'v1,abc',
      multi: ['one'],
      hasOpenid: false,
    });
  });

  it('passes binary and non-UTF-8 bodies base64-encoded', async () => {
    const binary = randomBytes(4096);
    const res = await fetch(`${stack.url}/webhook/test`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: binary,
    });
    expect(await res.json()).toMatchObject({
      hmac: hmac(binary),
      isBase64Encoded: true,
      method: 'PUT',
    });
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const res2 = await fetch(`${stack.url}/webhook/test`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: latin1,
    });
    expect(await res2.json()).toMatchObject({ hmac: hmac(latin1), isBase64Encoded: true });
  });

  it('lets the function answer 413 over 1 MiB, and the gateway refuse over 6 MB; plain objects become JSON', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
    expect((await fetch(`${stack.url}/webhook/test`, { method: 'POST', body: big })).status).toBe(
      413,
    );
    const huge = Buffer.alloc(6 * 1024 * 1024 + 1, 0x61);
    expect((await fetch(`${stack.url}/webhook/test`, { method: 'POST', body: huge })).status).toBe(
      413,
    );
    const plain = await fetch(`${stack.url}/webhook/test/sub?plain=1`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toContain('application/json');
    expect(await plain.json()).toEqual({ plain: true, method: 'GET' });
  });
});

describe('timers and health', () => {
  it('runTimer invokes with the timer event and no OPENID', async () => {
    await expect(stack.runTimer('tick')).resolves.toMatchObject({ id: expect.any(String) });
    const res = await adminCall(stack.adminUrl, {
      action: 'database.getDocument',
      collectionName: 'ticks',
      query: '{}',
      limit: 10,
    });
    const docs = (res.data as { list: string[] }).list.map(
      (s) => JSON.parse(s) as Record<string, unknown>,
    );
    expect(docs[0]).toMatchObject({ trigger: 'everyMinute', type: 'Timer', hasOpenid: false });
  });

  it('fires timers every TIMER_OVERRIDE_S seconds', async () => {
    const dir = tempDataDir();
    const fast = await startFixtureStack({ dataDir: dir, timersEnabled: true, timerOverrideS: 1 });
    try {
      await waitFor(async () => {
        const r = await adminCall(fast.adminUrl, {
          action: 'database.calculateDocument',
          collectionName: 'ticks',
        });
        return (r.data as { total: number }).total >= 2;
      }, 50_000);
    } finally {
      await fast.close();
      removeDir(dir);
    }
  });

  it('answers /health and 404 JSON for unknown routes', async () => {
    const health = await fetch(`${stack.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const missing = await fetch(`${stack.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not found' });
  });
});

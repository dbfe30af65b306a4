import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  CozeError,
  createCozeClient,
  startFailureOf,
  type CozeClientOptions,
  type CozeErrorKind,
} from './coze';

const TOKEN = 'sat_TestToken0123456789';
const WORKFLOW = 'wf_7380000000000000001';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A scripted Coze: each request is answered by `reply`, which sees every request made so far. */
interface Scripted {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

type Reply = (req: Seen, n: number, res: ServerResponse) => void;

const servers: Scripted[] = [];

async function serve(reply: Reply): Promise<Scripted> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      reply(s, seen.length, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const s: Scripted = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        // Servers that never answer keep sockets open: drop them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function json(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

const startOk = {
  code: 0,
  msg: 'Success',
  execute_id: '7391',
  debug_url: 'https://www.coze.cn/work_flow?execute_id=7391',
};

function client(base: string, over: Partial<CozeClientOptions> = {}) {
  return createCozeClient({
    baseUrl: base,
    token: TOKEN,
    workflowId: WORKFLOW,
    timeoutMs: 500,
    backoffMs: 5,
    sleep: async () => {},
    ...over,
  });
}

const INPUT = {
  shareUrl: 'https://v.douyin.com/iRNBho6u/',
  taskId: 'task-1',
  callbackUrl: 'https://env.example/webhook/coze',
  callbackToken: 'cbtok-1',
};

async function caught(p: Promise<unknown>): Promise<CozeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CozeError) return err;
    throw err;
  }
  throw new Error('expected a CozeError');
}

/** The history answer Coze gives: `output` double-encoded. */
function history(entry: Record<string, unknown>) {
  return {
    code: 0,
    msg: '',
    data: [{ execute_id: '7391', error_code: '', error_message: '', ...entry }],
  };
}
const encoded = (inner: unknown) => JSON.stringify({ Output: JSON.stringify(inner) });

describe('startRun', () => {
  it('posts the async run with bearer auth and reads execute_id and debug_url', async () => {
    const s = await serve((_req, _n, res) => json(res, startOk));
    const out = await client(s.url).startRun(INPUT);
    expect(out).toEqual({ executeId: '7391', debugUrl: startOk.debug_url });
    expect(s.seen).toHaveLength(1);
    const req = s.seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/workflow/run');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(req.body)).toEqual({
      workflow_id: WORKFLOW,
      parameters: {
        share_text: INPUT.shareUrl,
        task_id: INPUT.taskId,
        callback_url: INPUT.callbackUrl,
        callback_token: INPUT.callbackToken,
      },
      is_async: true,
    });
  });

  it('needs no data field and no debug_url', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, { code: 0, msg: 'Success', execute_id: 'e2', detail: { logid: 'l' } }),
    );
    await expect(client(s.url).startRun(INPUT)).resolves.toEqual({ executeId: 'e2' });
  });

  it('CN, global and the stand-in differ only in baseUrl (path prefix and trailing slash kept right)', async () => {
    const s = await serve((_req, _n, res) => json(res, startOk));
    await client(`${s.url}/cn`).startRun(INPUT);
    await client(`${s.url}/com/`).startRun(INPUT);
    await client(`${s.url}/coze`).startRun(INPUT);
    expect(s.seen.map((r) => r.url)).toEqual([
      '/cn/v1/workflow/run',
      '/com/v1/workflow/run',
      '/coze/v1/workflow/run',
    ]);
  });

  const codes: [number, CozeErrorKind, boolean][] = [
    [4100, 'token_invalid', false],
    [4101, 'permission', false],
    [4200, 'not_published', false],
    [4009, 'busy', true],
    [5000, 'busy', true],
    [4314, 'run_not_found', false],
    [6003, 'async_not_allowed', false],
    [4000, 'rejected', false],
    [700012006, 'rejected', false],
  ];
  it.each(codes)('code %d is %s (retryable %s)', async (code, kind, retryable) => {
    const s = await serve((_req, _n, res) =>
      json(res, { code, msg: 'nope', detail: { logid: 'log-1' } }),
    );
    const err = await caught(client(s.url, { maxAttempts: 1 }).startRun(INPUT));
    expect(err).toMatchObject({ kind, retryable, cozeCode: code, status: 200, logId: 'log-1' });
    expect(err.message).toContain(String(code));
  });

  it('reads the code from a non-200 answer too (401 with 4100)', async () => {
    const s = await serve((_req, _n, res) => json(res, { code: 4100, msg: 'auth failed' }, 401));
    const err = await caught(client(s.url).startRun(INPUT));
    expect(err).toMatchObject({
      kind: 'token_invalid',
      retryable: false,
      cozeCode: 4100,
      status: 401,
    });
    expect(s.seen).toHaveLength(1);
  });

  it.each([
    [502, 'server', true],
    [503, 'server', true],
    [429, 'busy', true],
    [404, 'rejected', false],
    [302, 'rejected', false],
  ] as const)('HTTP %d without a Coze code is %s', async (status, kind, retryable) => {
    const s = await serve((_req, _n, res) => {
      res.writeHead(status, { 'content-type': 'text/html', location: 'http://127.0.0.1:9/' });
      res.end('<html>gateway</html>');
    });
    const err = await caught(client(s.url, { maxAttempts: 1 }).startRun(INPUT));
    expect(err).toMatchObject({ kind, retryable, status });
  });

  it.each([
    ['busy (5000)', (res: ServerResponse) => json(res, { code: 5000, msg: 'busy' }), 'not_started'],
    [
      'rate limited (4009)',
      (res: ServerResponse) => json(res, { code: 4009, msg: 'qps' }),
      'not_started',
    ],
    ['HTTP 429', (res: ServerResponse) => json(res, {}, 429), 'not_started'],
    ['a gateway 502', (res: ServerResponse) => json(res, { oops: true }, 502), 'maybe_started'],
    [
      'not published (4200)',
      (res: ServerResponse) => json(res, { code: 4200, msg: 'x' }),
      'refused',
    ],
    ['a bad token (4100)', (res: ServerResponse) => json(res, { code: 4100, msg: 'x' }), 'refused'],
  ] as const)(
    'a start is never sent twice: %s is one request, %s',
    async (_name, reply, failure) => {
      const s = await serve((_req, _n, res) => reply(res));
      const err = await caught(client(s.url, { maxAttempts: 5 }).startRun(INPUT));
      expect(startFailureOf(err)).toBe(failure);
      expect(s.seen).toHaveLength(1);
    },
  );

  it('a start that never answers is one request, maybe started, within its bound', async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const t0 = Date.now();
    const err = await caught(
      client(s.url, {
        timeoutMs: 300,
        maxAttempts: 5,
        deadlineMs: 60_000,
        sleep: undefined,
      }).startRun(INPUT),
    );
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(startFailureOf(err)).toBe('maybe_started');
    expect(s.seen).toHaveLength(1);
    // The server never answers: without the timeout this would hang. The margin is for busy machines.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a refused connection is a start that never left: not started', async () => {
    const s = await serve(() => {});
    const url = s.url;
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const err = await caught(client(url).startRun(INPUT));
    expect(err).toMatchObject({ kind: 'network', reason: 'ECONNREFUSED' });
    expect(err.message).toContain('ECONNREFUSED');
    expect(startFailureOf(err)).toBe('not_started');
  });

  it('a connection cut after the request went out may have started the run', async () => {
    const s = await serve((_req, _n, res) => res.socket?.destroy());
    const err = await caught(client(s.url).startRun(INPUT));
    expect(err.kind).toBe('network');
    expect(startFailureOf(err)).toBe('maybe_started');
    expect(s.seen).toHaveLength(1);
  });

  it('anything but a CozeError is maybe started (never a blind second start)', () => {
    expect(startFailureOf(new Error('boom'))).toBe('maybe_started');
  });

  it.each([
    ['malformed JSON', '{"code":0,"execute_id":'],
    ['an empty body', ''],
    ['no execute_id', JSON.stringify({ code: 0, msg: 'Success' })],
    ['a numeric execute_id', JSON.stringify({ code: 0, execute_id: 7391 })],
    ['no code', JSON.stringify({ execute_id: '7391' })],
    ['an array', '[]'],
  ])('%s is bad_response: the run may have started', async (_name, body) => {
    const s = await serve((_req, _n, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const err = await caught(client(s.url).startRun(INPUT));
    expect(err).toMatchObject({ kind: 'bad_response', retryable: false });
    expect(startFailureOf(err)).toBe('maybe_started');
    expect(s.seen).toHaveLength(1);
  });
});

describe('token safety', () => {
  const OPAQUE = 'opaque-token-without-prefix-42';

  function expectClean(err: CozeError, token: string) {
    const texts = [
      err.message,
      String(err),
      err.stack ?? '',
      JSON.stringify(err),
      inspect(err, { depth: 5 }),
    ];
    texts.push(err.toAppError().message, inspect(err.toAppError()));
    for (const t of texts) expect(t).not.toContain(token);
  }

  it('never puts the token in an error, even when Coze echoes it', async () => {
    const s = await serve((req, _n, res) =>
      json(res, {
        code: 4100,
        msg: `invalid token: ${String(req.headers.authorization)} ${OPAQUE}`,
      }),
    );
    for (const token of [TOKEN, OPAQUE]) {
      const err = await caught(client(s.url, { token }).startRun(INPUT));
      expect(err.kind).toBe('token_invalid');
      expectClean(err, token);
    }
  });

  it('nor in timeout, network or history errors', async () => {
    const silent = await serve(() => {});
    expectClean(
      await caught(client(silent.url, { timeoutMs: 50, maxAttempts: 1 }).startRun(INPUT)),
      TOKEN,
    );
    const bad = await serve((_req, _n, res) => json(res, { code: 0, data: 'nope' }));
    expectClean(await caught(client(bad.url).getRun('7391')), TOKEN);
  });

  it('refuses to build a client without a token', () => {
    expect(() => client('http://127.0.0.1:9', { token: '' })).toThrow(/token is empty/);
  });
});

describe('CozeError.toAppError', () => {
  it('is UPSTREAM_UNAVAILABLE with a safe detail', () => {
    const app = new CozeError('busy', 'start run: coze code 5000', {
      cozeCode: 5000,
      status: 200,
    }).toAppError();
    expect(app.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(app.message).toBe('UPSTREAM_UNAVAILABLE: coze busy code 5000 http 200');
  });

  it('redacts credential-shaped text in its own message', () => {
    expect(new CozeError('rejected', 'Bearer sat_abc123 whsec_abc=').message).not.toMatch(
      /abc123|whsec_abc/,
    );
  });
});

describe('getRun', () => {
  it('reads the run history of the workflow with bearer auth', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Running', output: '{"Output":""}' })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toBeNull();
    expect(s.seen[0]).toMatchObject({
      method: 'GET',
      url: `/v1/workflows/${WORKFLOW}/run_histories/7391`,
    });
    expect(s.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('Running with no output at all is running', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Running', output: null })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toBeNull();
  });

  it('decodes the double-encoded output of a success; missing strings become empty', async () => {
    const content = '大家好，今天教大家做红烧肉。😋 "引号" \\ 反斜杠\n换行';
    const output = encoded({
      title: '红烧肉',
      content,
      cover: 'https://p3.example/c.jpg',
      extra: 1,
    });
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output, error_code: '0' })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toEqual({
      event: {
        type: 'completed',
        result: { title: '红烧肉', content, cover: 'https://p3.example/c.jpg', video_url: '' },
        source: 'history',
      },
      detail: null,
    });
  });

  it('accepts an Output that is already an object', async () => {
    const output = JSON.stringify({
      Output: { title: 't', content: 'c', cover: 'x', video_url: 'https://v.example/v.mp4' },
    });
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toMatchObject({
      event: { type: 'completed', result: { video_url: 'https://v.example/v.mp4' } },
    });
  });

  it('bounds a run-history result like a callback: http(s) media only, title cut', async () => {
    const output = JSON.stringify({
      Output: {
        title: '长'.repeat(5000),
        content: 'c',
        cover: 'javascript:alert(1)',
        video_url: 'data:video/mp4;base64,AAAA',
      },
    });
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output })),
    );
    const run = await client(s.url).getRun('7391');
    expect(run).toMatchObject({
      event: { type: 'completed', result: { cover: '', video_url: '' } },
    });
    expect(run?.event.type === 'completed' && Array.from(run.event.result.title).length).toBe(1001);
  });

  it('picks the entry of the asked run', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, {
        code: 0,
        data: [
          { execute_id: 'other', execute_status: 'Fail', error_message: 'x' },
          { execute_id: '7391', execute_status: 'Running', output: '' },
        ],
      }),
    );
    await expect(client(s.url).getRun('7391')).resolves.toBeNull();
  });

  it.each([
    [
      'our code in error_message',
      { error_code: '720701013', error_message: 'PHOTO_NOTE: 这是图文笔记' },
      'PHOTO_NOTE',
    ],
    [
      'our code as error_code',
      { error_code: 'VIDEO_UNAVAILABLE', error_message: '视频无法访问' },
      'VIDEO_UNAVAILABLE',
    ],
    [
      'our code inside an exception text',
      { error_code: 500, error_message: 'Exception: TOO_LONG: 视频超过 30 分钟' },
      'TOO_LONG',
    ],
    [
      'our code in the output error',
      { error_message: 'node failed', output: encoded({ error: 'NO_SPEECH' }) },
      'NO_SPEECH',
    ],
    [
      'a platform failure',
      { error_code: '720702002', error_message: 'plugin timeout' },
      'PROVIDER_ERROR',
    ],
    ['a code we do not let a workflow claim', { error_message: 'CANCELLED' }, 'PROVIDER_ERROR'],
    ['a look-alike word', { error_message: 'XNO_SPEECH_Y' }, 'PROVIDER_ERROR'],
    ['nothing at all', { error_code: null, error_message: null }, 'PROVIDER_ERROR'],
  ])('Fail with %s', async (_name, entry, code) => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Fail', ...entry })),
    );
    const run = await client(s.url).getRun('7391');
    expect(run).toMatchObject({ event: { type: 'failed', errorCode: code } });
    expect(run?.detail?.length).toBeGreaterThan(0);
  });

  it('a Success whose output names an error is a failure with that code', async () => {
    const output = encoded({
      title: '',
      content: '',
      cover: '',
      video_url: '',
      error: { code: 'NO_SPEECH', message: '没有语音' },
    });
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toMatchObject({
      event: { type: 'failed', errorCode: 'NO_SPEECH' },
    });
  });

  it('a Success with an unknown error in its output is a provider error', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output: encoded({ error: 'boom' }) })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toMatchObject({
      event: { type: 'failed', errorCode: 'PROVIDER_ERROR' },
    });
  });

  it.each([
    ['not JSON', 'plain text'],
    ['single-encoded', JSON.stringify({ title: 't' })],
    ['Output not JSON', JSON.stringify({ Output: 'hello' })],
    ['Output empty', JSON.stringify({ Output: '' })],
  ])('a Success with an output that is %s finished without a result', async (_name, output) => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_status: 'Success', output })),
    );
    await expect(client(s.url).getRun('7391')).resolves.toMatchObject({
      event: { type: 'failed', errorCode: 'PROVIDER_ERROR' },
    });
  });

  it('an unknown status is finished-with-failure', async () => {
    const s = await serve((_req, _n, res) => json(res, history({ execute_status: 'Interrupted' })));
    const run = await client(s.url).getRun('7391');
    expect(run).toEqual({
      event: { type: 'failed', errorCode: 'PROVIDER_ERROR', source: 'history' },
      detail: 'unexpected execute_status "Interrupted"',
    });
  });

  it('4314 and an empty history are run_not_found', async () => {
    const s = await serve((_req, n, res) =>
      json(res, n === 1 ? { code: 4314, msg: 'not found' } : { code: 0, data: [] }),
    );
    expect((await caught(client(s.url).getRun('7391'))).kind).toBe('run_not_found');
    expect((await caught(client(s.url).getRun('7391'))).kind).toBe('run_not_found');
    expect((await caught(client(s.url).getRun(''))).kind).toBe('run_not_found');
    expect(s.seen).toHaveLength(2);
  });

  it.each([
    ['data not an array', { code: 0, data: 'x' }],
    ['an entry without execute_status', { code: 0, data: [{ output: '' }] }],
    ['no data', { code: 0, msg: 'Success' }],
  ])('%s is bad_response', async (_name, body) => {
    const s = await serve((_req, _n, res) => json(res, body));
    expect((await caught(client(s.url).getRun('7391'))).kind).toBe('bad_response');
  });

  it('escapes ids in the path', async () => {
    const s = await serve((_req, _n, res) =>
      json(res, history({ execute_id: 'x?y', execute_status: 'Running' })),
    );
    await client(s.url, { workflowId: 'a/b' }).getRun('x?y');
    expect(s.seen[0]!.url).toBe('/v1/workflows/a%2Fb/run_histories/x%3Fy');
  });

  it.each([
    ['another run only', [{ execute_id: '9999' }]],
    ['entries without an id', [{}]],
    ['no entry', []],
  ])(
    'an answer listing %s is "not known yet", never another run\'s text',
    async (_name, entries) => {
      const s = await serve((_req, _n, res) =>
        json(res, {
          code: 0,
          msg: '',
          data: entries.map((e) => ({
            execute_status: 'Success',
            output: encoded({
              title: '别人的视频',
              content: '别人的文案',
              cover: '',
              video_url: '',
            }),
            ...e,
          })),
        }),
      );
      const err = await caught(client(s.url).getRun('7391'));
      expect(err).toMatchObject({ kind: 'run_not_found' });
    },
  );

  it('retries busy with exponential backoff, then reads the run', async () => {
    const s = await serve((_req, n, res) =>
      json(
        res,
        n < 3
          ? { code: n === 1 ? 5000 : 4009, msg: 'busy' }
          : history({ execute_status: 'Running' }),
      ),
    );
    const sleeps: number[] = [];
    const out = await client(s.url, {
      backoffMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    }).getRun('7391');
    expect(out).toBeNull();
    expect(s.seen).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    // Equal jitter: half the step fixed, half random.
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('a read gives up after maxAttempts, keeping the last error', async () => {
    const s = await serve((_req, _n, res) => json(res, { code: 5000, msg: 'busy' }));
    const err = await caught(client(s.url, { maxAttempts: 3 }).getRun('7391'));
    expect(err).toMatchObject({ kind: 'busy', retryable: true, cozeCode: 5000 });
    expect(err.message).toContain('after 3 attempts');
    expect(s.seen).toHaveLength(3);
  });

  it('a read keeps inside its total deadline however many attempts are allowed', async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const t0 = Date.now();
    const err = await caught(
      client(s.url, {
        timeoutMs: 100,
        maxAttempts: 10,
        deadlineMs: 250,
        backoffMs: 10,
        sleep: undefined,
      }).getRun('7391'),
    );
    expect(err.kind).toBe('timeout');
    // The deadline, not the ten attempts, ended it: at most three were made. The clock only
    // catches a hang (10 attempts of 100 ms would still end), with room for a busy machine.
    expect(s.seen.length).toBeLessThanOrEqual(3);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

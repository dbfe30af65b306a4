import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callbackBodySchema, type CallbackBody } from '../shared/callback';
import { verifyCallback } from '../shared/signing';
import { endOutputsOf, historyAnswerSchema, runEndFromHistory } from '../shared/coze-workflow';
import {
  createCozeClient,
  CozeError,
  startFailureOf,
  type CozeClientOptions,
} from '../cloudfunctions/_adapters/coze';
import {
  createCozeStandin,
  standinOptionsFromEnv,
  type CozeStandin,
  type CozeStandinOptions,
} from './coze-standin';

const TOKEN = 'local-standin-token-for-tests';
const WORKFLOW = 'local-workflow';
const SECRET = `whsec_${Buffer.from('coze-standin-test-secret-012345').toString('base64')}`;
const DELAY = 90;
const LINK = 'https://v.douyin.com/iRNBho6u/';
const SHARE = `7.94 复制打开抖音，看看【小猫的作品】好可爱 # 萌宠 ${LINK} :9pm z@A.gb 08/12`;

interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  at: number;
}

/** A plain server as the emulator mounts the stand-in: /coze → stand-in, /hook* → recorder. */
interface Harness {
  url: string;
  base: string;
  dir: string;
  hooks: Hook[];
  logs: string[];
  standin: CozeStandin;
  /** replaces the stand-in (same data dir unless given), as a restart of the local stack does */
  reopen(over?: Partial<CozeStandinOptions>): CozeStandin;
  client(over?: Partial<CozeClientOptions>): ReturnType<typeof createCozeClient>;
  start(shareText?: string, taskId?: string, hook?: string): Promise<string>;
  raw(
    method: string,
    path: string,
    body?: unknown,
    auth?: string | null,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(over: Partial<CozeStandinOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'coze-standin-'));
  const hooks: Hook[] = [];
  const logs: string[] = [];
  const options = (o: Partial<CozeStandinOptions>): CozeStandinOptions => ({
    dataDir: dir,
    token: TOKEN,
    workflowId: WORKFLOW,
    webhookSecret: SECRET,
    delayMs: DELAY,
    log: (line) => logs.push(line),
    ...over,
    ...o,
  });
  const server: Server = createServer((req, res) => {
    if ((req.url ?? '').startsWith('/coze')) {
      void h.standin.handler(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      hooks.push({ path, headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() });
      res.writeHead(path === '/hook500' ? 500 : 200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  const h: Harness = {
    url,
    base: `${url}/coze`,
    dir,
    hooks,
    logs,
    standin: createCozeStandin(options({})),
    reopen(o = {}) {
      h.standin = createCozeStandin(options(o));
      return h.standin;
    },
    client: (o = {}) =>
      createCozeClient({
        baseUrl: h.base,
        token: TOKEN,
        workflowId: WORKFLOW,
        // The stand-in answers in milliseconds; the bound only ends a hang on a starved machine.
        timeoutMs: 10_000,
        backoffMs: 5,
        ...o,
      }),
    async start(shareText = SHARE, taskId = `task-${++n}`, hook = '/hook') {
      const { executeId } = await h.client().startRun({
        shareUrl: shareText,
        taskId,
        callbackUrl: `${url}${hook}`,
        callbackToken: `cbtok-${taskId}`,
      });
      return executeId;
    },
    async raw(method, path, body, auth = `Bearer ${TOKEN}`) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth !== null) headers.authorization = auth;
      const res = await fetch(`${h.base}${path}`, {
        method,
        headers,
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
  };
  cleanups.push(async () => {
    await h.standin.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  return h;
}

function verified(hook: Hook): { id: string; body: CallbackBody } {
  expect(verifyCallback([SECRET], hook.headers, hook.raw, Date.now() / 1000)).toEqual({ ok: true });
  const body = callbackBodySchema.parse(JSON.parse(hook.raw.toString('utf8')));
  return { id: String(hook.headers['webhook-id']), body };
}

const kinds = (h: Harness) =>
  h.hooks.map((k) => {
    const { body } = verified(k);
    return body.type === 'workflow.execution.progress'
      ? `progress ${body.data.progress}`
      : body.type.split('.')[2];
  });

// Deadline far above need: only ends a hang, on however busy a machine.
async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 3));
  }
}

const historyPath = (id: string) => `/v1/workflows/${WORKFLOW}/run_histories/${id}`;

describe('a run as our workflow plays it', () => {
  it('answers the real start shape, then posts signed progress and completed callbacks in order', async () => {
    const h = await harness();
    const t0 = Date.now();
    const start = await h.raw('POST', '/v1/workflow/run', {
      workflow_id: WORKFLOW,
      parameters: {
        share_text: SHARE,
        task_id: 'task-a',
        callback_url: `${h.url}/hook`,
        callback_token: 'tok-a',
      },
      is_async: true,
    });
    expect(start.status).toBe(200);
    expect(start.json).toMatchObject({
      code: 0,
      msg: 'Success',
      execute_id: expect.stringMatching(/^\d{19}$/),
    });
    expect(start.json.data).toBeUndefined();
    const executeId = String(start.json.execute_id);

    await h.standin.settle();
    expect(kinds(h)).toEqual(['progress 30', 'progress 70', 'completed']);
    const bodies = h.hooks.map((k) => verified(k));
    for (const { body } of bodies) {
      expect(body.data).toMatchObject({
        task_id: 'task-a',
        execute_id: executeId,
        callback_token: 'tok-a',
      });
    }
    expect(new Set(bodies.map((b) => b.id)).size).toBe(3);
    expect(h.hooks.every((k) => k.path === '/hook')).toBe(true);
    expect(h.hooks[2]!.at - t0).toBeGreaterThanOrEqual(DELAY - 5);

    const done = bodies[2]!.body;
    expect(done.data.progress).toBe(100);
    if (done.type !== 'workflow.execution.completed') throw new Error('not completed');
    expect(done.data.output.title).toBe('【模拟】抖音视频 iRNBho6u');
    expect(done.data.output.content.startsWith('（本地模拟结果，非真实识别）')).toBe(true);
    expect(done.data.output.cover).toMatch(/^https:\/\/example\.invalid\//);
    expect(done.data.output.video_url).toMatch(/^https:\/\/example\.invalid\//);
    // The raw body is exactly what the contract describes, key for key.
    const raw = JSON.parse(h.hooks[2]!.raw.toString('utf8')) as { data: Record<string, unknown> };
    expect(Object.keys(raw)).toEqual(['type', 'data']);
    expect(Object.keys(raw.data)).toEqual([
      'task_id',
      'execute_id',
      'callback_token',
      'progress',
      'output',
      'error',
    ]);
    expect(raw.data.error).toEqual({ code: '', message: '' });
  });

  it('history says Running, then Success with the double-encoded output', async () => {
    const h = await harness();
    const id = await h.start();
    const client = h.client();
    await expect(client.getRun(id)).resolves.toBeNull();
    const running = await h.raw('GET', historyPath(id));
    const entry = (running.json.data as Record<string, unknown>[])[0]!;
    expect(entry).toMatchObject({
      execute_id: id,
      execute_status: 'Running',
      output: '{"Output":""}',
    });

    await h.standin.settle();
    const end = await client.getRun(id);
    if (end?.event.type !== 'completed') throw new Error(`not completed: ${JSON.stringify(end)}`);
    const run = end.event;
    expect(run.result.title).toMatch(/^【模拟】/);
    const done = (await h.raw('GET', historyPath(id))).json.data as Record<string, unknown>[];
    expect(done[0]).toMatchObject({
      execute_status: 'Success',
      error_code: '0',
      error_message: '',
    });
    const output = String(done[0]!.output);
    // The End node's outputs, `kind` said (a transcript) and `error` empty.
    expect(JSON.parse(JSON.parse(output).Output as string)).toEqual(endOutputsOf(run.result));
    expect(endOutputsOf(run.result)).toMatchObject({ kind: 'transcript', error: '' });
    // What the callback carried and what the history says are the same result.
    const completed = verified(h.hooks[2]!).body;
    expect(completed.data.output).toEqual(run.result);
  });

  it('a link whose path contains fail ends as Fail VIDEO_UNAVAILABLE', async () => {
    const h = await harness();
    const id = await h.start('看看 https://v.douyin.com/fail123/ 吧');
    await h.standin.settle();
    expect(kinds(h)).toEqual(['progress 30', 'progress 70', 'failed']);
    const failed = verified(h.hooks[2]!).body;
    expect(failed.data.error).toMatchObject({
      code: 'VIDEO_UNAVAILABLE',
      message: expect.stringContaining('视频无法访问'),
    });
    await expect(h.client().getRun(id)).resolves.toMatchObject({
      event: { type: 'failed', errorCode: 'VIDEO_UNAVAILABLE' },
    });
    const entry = (
      (await h.raw('GET', historyPath(id))).json.data as Record<string, unknown>[]
    )[0]!;
    expect(entry).toMatchObject({ execute_status: 'Fail', error_code: 'VIDEO_UNAVAILABLE' });
    expect(String(entry.error_message)).toContain('视频无法访问');
  });

  it('a Douyin /note/ link ends as Fail PHOTO_NOTE', async () => {
    const h = await harness();
    const id = await h.start('https://www.douyin.com/note/7301234567890123456');
    await h.standin.settle();
    expect(verified(h.hooks[2]!).body.data.error?.code).toBe('PHOTO_NOTE');
    await expect(h.client().getRun(id)).resolves.toMatchObject({
      event: { type: 'failed', errorCode: 'PHOTO_NOTE' },
    });
  });

  it('a Xiaohongshu photo note gives back its own text, marked as the note', async () => {
    const h = await harness();
    const id = await h.start('杭州咖啡店合集 http://xhslink.com/a/note3Kf9 复制本条信息');
    await h.standin.settle();
    const callback = verified(h.hooks[2]!).body;
    expect(callback.type).toBe('workflow.execution.completed');
    expect(callback.data.output).toMatchObject({ kind: 'note', video_url: '' });
    const end = await h.client().getRun(id);
    if (end?.event.type !== 'completed') throw new Error('not completed');
    // The run history tells the same: the note's text, kind `note`.
    expect(end.event.result).toEqual(callback.data.output);
    expect(end.event.result.content).toContain('笔记自己的正文');
  });

  it('other platforms succeed with their label in the simulated title', async () => {
    const h = await harness();
    const id = await h.start('【十分钟看懂量子计算-哔哩哔哩】 https://b23.tv/AbCd123');
    await h.standin.settle();
    await expect(h.client().getRun(id)).resolves.toMatchObject({
      event: { type: 'completed', result: { title: '【模拟】哔哩哔哩视频 AbCd123' } },
    });
  });
});

describe('the contract', () => {
  it('history answers fit the shared schema and mean the run as it was played', async () => {
    const h = await harness();
    await h.start();
    await h.start('看看 https://v.douyin.com/fail123/ 吧');
    await h.start('https://www.douyin.com/note/7301234567890123456');
    await h.standin.settle();
    for (const run of h.standin.runs()) {
      const answer = historyAnswerSchema.parse(
        (await h.raw('GET', historyPath(run.executeId))).json,
      );
      const read = runEndFromHistory(answer.data[0]!, (t: string) => t);
      // The history's failure message is the workflow's "<CODE>: <message>".
      expect(read).toEqual(
        run.outcome.kind === 'failed'
          ? {
              event: { type: 'failed', errorCode: run.outcome.errorCode, source: 'history' },
              detail: `${run.outcome.errorCode}: ${run.outcome.errorMessage}`,
            }
          : {
              event: { type: 'completed', result: run.outcome.result, source: 'history' },
              detail: null,
            },
      );
    }
    expect(h.standin.runs().map((r) => r.outcome.kind)).toEqual(['completed', 'failed', 'failed']);
  });
});

describe('fault knobs', () => {
  it('qps: starts and history reads share one bucket; beyond it 429 with code 4009, nothing run', async () => {
    const h = await harness({ qps: 2 });
    const id = await h.start();
    await expect(h.client({ maxAttempts: 1 }).getRun(id)).resolves.toBeNull();
    // The bucket (2 a second, starting full) is spent: the next call is refused, not served.
    const err = await h.start().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'busy', cozeCode: 4009, status: 429 });
    expect(startFailureOf(err)).toBe('not_started');
    expect(h.standin.runs()).toHaveLength(1);
    expect(h.standin.traffic().reduce((n, s) => n + s.refused, 0)).toBe(1);
    // The knob changes at run time; 0 is no limit.
    h.standin.configure({ qps: 0 });
    await h.start();
    expect(h.standin.runs()).toHaveLength(2);
    expect(() => h.standin.configure({ qps: -1 })).toThrow(/qps/);
  });

  it('drop: no callback at all, the history still tells the truth', async () => {
    const h = await harness({ callbackMode: 'drop' });
    const id = await h.start();
    await h.standin.settle();
    expect(h.hooks).toHaveLength(0);
    await expect(h.client().getRun(id)).resolves.toMatchObject({ event: { type: 'completed' } });
  });

  it('duplicate: each callback twice under one id, and the final again under a new id', async () => {
    const h = await harness({ callbackMode: 'duplicate' });
    await h.start();
    await h.standin.settle();
    expect(kinds(h)).toEqual([
      'progress 30',
      'progress 30',
      'progress 70',
      'progress 70',
      'completed',
      'completed',
      'completed',
    ]);
    const ids = h.hooks.map((k) => verified(k).id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[4]).toBe(ids[5]);
    expect(new Set([ids[0], ids[2], ids[4], ids[6]]).size).toBe(4);
    expect(h.hooks[6]!.raw.equals(h.hooks[4]!.raw)).toBe(true);
  });

  it('reorder: a progress callback arrives after the final one', async () => {
    const h = await harness({ callbackMode: 'reorder' });
    const id = await h.start();
    await h.standin.settle();
    expect(kinds(h)).toEqual(['progress 30', 'completed', 'progress 70']);
    await expect(h.client().getRun(id)).resolves.toMatchObject({ event: { type: 'completed' } });
  });

  it('createErrorRate 1: every start is busy; the client makes one attempt, not started', async () => {
    const h = await harness({ createErrorRate: 1 });
    const raw = await h.raw('POST', '/v1/workflow/run', {
      workflow_id: WORKFLOW,
      parameters: {
        share_text: SHARE,
        task_id: 't',
        callback_url: `${h.url}/hook`,
        callback_token: 'x',
      },
      is_async: true,
    });
    expect(raw).toMatchObject({ status: 200, json: { code: 5000, msg: 'busy' } });
    const t0 = Date.now();
    const err = await h.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CozeError);
    expect(err).toMatchObject({ kind: 'busy', retryable: true, cozeCode: 5000 });
    expect(startFailureOf(err)).toBe('not_started');
    // The clock only catches a hang (busy machines vary).
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(h.standin.runs()).toHaveLength(0);
  });

  it('createErrorRate uses the given random source', async () => {
    const seq = [0.2, 0.7];
    const h = await harness({ createErrorRate: 0.5, random: () => seq.shift() ?? 0.9 });
    const client = h.client({ maxAttempts: 1 });
    const input = {
      shareUrl: SHARE,
      taskId: 't',
      callbackUrl: `${h.url}/hook`,
      callbackToken: 'x',
    };
    await expect(client.startRun(input)).rejects.toMatchObject({ kind: 'busy' });
    await expect(client.startRun(input)).resolves.toMatchObject({ executeId: expect.any(String) });
  });

  it('a failed post is logged and not retried; the run goes on', async () => {
    const h = await harness();
    const id = await h.start(SHARE, 'task-500', '/hook500');
    // Another stand-in posts to a port nobody listens on.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const h2 = await harness();
    const { executeId: deadId } = await h2.client().startRun({
      shareUrl: SHARE,
      taskId: 'task-dead',
      callbackUrl: `http://127.0.0.1:${deadPort}/hook`,
      callbackToken: 'tok-dead',
    });
    await Promise.all([h.standin.settle(), h2.standin.settle()]);

    expect(h.hooks.filter((k) => k.path === '/hook500')).toHaveLength(3);
    expect(h.logs.filter((l) => l.includes('task-500') && l.includes('-> 500'))).toHaveLength(3);
    await expect(h.client().getRun(id)).resolves.toMatchObject({ event: { type: 'completed' } });
    expect(h2.logs.filter((l) => /post failed .*not retried/.test(l))).toHaveLength(3);
    await expect(h2.client().getRun(deadId)).resolves.toMatchObject({
      event: { type: 'completed' },
    });
  });
});

describe('the API surface', () => {
  const body = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
    workflow_id: WORKFLOW,
    parameters: {
      share_text: SHARE,
      task_id: 't',
      callback_url: 'http://127.0.0.1:9/hook',
      callback_token: 'x',
      ...params,
    },
    is_async: true,
    ...over,
  });

  it('a missing or wrong bearer is 4100, as Coze answers', async () => {
    const h = await harness();
    for (const auth of [null, 'Bearer nope', TOKEN, `bearer  ${TOKEN}x`]) {
      const r = await h.raw('POST', '/v1/workflow/run', body(), auth);
      expect(r).toMatchObject({ status: 401, json: { code: 4100 } });
      expect(JSON.stringify(r.json)).not.toContain(TOKEN);
    }
    expect((await h.raw('GET', historyPath('1'), undefined, null)).json.code).toBe(4100);
    await expect(h.client({ token: 'wrong-token' }).getRun('1')).rejects.toMatchObject({
      kind: 'token_invalid',
    });
  });

  it('an unknown workflow is 4200 (not published)', async () => {
    const h = await harness();
    expect(
      (await h.raw('POST', '/v1/workflow/run', body({ workflow_id: 'other' }))).json.code,
    ).toBe(4200);
    expect((await h.raw('GET', `/v1/workflows/other/run_histories/1`)).json.code).toBe(4200);
    await expect(
      h
        .client({ workflowId: 'other' })
        .startRun({ shareUrl: 'a', taskId: 'b', callbackUrl: 'http://x/', callbackToken: 'c' }),
    ).rejects.toMatchObject({
      kind: 'not_published',
      retryable: false,
    });
  });

  it.each([
    [
      'missing parameters',
      body({ parameters: undefined }),
      /share_text, task_id, callback_url, callback_token/,
    ],
    ['an empty task_id', body({}, { task_id: '' }), /task_id/],
    ['a numeric callback_token', body({}, { callback_token: 5 }), /callback_token/],
    ['a callback_url that is not http', body({}, { callback_url: 'ftp://x/hook' }), /callback_url/],
    ['a sync run', body({ is_async: false }), /is_async/],
    ['malformed JSON', '{"workflow_id":', /not JSON/],
  ])('%s is code 4000 naming the problem', async (_name, b, msg) => {
    const h = await harness();
    const r = await h.raw('POST', '/v1/workflow/run', b);
    expect(r.json.code).toBe(4000);
    expect(String(r.json.msg)).toMatch(msg);
    expect(h.standin.runs()).toHaveLength(0);
  });

  it('an unknown run is 4314; an unknown route is 404', async () => {
    const h = await harness();
    expect((await h.raw('GET', historyPath('7000000000000000000'))).json.code).toBe(4314);
    await expect(h.client().getRun('7000000000000000000')).rejects.toMatchObject({
      kind: 'run_not_found',
    });
    const r = await h.raw('GET', '/v1/nothing');
    expect(r.status).toBe(404);
  });

  it('logs never carry the token, the callback tokens or the webhook secret', async () => {
    const h = await harness({ callbackMode: 'duplicate' });
    await h.start(SHARE, 'task-log');
    await h.start('https://v.douyin.com/fail/', 'task-log2');
    await h.raw('POST', '/v1/workflow/run', body(), 'Bearer wrong');
    await h.standin.settle();
    const all = h.logs.join('\n');
    expect(all).toContain('task-log');
    for (const secret of [TOKEN, 'cbtok-task-log', 'cbtok-task-log2', SECRET, SECRET.slice(6)]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('persistence', () => {
  it('keeps runs in the data dir and resumes an unfinished run from its start time', async () => {
    const h = await harness({ delayMs: 240 });
    const id = await h.start();
    // Until the stand-in has seen the webhook's answer: a post cut short by close() is sent again.
    await waitFor(() => h.standin.runs()[0]?.stepsDone.length === 1);
    await h.standin.close();
    expect(h.hooks).toHaveLength(1);
    const file = join(h.dir, 'coze-standin.json');
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(h.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as {
      runs: { executeId: string; stepsDone: number[] }[];
    };
    expect(stored.runs).toMatchObject([{ executeId: id, stepsDone: [0] }]);

    const reopened = h.reopen({ delayMs: 5000 });
    // The run keeps the delay it started with, whatever the new setting.
    expect(reopened.runs()).toMatchObject([{ executeId: id, delayMs: 240, finishedAt: null }]);
    await expect(h.client().getRun(id)).resolves.toBeNull();
    await reopened.settle();
    expect(kinds(h)).toEqual(['progress 30', 'progress 70', 'completed']);
    expect(new Set(h.hooks.map((k) => verified(k).id)).size).toBe(3);
    expect(h.logs.some((l) => l.includes(`resuming run ${id}`))).toBe(true);

    // A finished run's history survives another restart.
    await reopened.close();
    const third = h.reopen();
    expect(third.runs()[0]).toMatchObject({ executeId: id, stepsDone: [0, 1, 2] });
    await expect(h.client().getRun(id)).resolves.toMatchObject({ event: { type: 'completed' } });
    await third.settle();
    expect(h.hooks).toHaveLength(3);
  });

  it('close() cancels what is scheduled', async () => {
    const h = await harness();
    await h.start();
    await h.standin.close();
    await new Promise((r) => setTimeout(r, DELAY + 60));
    expect(h.hooks).toHaveLength(0);
    expect(h.standin.runs()[0]).toMatchObject({ stepsDone: [], finishedAt: null });
    await h.standin.settle();
  });

  it('moves an unreadable store aside and starts empty', async () => {
    const h = await harness();
    await h.start();
    await h.standin.close();
    const file = join(h.dir, 'coze-standin.json');
    writeFileSync(file, '{"version":1,"runs":[{"oops":');
    const reopened = h.reopen();
    expect(reopened.runs()).toEqual([]);
    expect(readdirSync(h.dir).some((f) => f.startsWith('coze-standin.json.unreadable-'))).toBe(
      true,
    );
  });
});

describe('standinOptionsFromEnv', () => {
  const base = { dataDir: '/tmp/x', token: 't', workflowId: 'w', webhookSecret: SECRET };

  it('reads the three knobs', () => {
    expect(
      standinOptionsFromEnv(
        {
          COZE_STANDIN_DELAY_MS: '250',
          COZE_STANDIN_CALLBACK: 'Reorder',
          COZE_STANDIN_CREATE_ERROR_RATE: '0.25',
        },
        base,
      ),
    ).toEqual({ ...base, delayMs: 250, callbackMode: 'reorder', createErrorRate: 0.25 });
  });

  it('leaves unset or empty knobs to the defaults', () => {
    expect(standinOptionsFromEnv({ COZE_STANDIN_DELAY_MS: ' ' }, base)).toEqual(base);
  });

  it.each([
    ['COZE_STANDIN_DELAY_MS', 'soon'],
    ['COZE_STANDIN_DELAY_MS', '-5'],
    ['COZE_STANDIN_DELAY_MS', '1.5'],
    ['COZE_STANDIN_DELAY_MS', '9999999'],
    ['COZE_STANDIN_CALLBACK', 'sometimes'],
    ['COZE_STANDIN_CREATE_ERROR_RATE', '2'],
    ['COZE_STANDIN_CREATE_ERROR_RATE', '-0.1'],
    ['COZE_STANDIN_CREATE_ERROR_RATE', 'half'],
    ['COZE_STANDIN_START_ANSWER', 'broken'],
    ['COZE_STANDIN_QPS', '2.5'],
    ['COZE_STANDIN_QPS', '-1'],
  ])('rejects %s=%s with a message naming it', (name, value) => {
    expect(() => standinOptionsFromEnv({ [name]: value }, base)).toThrow(
      new RegExp(`^${name} must be`),
    );
  });

  it('createCozeStandin refuses an unusable secret or bad knobs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coze-standin-'));
    try {
      expect(() => createCozeStandin({ ...base, dataDir: dir, webhookSecret: 'whsec_' })).toThrow(
        /secret/,
      );
      expect(() => createCozeStandin({ ...base, dataDir: dir, createErrorRate: 3 })).toThrow(
        /createErrorRate/,
      );
      expect(() => createCozeStandin({ ...base, dataDir: dir, delayMs: -1 })).toThrow(/delayMs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Hardening (issue 10) on the local stack: the built functions in their own processes, the
 * emulator, the Coze stand-in and real HTTP. Each case is one a caller can do from outside.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractAnswer, ListAnswer, TaskAnswer } from '../shared/api';
import { postSignedCallback } from './support/webhook';
import { CONTENT_CUT_MARK, MAX_CONTENT_LENGTH, MAX_TITLE_LENGTH } from '../shared/result';
import { ERROR_MESSAGES } from '../shared/errors';
import { TaskStatus } from '../shared/status';
import { callFunction, watch, type WatchSnapshot } from '../emulator/client';
import { freePort, startProductStack, type ProductStack } from '../scripts/local-stack';
import { FAST_ENV } from './support/fault-world';

const DEADLINE_MS = 120_000;
const ALICE = 'o_hardening_alice';
const BOB = 'o_hardening_bob';
const LINK = 'https://v.douyin.com/iRNBho6u/';
const SHARE = `7.94 复制打开抖音，看看【小猫的作品】好可爱 ${LINK} :9pm`;
const TIMER_EVENT = () => ({
  Type: 'Timer',
  TriggerName: 'sweep',
  Time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  Message: '',
});

let product: ProductStack;
let dataDir: string;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'svt-hardening-'));
  // The stand-in drops its callbacks: the tests post their own, signed like the workflow's.
  product = await startProductStack({
    port: await freePort(),
    dataDir,
    env: { ...FAST_ENV, COZE_STANDIN_CALLBACK: 'drop' },
    timersEnabled: false,
    instancesPerFunction: 2,
    log: (l) => logs.push(l),
  });
}, DEADLINE_MS);

afterAll(async () => {
  await product?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const extract = (openid: string | undefined, data: unknown) =>
  callFunction(product.url, 'extractText', data, openid) as Promise<ExtractAnswer>;

function taskOf(answer: ExtractAnswer) {
  if (!answer.ok || !('task' in answer))
    throw new Error(`expected a task: ${JSON.stringify(answer)}`);
  return (answer as TaskAnswer).task;
}

async function submit(openid: string, shareText = SHARE) {
  const task = taskOf(await extract(openid, { action: 'create', shareText }));
  await product.standin!.settle();
  const run = product.standin!.runs().find((r) => r.taskId === task._id);
  if (!run) throw new Error('the stand-in never started the run');
  return { task, run };
}

const postCallback = (body: object) => postSignedCallback(product, body);

function completed(taskId: string, token: string, output: Record<string, string>) {
  return {
    type: 'workflow.execution.completed',
    data: { task_id: taskId, execute_id: '', callback_token: token, output },
  };
}

const adminRequests = () => product.stack.stats().adminRequests;

describe('only the timer sweeps (item 1)', () => {
  // First in the file, while nothing else touches the database.
  it(
    'a client call, a forged timer event and an HTTP call are refused without a database read',
    async () => {
      const before = adminRequests();
      const refused = { ok: false, error: { code: 'FORBIDDEN' } };
      // A mini-program user calling it by name.
      expect(await callFunction(product.url, 'taskSweeper', {}, ALICE)).toEqual(refused);
      // The same user sending exactly the timer's event: WXContext still carries the OPENID.
      expect(await callFunction(product.url, 'taskSweeper', TIMER_EVENT(), ALICE)).toEqual(refused);
      // A plain HTTP call to the client API without any identity.
      const http = await fetch(`${product.url}/functions/taskSweeper`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(TIMER_EVENT()),
      });
      expect(await http.json()).toEqual(refused);
      // Ten at once: still nothing read.
      const many = await Promise.all(
        Array.from({ length: 10 }, () =>
          callFunction(product.url, 'taskSweeper', TIMER_EVENT(), BOB),
        ),
      );
      expect(many).toEqual(Array.from({ length: 10 }, () => refused));
      expect(adminRequests()).toBe(before);
      expect(logs.filter((l) => l.includes('"sweep_refused"')).length).toBeGreaterThanOrEqual(13);
    },
    DEADLINE_MS,
  );

  it(
    'extractText from a timer or without an openid, and an unsigned webhook call, read nothing',
    async () => {
      const before = adminRequests();
      const noCaller = (await product.stack.runTimer('extractText')) as ExtractAnswer;
      expect(noCaller).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT', detail: 'caller: missing' },
      });
      expect(await extract(undefined, { action: 'list' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT' },
      });
      // webhookHandler called by name from the mini-program: no signature, refused first.
      const hook = (await callFunction(
        product.url,
        'webhookHandler',
        { action: 'list' },
        ALICE,
      )) as {
        statusCode: number;
      };
      expect(hook.statusCode).toBe(401);
      expect(adminRequests()).toBe(before);
    },
    DEADLINE_MS,
  );

  it(
    'the stack’s timer event is accepted and sweeps',
    async () => {
      const before = adminRequests();
      const report = (await product.stack.runTimer('taskSweeper')) as Record<string, unknown>;
      expect(report).toHaveProperty('dispatch');
      expect(report).toHaveProperty('cleaned');
      expect(adminRequests()).toBeGreaterThan(before);
    },
    DEADLINE_MS,
  );
});

describe('share texts with invisible characters (item 5)', () => {
  it(
    'a zero-width space or NUL inside the link never starts a shorter link',
    async () => {
      for (const ch of ['\u200b', '\u0000', '\ufeff']) {
        const { task, run } = await submit(
          ALICE,
          `看看这个 https://v.douyin.com/iRN${ch}Bho6u/ 好看`,
        );
        expect(task.input_url).toBe(LINK);
        expect(run.shareText).toBe(LINK);
        await extract(ALICE, { action: 'cancel', taskId: task._id });
      }
    },
    DEADLINE_MS,
  );
});

describe('list answers summaries, get the full task (item 6)', () => {
  it(
    'three long transcripts make a small page; get has the text, bounded',
    async () => {
      const content = `大家好。${'a'.repeat(300_000)}`;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { task, run } = await submit(BOB);
        const res = await postCallback(
          completed(task._id, run.callbackToken, {
            title: '长视频',
            content,
            cover: 'https://p3.example/c.jpg',
            video_url: 'https://v.example/v.mp4',
          }),
        );
        expect(res.status).toBe(200);
        ids.push(task._id);
      }
      const listed = (await extract(BOB, { action: 'list' })) as ListAnswer;
      expect(listed.tasks.map((t) => t.taskId)).toEqual([...ids].reverse());
      expect(Buffer.byteLength(JSON.stringify(listed))).toBeLessThan(5000);
      expect(listed.tasks[0]).toMatchObject({
        status: TaskStatus.Completed,
        title: '长视频',
        caption: '小猫的作品 · 好可爱',
        snippet: expect.stringMatching(/^大家好。a+…$/),
      });
      const full = taskOf(await extract(BOB, { action: 'get', taskId: ids[0] }));
      expect(full.result!.content).toBe(content.slice(0, MAX_CONTENT_LENGTH) + CONTENT_CUT_MARK);
      expect(Buffer.byteLength(JSON.stringify(full))).toBeLessThan(420_000);
    },
    DEADLINE_MS,
  );
});

describe('callback output is bounded and checked (item 8)', () => {
  it(
    'a 100 KB title is cut; javascript: cover and video links are dropped',
    async () => {
      const { task, run } = await submit(ALICE);
      const res = await postCallback(
        completed(task._id, run.callbackToken, {
          title: '标'.repeat(100_000),
          content: '正文',
          cover: 'javascript:alert(1)',
          video_url: 'javascript:alert(document.cookie)',
        }),
      );
      expect(res.status).toBe(200);
      const got = taskOf(await extract(ALICE, { action: 'get', taskId: task._id }));
      expect(Array.from(got.result!.title)).toHaveLength(MAX_TITLE_LENGTH + 1);
      expect(got.result).toMatchObject({ content: '正文', cover: '', video_url: '' });
      expect(logs.join('\n')).toContain('callback_output_adjusted');
    },
    DEADLINE_MS,
  );
});

describe('bad input is named (items 10 and 12)', () => {
  it(
    'a forged cursor far outside the date range is INVALID_INPUT',
    async () => {
      for (const cursor of ['zzzzzzzzzzzz.x', '1.x', `${Date.UTC(2999, 0).toString(36)}.x`]) {
        expect(await extract(ALICE, { action: 'list', cursor })).toMatchObject({
          ok: false,
          error: { code: 'INVALID_INPUT', detail: 'cursor: not one we gave' },
        });
      }
    },
    DEADLINE_MS,
  );

  it(
    'a malformed body names the field, in the answer and the log',
    async () => {
      expect(await extract(ALICE, { action: 'create', shareText: 7 })).toEqual({
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          message: ERROR_MESSAGES.INVALID_INPUT,
          detail: 'shareText: expected string, received number',
        },
      });
      expect(logs.some((l) => l.includes('request_malformed') && l.includes('shareText'))).toBe(
        true,
      );
    },
    DEADLINE_MS,
  );
});

describe('remove and clear (issue 13.3)', () => {
  it(
    'a removed running task is cancelled, leaves get, list and its owner’s watch',
    async () => {
      const { task } = await submit(ALICE);
      const snapshots: WatchSnapshot[] = [];
      const w = watch(
        product.url,
        ALICE,
        'tasks',
        { _id: task._id },
        (s) => snapshots.push(s),
        () => undefined,
      );
      try {
        await until(() => snapshots.length > 0);
        expect(snapshots[0]!.docs).toHaveLength(1);
        expect(await extract(BOB, { action: 'remove', taskId: task._id })).toMatchObject({
          ok: false,
          error: { code: 'NOT_FOUND' },
        });
        expect(await extract(ALICE, { action: 'remove', taskId: task._id })).toEqual({
          ok: true,
          removed: 1,
        });
        await until(() => snapshots.some((s) => s.docs.length === 0));
        expect(snapshots.flatMap((s) => s.docChanges.map((c) => c.dataType))).toContain('remove');
      } finally {
        w.close();
      }
      expect(await extract(ALICE, { action: 'get', taskId: task._id })).toMatchObject({
        ok: false,
        error: { code: 'NOT_FOUND' },
      });
      const listed = (await extract(ALICE, { action: 'list' })) as ListAnswer;
      expect(listed.tasks.map((t) => t.taskId)).not.toContain(task._id);
    },
    DEADLINE_MS,
  );

  it(
    'clear removes the finished tasks and keeps the running one',
    async () => {
      const CAROL = 'o_hardening_carol';
      const done = await submit(CAROL);
      await postCallback(
        completed(done.task._id, done.run.callbackToken, { title: 't', content: 'c' }),
      );
      const running = await submit(CAROL);
      expect(await extract(CAROL, { action: 'clear' })).toEqual({ ok: true, removed: 1, kept: 1 });
      const listed = (await extract(CAROL, { action: 'list' })) as ListAnswer;
      expect(listed.tasks.map((t) => t.taskId)).toEqual([running.task._id]);
    },
    DEADLINE_MS,
  );
});

describe('a bad setting never reaches a caller (item 7)', () => {
  it(
    'the client gets INTERNAL, the webhook 503, the log names the key',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'svt-hardening-bad-'));
      const badLogs: string[] = [];
      const bad = await startProductStack({
        port: await freePort(),
        dataDir: dir,
        // A setting all three functions are given (each gets only its own: shared/config.ts).
        env: { MINIPROGRAM_STATE: 'soon' },
        timersEnabled: false,
        instancesPerFunction: 1,
        log: (l) => badLogs.push(l),
      });
      try {
        const answer = await callFunction(bad.url, 'extractText', { action: 'list' }, ALICE);
        expect(answer).toEqual({
          ok: false,
          error: { code: 'INTERNAL', message: ERROR_MESSAGES.INTERNAL },
        });
        const hook = await fetch(`${bad.url}/webhook/coze`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(hook.status).toBe(503);
        const hookText = await hook.text();
        for (const text of [JSON.stringify(answer), hookText]) {
          expect(text).not.toMatch(/ConfigError|MINIPROGRAM_STATE|Invalid configuration|at \w+ \(/);
        }
        // The timer run fails too, but says only that the function is not configured.
        const sweep = await bad.stack.runTimer('taskSweeper').then(
          () => 'ran',
          (err: Error) => err.message,
        );
        expect(sweep).toContain('not configured');
        expect(sweep).not.toContain('MINIPROGRAM_STATE');
        const named = badLogs.filter((l) => l.includes('MINIPROGRAM_STATE'));
        expect(named.some((l) => l.includes('cold_start_failed'))).toBe(true);
        expect(named.some((l) => l.includes('not_configured'))).toBe(true);
        expect(badLogs.join('\n')).not.toContain('soon"');
      } finally {
        await bad.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    DEADLINE_MS,
  );
});

async function until(probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

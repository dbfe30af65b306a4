/**
 * Money and the doors of the product (issue 21) on the local stack: the built functions in their
 * own processes, the emulator, the Coze stand-in and real HTTP. Every run is charged exactly once,
 * a removed task is no free pass, a start whose outcome is unknown keeps its run, and what the
 * uploader controls never reaches a notice or a link unchecked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractAnswer, TaskAnswer } from '../shared/api';
import { postSignedCallback } from './support/webhook';
import { TaskStatus } from '../shared/status';
import type { TaskView } from '../shared/task';
import { callFunction, grantSubscriptions } from '../emulator/client';
import { freePort, startProductStack, type ProductStack } from '../scripts/local-stack';
import { FAST_ENV } from './support/fault-world';

const DEADLINE_MS = 120_000;
const LINK = 'https://v.douyin.com/iRNBho6u/';
const SHARE = `7.94 复制打开抖音，看看【小猫的作品】好可爱 ${LINK} :9pm`;
const FAILING = '复制打开抖音 https://v.douyin.com/fail0001/';

let product: ProductStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'svt-quota-'));
  product = await startProductStack({
    port: await freePort(),
    dataDir,
    env: { ...FAST_ENV, DAILY_QUOTA_PER_USER: '2', MAX_ACTIVE_TASKS_PER_USER: '1' },
    timersEnabled: false,
    instancesPerFunction: 2,
  });
}, DEADLINE_MS);

afterAll(async () => {
  await product?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  product.standin!.configure({ callbackMode: 'normal', startAnswer: 'normal' });
});

const extract = (openid: string, data: unknown) =>
  callFunction(product.url, 'extractText', data, openid) as Promise<ExtractAnswer>;

function taskOf(answer: ExtractAnswer): TaskView {
  if (!answer.ok || !('task' in answer))
    throw new Error(`expected a task: ${JSON.stringify(answer)}`);
  return (answer as TaskAnswer).task;
}

/** The task once the stand-in has carried out every run's plan (its callbacks all answered). */
async function settled(openid: string, taskId: string): Promise<TaskView> {
  await product.standin!.settle();
  return taskOf(await extract(openid, { action: 'get', taskId }));
}

const runsOf = (taskId: string) => product.standin!.runs().filter((r) => r.taskId === taskId);

describe('the daily quota holds across remove and retry (item 1)', () => {
  it(
    'a removed task’s request id is charged again, so the quota refuses it',
    async () => {
      const user = 'o_quota_remove';
      const key = { action: 'create', shareText: SHARE, requestId: 'request-0001' };
      const first = taskOf(await extract(user, key));
      expect((await settled(user, first._id)).status).toBe(TaskStatus.Completed);
      const second = taskOf(await extract(user, { action: 'create', shareText: SHARE }));
      expect((await settled(user, second._id)).status).toBe(TaskStatus.Completed);
      expect(await extract(user, { action: 'create', shareText: SHARE })).toMatchObject({
        ok: false,
        error: { code: 'QUOTA_EXCEEDED' },
      });
      expect(await extract(user, { action: 'remove', taskId: first._id })).toEqual({
        ok: true,
        removed: 1,
      });
      // The same request id again: before, its ledger entry was a free pass to a new run.
      for (let i = 0; i < 3; i++) {
        expect(await extract(user, key)).toMatchObject({
          ok: false,
          error: { code: 'QUOTA_EXCEEDED' },
        });
      }
      expect(runsOf(first._id)).toHaveLength(1);
    },
    DEADLINE_MS,
  );

  it(
    'a removed retry does not let the original be retried for free',
    async () => {
      const user = 'o_quota_retry';
      const failed = taskOf(await extract(user, { action: 'create', shareText: FAILING }));
      expect((await settled(user, failed._id)).status).toBe(TaskStatus.Failed);
      const retried = taskOf(await extract(user, { action: 'retry', taskId: failed._id }));
      expect((await settled(user, retried._id)).status).toBe(TaskStatus.Failed);
      await extract(user, { action: 'remove', taskId: retried._id });
      for (let i = 0; i < 3; i++) {
        expect(await extract(user, { action: 'retry', taskId: failed._id })).toMatchObject({
          ok: false,
          error: { code: 'QUOTA_EXCEEDED' },
        });
      }
      expect(runsOf(retried._id)).toHaveLength(1);
    },
    DEADLINE_MS,
  );
});

describe('a removed running task frees its slot at once (item 8)', () => {
  it(
    'create, remove, create with one active slot',
    async () => {
      const user = 'o_slot_remove';
      product.standin!.configure({ callbackMode: 'drop' });
      const running = taskOf(await extract(user, { action: 'create', shareText: SHARE }));
      expect(running.status).toBe(TaskStatus.Processing);
      expect(await extract(user, { action: 'remove', taskId: running._id })).toMatchObject({
        ok: true,
      });
      const next = taskOf(await extract(user, { action: 'create', shareText: SHARE }));
      expect(next.status).toBe(TaskStatus.Processing);
    },
    DEADLINE_MS,
  );
});

describe('a start whose answer is unreadable may have started its run (item 4)', () => {
  it.each(['truncated', 'empty'] as const)(
    'a start answered %s: the task waits for its run and completes from its callback',
    async (startAnswer) => {
      const user = `o_start_${startAnswer}`;
      product.standin!.configure({ startAnswer });
      const task = taskOf(await extract(user, { action: 'create', shareText: SHARE }));
      // Not failed: the run may be going, so the task runs with no known run id yet.
      expect(task.status).toBe(TaskStatus.Processing);
      expect(task.coze_execute_id).toBeNull();
      const done = await settled(user, task._id);
      expect(done.status).toBe(TaskStatus.Completed);
      expect(done.result?.content).toContain('本地模拟结果');
      // The run's own callbacks taught the task its run.
      expect(done.coze_execute_id).toBe(runsOf(task._id)[0]!.executeId);
      expect(runsOf(task._id)).toHaveLength(1);
    },
    DEADLINE_MS,
  );
});

describe('unknown fields are refused by name (item 6)', () => {
  it(
    'the old subscription flag name is INVALID_INPUT naming it, and nothing is created',
    async () => {
      const user = 'o_unknown_field';
      const answer = await extract(user, {
        action: 'create',
        shareText: SHARE,
        subscribed: { success: true, failed: true },
      });
      expect(answer).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT', detail: 'subscribed.failed: unknown field' },
      });
      expect(await extract(user, { action: 'list' })).toMatchObject({ ok: true, tasks: [] });
    },
    DEADLINE_MS,
  );
});

describe('text the uploader controls (item 13)', () => {
  let seq = 0;
  const postCompleted = (taskId: string, token: string, output: Record<string, string>) =>
    postSignedCallback(product, {
      type: 'workflow.execution.completed',
      data: { task_id: taskId, execute_id: '', callback_token: token, output },
    });

  it.each([
    ['http://127.0.0.1:3000/a.jpg', 'http://[::1]/v.mp4'],
    ['http://0x7f000001/a.jpg', 'http://localhost/v.mp4'],
    ['http://169.254.169.254/latest/meta-data/', 'https://exa\u202emple.com/v.mp4'],
  ])(
    'bidi controls leave the title and the notice; a cover at %s and a link at %s are dropped',
    async (cover, videoUrl) => {
      const user = `o_hostile_${++seq}`;
      product.standin!.configure({ callbackMode: 'drop' });
      await grantSubscriptions(product.url, user, [product.env.SUBSCRIBE_TEMPLATE_SUCCESS_ID!]);
      const task = taskOf(
        await extract(user, {
          action: 'create',
          shareText: SHARE,
          subscribed: { success: true, failure: false },
        }),
      );
      await product.standin!.settle();
      const token = runsOf(task._id)[0]!.callbackToken;
      const res = await postCompleted(task._id, token, {
        title: '\u202e4pm.exe\u202c 小猫',
        content: '文案\u2067内容\u2069',
        cover,
        video_url: videoUrl,
      });
      expect(res.status).toBe(200);
      const done = taskOf(await extract(user, { action: 'get', taskId: task._id }));
      expect(done.result).toEqual({
        title: '4pm.exe 小猫',
        content: '文案内容',
        cover: '',
        video_url: '',
      });
      const notice = product
        .outbox()
        .map((m) => m as { touser: string; data: Record<string, { value: string }> })
        .find((m) => m.touser === user);
      expect(notice).toBeDefined();
      for (const { value } of Object.values(notice!.data)) {
        expect(value).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
      }
    },
    DEADLINE_MS,
  );
});

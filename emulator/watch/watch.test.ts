/** Contract: the live watch over WebSocket, with writes made through the unmodified server SDK. */
import * as cloud from 'wx-server-sdk';
import { type WatchError, type WatchSnapshot, sdkInitOptions, watch } from '../client';
import type { LocalStack } from '..';
import {
  removeDir,
  startFixtureStack,
  tempDataDir,
  waitFor,
  type SdkDatabase,
  sdkDatabase,
} from '../testing';

jest.setTimeout(60_000);
// A snapshot comes within milliseconds; the deadline only ends a hang, on however busy a machine.
const STATE_DEADLINE_MS = 30_000;

let stack: LocalStack;
let dataDir: string;
let db: SdkDatabase;
const closers: { close(): void }[] = [];

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({
    dataDir,
    collections: ['tasks', 'echoes', 'ticks', 'progress'],
    clientReadRules: { progress: 'signed-in' },
  });
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
  db = sdkDatabase(cloud);
  await db
    .collection('tasks')
    .add({ data: { _id: 'a1', _openid: 'user-a', status: 'pending', progress: 0 } });
  await db
    .collection('tasks')
    .add({ data: { _id: 'b1', _openid: 'user-b', status: 'pending', progress: 0 } });
});

afterAll(async () => {
  for (const c of closers) c.close();
  await stack.close();
  removeDir(dataDir);
});

function open(
  openid: string,
  where: Record<string, unknown>,
): { snaps: WatchSnapshot[]; errors: WatchError[]; close(): void } {
  const snaps: WatchSnapshot[] = [];
  const errors: WatchError[] = [];
  const w = watch(
    stack.url,
    openid,
    'tasks',
    where,
    (s) => snaps.push(s),
    (e) => errors.push(e),
  );
  closers.push(w);
  return { snaps, errors, close: () => w.close() };
}

it('sends the init snapshot, then each change to a matching document within milliseconds', async () => {
  const w = open('user-a', { _openid: '{openid}' });
  await waitFor(() => w.snaps.length === 1, STATE_DEADLINE_MS);
  const init = w.snaps[0] as WatchSnapshot;
  expect(init).toMatchObject({ id: 0, type: 'init', docs: [{ _id: 'a1', _openid: 'user-a' }] });
  expect(init.docChanges).toEqual([
    {
      id: 0,
      dataType: 'init',
      queueType: 'init',
      docId: 'a1',
      doc: expect.objectContaining({ _id: 'a1' }),
    },
  ]);

  const at = new Date('2024-05-01T07:00:00.000Z');
  await db
    .collection('tasks')
    .doc('a1')
    .update({ data: { status: 'processing', progress: 40, started_at: at } });
  // How fast it arrives is the benchmark's to measure; here only that it does.
  await waitFor(() => w.snaps.length === 2, STATE_DEADLINE_MS, 2);
  const upd = w.snaps[1] as WatchSnapshot;
  expect(upd.id).toBe(1);
  expect(upd.docChanges).toEqual([
    {
      id: 1,
      dataType: 'update',
      queueType: 'update',
      docId: 'a1',
      doc: {
        _id: 'a1',
        _openid: 'user-a',
        status: 'processing',
        progress: 40,
        started_at: at.toISOString(),
      },
      updatedFields: { status: 'processing', progress: 40, started_at: at.toISOString() },
      removedFields: [],
    },
  ]);
  expect(upd.docs).toHaveLength(1);

  await db.collection('tasks').add({ data: { _id: 'a2', _openid: 'user-a', status: 'pending' } });
  await waitFor(() => w.snaps.length === 3, STATE_DEADLINE_MS);
  expect(w.snaps[2]?.docChanges[0]).toMatchObject({
    dataType: 'add',
    queueType: 'enqueue',
    docId: 'a2',
  });
  expect(w.snaps[2]?.docs.map((d) => d._id)).toEqual(['a1', 'a2']);

  await db.collection('tasks').doc('a2').remove();
  await waitFor(() => w.snaps.length === 4, STATE_DEADLINE_MS);
  expect(w.snaps[3]?.docChanges[0]).toMatchObject({
    dataType: 'remove',
    queueType: 'dequeue',
    docId: 'a2',
  });

  // Another user's documents never reach this watch.
  await db
    .collection('tasks')
    .doc('b1')
    .update({ data: { progress: 99 } });
  await db.collection('tasks').add({ data: { _id: 'b2', _openid: 'user-b' } });
  await new Promise((r) => setTimeout(r, 100));
  expect(w.snaps).toHaveLength(4);
  expect(w.snaps.flatMap((s) => s.docs).every((d) => d._openid === 'user-a')).toBe(true);
  expect(w.errors).toEqual([]);
});

it('reports documents leaving or entering the query as dequeue/enqueue', async () => {
  const w = open('user-a', { _id: 'a1', status: { $in: ['pending', 'processing'] } });
  await waitFor(() => w.snaps.length === 1, STATE_DEADLINE_MS);
  await db
    .collection('tasks')
    .doc('a1')
    .update({ data: { status: 'completed' } });
  await waitFor(() => w.snaps.length === 2, STATE_DEADLINE_MS);
  expect(w.snaps[1]).toMatchObject({
    docChanges: [{ dataType: 'update', queueType: 'dequeue', docId: 'a1' }],
    docs: [],
  });
  await db
    .collection('tasks')
    .doc('a1')
    .update({ data: { status: 'pending' } });
  await waitFor(() => w.snaps.length === 3, STATE_DEADLINE_MS);
  expect(w.snaps[2]?.docChanges[0]?.queueType).toBe('enqueue');
  w.close();
  await db
    .collection('tasks')
    .doc('a1')
    .update({ data: { status: 'processing' } });
  await new Promise((r) => setTimeout(r, 100));
  expect(w.snaps).toHaveLength(3);
});

it('refuses a query for another openid and unknown collections', async () => {
  const other = open('user-a', { _openid: 'user-b' });
  await waitFor(() => other.errors.length === 1, STATE_DEADLINE_MS);
  expect(other.errors[0]?.code).toBe('PERMISSION_DENIED');
  expect(other.snaps).toEqual([]);
  const errors: WatchError[] = [];
  closers.push(
    watch(
      stack.url,
      'user-a',
      'ghosts',
      {},
      () => undefined,
      (e) => errors.push(e),
    ),
  );
  await waitFor(() => errors.length === 1, STATE_DEADLINE_MS);
  expect(errors[0]?.code).toBe('COLLECTION_NOT_EXIST');
});

it("counts each openid's snapshots: the init answer apart from the pushed changes", async () => {
  await db.collection('tasks').add({ data: { _id: 'c1', _openid: 'user-c', status: 'pending' } });
  expect(stack.stats().watchPushes['user-c']).toBeUndefined();
  const w = open('user-c', { _id: 'c1' });
  await waitFor(() => w.snaps.length === 1, STATE_DEADLINE_MS);
  await db
    .collection('tasks')
    .doc('c1')
    .update({ data: { status: 'processing' } });
  await waitFor(() => w.snaps.length === 2, STATE_DEADLINE_MS);
  // Another user's write is neither sent nor counted for user-c.
  await db
    .collection('tasks')
    .doc('b1')
    .update({ data: { progress: 7 } });
  await db
    .collection('tasks')
    .doc('c1')
    .update({ data: { status: 'completed' } });
  await waitFor(() => w.snaps.length === 3, STATE_DEADLINE_MS);
  expect(stack.stats().watchPushes['user-c']).toEqual({ init: 1, change: 2 });
  w.close();
});

it('a collection any signed-in user may read is watched as asked, not ANDed with the caller', async () => {
  await db.collection('progress').add({ data: { _id: 'shared', done: 1 } });
  const snaps: WatchSnapshot[] = [];
  const w = watch(
    stack.url,
    'user-z',
    'progress',
    { _id: 'shared' },
    (s) => snaps.push(s),
    () => {},
  );
  closers.push(w);
  await waitFor(() => snaps.length === 1, STATE_DEADLINE_MS);
  expect(snaps[0]?.docs).toEqual([{ _id: 'shared', done: 1 }]);
  await db
    .collection('progress')
    .doc('shared')
    .update({ data: { done: 2 } });
  await waitFor(() => snaps.length === 2, STATE_DEADLINE_MS);
  expect(snaps[1]?.docs[0]).toMatchObject({ done: 2 });
  // The owner-only collections stay the caller's own.
  const theirs: WatchSnapshot[] = [];
  const t = watch(
    stack.url,
    'user-z',
    'tasks',
    {},
    (s) => theirs.push(s),
    () => {},
  );
  closers.push(t);
  await waitFor(() => theirs.length === 1, STATE_DEADLINE_MS);
  expect(theirs[0]?.docs).toEqual([]);
  w.close();
  t.close();
});

/**
 * The live watch's limits (issue 23 item 6), on the real server: connections per environment,
 * watches per client connection, documents per watch, each answered as the client reads it; and a
 * live watch cut as a lost network cuts it.
 */
import WebSocket from 'ws';
import { DOCUMENTED_WATCH_LIMITS, type LocalStack } from '../index';
import { watch as watchTask, type WatchError } from '../client';
import { adminCall, removeDir, startFixtureStack, tempDataDir, waitFor } from '../testing';
import type { WatchServerMessage } from './protocol';

let stack: LocalStack;
let dataDir: string;
const opened: WebSocket[] = [];

beforeAll(async () => {
  dataDir = tempDataDir('watch-limits-');
  stack = await startFixtureStack({
    dataDir,
    watchLimits: { maxConnections: 3, maxWatchesPerConnection: 2, maxDocsPerWatch: 3 },
  });
});

afterEach(async () => {
  for (const ws of opened.splice(0)) ws.terminate();
  await waitFor(() => stack.watches().connections === 0);
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) removeDir(dataDir);
});

/** One client connection, its messages as they come, and how it closed. */
interface Client {
  ws: WebSocket;
  messages: WatchServerMessage[];
  closed: Promise<number>;
  send(msg: object): void;
  next(pred: (m: WatchServerMessage) => boolean): Promise<WatchServerMessage>;
}

function connect(openid: string): Promise<Client> {
  const ws = new WebSocket(`${stack.url.replace(/^http/, 'ws')}/_watch?openid=${openid}`);
  opened.push(ws);
  const messages: WatchServerMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as WatchServerMessage));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        closed,
        send: (msg) => ws.send(JSON.stringify(msg)),
        next: async (pred) => (await waitFor(() => messages.find(pred)))!,
      }),
    );
  });
}

const insert = (docs: object[]) =>
  adminCall(stack.adminUrl, {
    action: 'database.insertDocument',
    collectionName: 'tasks',
    data: docs.map((d) => JSON.stringify(d)),
  });

it('defaults to the documented figures: 50,000 connections, 5,000 documents a watch', () => {
  expect(DOCUMENTED_WATCH_LIMITS).toEqual({
    maxConnections: 50_000,
    maxWatchesPerConnection: Number.POSITIVE_INFINITY,
    maxDocsPerWatch: 5_000,
  });
});

it('refuses a connection past the environment’s limit with TOO_MANY_CONNECTIONS and close 1013', async () => {
  await Promise.all(['u1', 'u2', 'u3'].map((u) => connect(u)));
  expect(stack.watches().connections).toBe(3);
  const fourth = await connect('u4');
  const refused = await fourth.next((m) => m.op === 'error');
  expect(refused).toEqual({
    op: 'error',
    watchId: null,
    error: {
      code: 'TOO_MANY_CONNECTIONS',
      message: 'realtime connections limit reached (3 per environment)',
    },
  });
  expect(await fourth.closed).toBe(1013);
  // A place freed is a place taken.
  opened[0]!.terminate();
  await waitFor(() => stack.watches().connections === 2);
  const fifth = await connect('u5');
  fifth.send({ op: 'watch', watchId: 'w', collection: 'tasks', where: {} });
  expect(await fifth.next((m) => m.op === 'snapshot')).toMatchObject({ watchId: 'w' });
});

it('refuses a watch past the client’s limit; the client’s other watches go on', async () => {
  const c = await connect('u-many');
  for (const id of ['a', 'b', 'c']) {
    c.send({ op: 'watch', watchId: id, collection: 'tasks', where: { kind: id } });
  }
  expect(await c.next((m) => m.op === 'error')).toEqual({
    op: 'error',
    watchId: 'c',
    error: {
      code: 'TOO_MANY_WATCHES',
      message: 'realtime watches limit reached (2 per client connection)',
    },
  });
  await insert([{ _openid: 'u-many', kind: 'a' }]);
  expect(await c.next((m) => m.op === 'snapshot' && m.snapshot.type !== 'init')).toMatchObject({
    watchId: 'a',
  });
  expect(stack.watches()).toEqual({ connections: 1, watches: 2 });
});

it('ends a watch that matches more documents than allowed, at start or on a change', async () => {
  await insert([1, 2, 3, 4].map((i) => ({ _openid: 'u-docs', group: 'big', i })));
  await insert([1, 2, 3].map((i) => ({ _openid: 'u-docs', group: 'full', i })));
  const c = await connect('u-docs');
  c.send({ op: 'watch', watchId: 'big', collection: 'tasks', where: { group: 'big' } });
  c.send({ op: 'watch', watchId: 'full', collection: 'tasks', where: { group: 'full' } });
  const tooMany = {
    op: 'error',
    error: { code: 'TOO_MANY_DOCS', message: 'a watch may match at most 3 documents' },
  };
  expect(await c.next((m) => m.op === 'error' && m.watchId === 'big')).toMatchObject(tooMany);
  expect(await c.next((m) => m.op === 'snapshot' && m.watchId === 'full')).toMatchObject({
    snapshot: { type: 'init' },
  });
  await insert([{ _openid: 'u-docs', group: 'full', i: 4 }]);
  expect(await c.next((m) => m.op === 'error' && m.watchId === 'full')).toMatchObject(tooMany);
  // Stopped: no snapshot of it after its error, and the connection stays open. A watch started
  // after the write answers after anything the write caused (one socket keeps its order).
  await insert([{ _openid: 'u-docs', group: 'full', i: 5 }]);
  c.send({ op: 'watch', watchId: 'probe', collection: 'tasks', where: { group: 'none' } });
  await c.next((m) => m.op === 'snapshot' && m.watchId === 'probe');
  expect(c.messages.filter((m) => m.op === 'snapshot' && m.watchId === 'full')).toHaveLength(1);
  expect(stack.watches()).toEqual({ connections: 1, watches: 1 });
});

it('drops a user’s live watch as a lost network would; another user’s goes on', async () => {
  const errors: WatchError[] = [];
  const snapshots: unknown[] = [];
  const dropped = watchTask(
    stack.url,
    'u-drop',
    'tasks',
    {},
    () => undefined,
    (e) => errors.push(e),
  );
  const kept = watchTask(
    stack.url,
    'u-keep',
    'tasks',
    {},
    (s) => snapshots.push(s),
    () => undefined,
  );
  await waitFor(() => stack.watches().watches === 2);
  expect(stack.dropWatches('u-drop')).toBe(1);
  await waitFor(() => errors.length === 1);
  expect(errors[0]).toMatchObject({ code: 'CONNECTION_CLOSED' });
  await insert([{ _openid: 'u-keep', kind: 'after' }]);
  await waitFor(() => snapshots.length === 2);
  expect(stack.watches()).toEqual({ connections: 1, watches: 1 });
  dropped.close();
  kept.close();
});

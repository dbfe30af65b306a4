import { installWxMocks, setWx, settle } from '../test/setup';
import { resetConfig, setConfig } from '../config';
import { getBackend, getTask, listTasks } from './index';
import { recordGrants } from './subscribe';
import type { WatchSnapshot } from './types';

interface Sent {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
}

/** A SocketTask the test plays the server of. */
class FakeSocket {
  readonly sent: Record<string, unknown>[] = [];
  closed = false;
  private readonly on: Record<string, ((arg: unknown) => void)[]> = {};
  constructor(readonly url: string) {}
  send(o: { data: string }) {
    this.sent.push(JSON.parse(o.data) as Record<string, unknown>);
  }
  close() {
    this.closed = true;
  }
  onOpen = (cb: (a: unknown) => void) => this.listen('open', cb);
  onMessage = (cb: (a: unknown) => void) => this.listen('message', cb);
  onError = (cb: (a: unknown) => void) => this.listen('error', cb);
  onClose = (cb: (a: unknown) => void) => this.listen('close', cb);
  private listen(kind: string, cb: (a: unknown) => void) {
    (this.on[kind] ??= []).push(cb);
  }
  emit(kind: string, arg: unknown = {}) {
    for (const cb of this.on[kind] ?? []) cb(arg);
  }
  push(msg: object) {
    this.emit('message', { data: JSON.stringify(msg) });
  }
}

let requests: Sent[];
let sockets: FakeSocket[];
let reply: (req: Sent) => { statusCode: number; data: unknown };

beforeEach(() => {
  jest.useFakeTimers();
  installWxMocks();
  requests = [];
  sockets = [];
  reply = () => ({ statusCode: 200, data: { ok: true, tasks: [], nextCursor: null } });
  setWx({
    request: (o: Sent & { success(r: object): void }) => {
      requests.push(o);
      setTimeout(() => o.success(reply(o)), 1);
    },
    connectSocket: (o: { url: string }) => {
      const s = new FakeSocket(o.url);
      sockets.push(s);
      return s;
    },
  });
  resetConfig();
  setConfig({ mode: 'local', local: { baseUrl: 'http://127.0.0.1:3999/', openid: 'dev-1' } });
});

afterEach(() => jest.useRealTimers());

it('local mode: calls go over HTTP as the configured user; grants are recorded', async () => {
  expect(getBackend().mode).toBe('local');
  const listed = listTasks(null);
  await settle(5);
  expect(await listed).toEqual({ ok: true, tasks: [], nextCursor: null });
  expect(requests[0]).toMatchObject({
    url: 'http://127.0.0.1:3999/functions/extractText',
    method: 'POST',
    data: { action: 'list', limit: 20 },
    header: { 'x-wx-openid': 'dev-1' },
  });

  const granted = recordGrants({
    success: true,
    failure: false,
    accepted: ['local-success-template'],
  });
  await settle(5);
  await granted;
  expect(requests[1]).toMatchObject({
    url: 'http://127.0.0.1:3999/_grants',
    data: { openid: 'dev-1', templateIds: ['local-success-template'] },
  });

  reply = () => ({ statusCode: 502, data: 'Bad Gateway' });
  const lost = getTask('t1');
  await settle(5);
  expect(await lost).toMatchObject({ ok: false, code: 'NETWORK' });
});

it('local mode: watches share one socket, route snapshots by id and fail together', async () => {
  const a: WatchSnapshot[] = [];
  const errors: unknown[] = [];
  const backend = getBackend();
  const wa = backend.watchTask('A', { onChange: (s) => a.push(s), onError: (e) => errors.push(e) });
  const wb = backend.watchTask('B', { onChange: () => undefined, onError: (e) => errors.push(e) });
  expect(sockets).toHaveLength(1);
  const socket = sockets[0]!;
  expect(socket.url).toBe('ws://127.0.0.1:3999/_watch?openid=dev-1');
  expect(socket.sent).toHaveLength(0); // queued until open
  socket.emit('open');
  expect(socket.sent.map((m) => [m.op, m.collection, m.where])).toEqual([
    ['watch', 'tasks', { _id: 'A', _openid: '{openid}' }],
    ['watch', 'tasks', { _id: 'B', _openid: '{openid}' }],
  ]);
  const idA = socket.sent[0]!.watchId;
  socket.push({
    op: 'snapshot',
    watchId: idA,
    snapshot: { id: 0, type: 'init', docChanges: [], docs: [] },
  });
  socket.push({ op: 'snapshot', watchId: 'someone-else', snapshot: { docChanges: [], docs: [] } });
  expect(a).toEqual([{ id: 0, type: 'init', docChanges: [], docs: [] }]);

  wa.close();
  expect(socket.sent[2]).toEqual({ op: 'close', watchId: idA });
  expect(socket.closed).toBe(false); // B still watches
  socket.emit('close', { code: 1006 });
  expect(errors).toHaveLength(1); // only B was still open
  wb.close(); // closing a failed watch is harmless
  // The next watch opens a new socket.
  backend.watchTask('C', { onChange: () => undefined, onError: () => undefined }).close();
  expect(sockets).toHaveLength(2);
  expect(sockets[1]!.closed).toBe(true);
});

it('local mode: the queue is watched on the same socket; a snapshot without its document is told as such', async () => {
  const seen: WatchSnapshot[] = [];
  getBackend().watchQueue({ onChange: (s) => seen.push(s), onError: () => undefined });
  const socket = sockets[0]!;
  socket.emit('open');
  expect(socket.sent).toEqual([
    expect.objectContaining({ op: 'watch', collection: 'queue', where: { _id: 'coze' } }),
  ]);
  // Today's local stack ANDs the caller's openid, so its first snapshot is empty: the queue
  // feed then falls back to `get` (queue-feed.ts).
  const watchId = socket.sent[0]!.watchId as string;
  socket.push({
    op: 'snapshot',
    watchId,
    snapshot: { id: 1, type: 'init', docChanges: [], docs: [] },
  });
  expect(seen).toEqual([{ id: 1, type: 'init', docChanges: [], docs: [] }]);
});

/** The queue's record, second by second, from hand-made task writes, state documents and refusals. */
import { QueueRecord } from './queue-record';

const T0 = 1_700_000_000_000;
const pending = (id: string) => ({ _id: id, status: 'pending' });
const processing = (id: string) => ({ _id: id, status: 'processing' });

it('counts tasks waiting, starts, refusals and waits given up, a second each', () => {
  const r = new QueueRecord(1, T0);
  r.noteTask(null, pending('a'), T0 + 100);
  r.noteTask(null, pending('b'), T0 + 200);
  r.noteTask(null, pending('c'), T0 + 1100);
  r.noteRefusedStart(T0 + 2100);
  r.noteTask(pending('a'), processing('a'), T0 + 2500);
  // A progress write of a running task changes nothing here.
  r.noteTask(processing('a'), { ...processing('a'), progress: 30 }, T0 + 2600);
  r.noteTask(pending('b'), { _id: 'b', status: 'failed', error_code: 'TOO_BUSY' }, T0 + 3200);
  // A task removed while it waited leaves the queue too.
  r.noteTask(pending('c'), null, T0 + 4200);
  const s = r.series(T0, T0 + 5000);
  expect(s).toMatchObject({
    from: T0,
    seconds: 5,
    waiting: [3, 4, 3, 2, 1],
    starts: [0, 0, 1, 0, 0],
    refusedStarts: [0, 0, 1, 0, 0],
    gaveUp: [0, 0, 0, 1, 0],
  });
  // A series that starts later carries the count in force.
  expect(r.series(T0 + 3000, T0 + 5000).waiting).toEqual([2, 1]);
  expect(r.burstSince()).toBe(T0);
});

it("follows the dispatcher's lease and what it published; none between leases", () => {
  const r = new QueueRecord(0, T0);
  expect(r.burstSince()).toBeNull();
  const state = (holder: string | null, until: number, rate: number, qps: number) => ({
    _id: 'coze',
    lease_holder: holder,
    lease_until: new Date(until),
    rate,
    qps,
  });
  r.noteState(state('h1', T0 + 61_000, 0, 1.9), T0 + 1000);
  r.noteState(state('h1', T0 + 61_000, 0.8, 0.95), T0 + 3000);
  // Given back when done: the lease ends then, not at its bound.
  r.noteState(state(null, T0 + 4500, 0.8, 0.95), T0 + 4500);
  const s = r.series(T0, T0 + 6000);
  expect(s.leases).toEqual([{ holder: 'h1', from: T0 + 1000, until: T0 + 4500 }]);
  expect(s.qps).toEqual([null, 1.9, 1.9, 0.95, 0.95, null]);
  expect(s.rate).toEqual([null, 0, 0, 0.8, 0.8, null]);
  expect(r.burstSince()).toBe(T0 + 1000);
});

it("keeps the stand-in's QPS knob as it changed, and settles a drifted count from a full read", () => {
  const r = new QueueRecord(0, T0);
  r.noteStandinQps(0, T0);
  r.noteStandinQps(1, T0 + 2000);
  r.resync(4, T0 + 3000);
  const s = r.series(T0, T0 + 4000);
  expect(s.standinQps).toEqual([null, null, 1, 1]);
  expect(s.waiting).toEqual([0, 0, 0, 4]);
});

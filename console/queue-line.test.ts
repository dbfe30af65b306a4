/** The queue's line: the dispatcher's order, each place and wait, and what each user's page shows. */
import { emptyQueueState } from '../shared/queue';
import { queueLine, type WaitingTask } from './queue-line';

const T0 = 1_700_000_000_000;

function waiting(id: string, openid: string, at: number, extra: Partial<WaitingTask> = {}) {
  return {
    id,
    openid,
    platform: 'douyin',
    createdAt: at,
    nextDispatchAt: at,
    expiresAt: at + 600_000,
    startAttempts: 0,
    ticket: null,
    ...extra,
  };
}

it("orders waiting tasks as the dispatcher does, each user's first before anyone's second", () => {
  const state = { ...emptyQueueState(new Date(T0)), rate: 2, backlog: 3 };
  const line = queueLine({
    tasks: [
      waiting('a1', 'alice', T0 - 5000),
      waiting('a2', 'alice', T0 - 4000),
      waiting('b1', 'bob', T0 - 3000),
      // Its create is still making its own start: not in line yet.
      waiting('c1', 'carol', T0 - 100, { nextDispatchAt: T0 + 9000 }),
    ],
    state,
    cozeQps: 50,
    sweeperAt: T0 + 10_000,
    now: T0,
  });
  expect(line.tasks.map((t) => [t.id, t.place, t.waitS])).toEqual([
    ['a1', 1, 11],
    ['b1', 2, 11],
    ['a2', 3, 12],
    ['c1', null, null],
  ]);
  expect(line).toMatchObject({ drainRate: 2, untilDispatchS: 10, dispatching: false });
  expect(line.createMode).toBe('queue');
});

it('waits from now while a dispatcher runs; no estimate when no sweep is coming', () => {
  const state = {
    ...emptyQueueState(new Date(T0)),
    lease_holder: 'h1',
    lease_until: new Date(T0 + 30_000),
    started_total: 7,
    qps: 9.5,
  };
  const ticket = { ahead: 4, started_seen: 5 };
  const running = queueLine({
    tasks: [waiting('a1', 'alice', T0 - 1000, { ticket })],
    state,
    cozeQps: 10,
    sweeperAt: null,
    now: T0,
  });
  // Before any measured rate: COZE_QPS less the history reads' share (8 a second); the page uses
  // the dispatcher's own rate (9.5, less the share) and its ticket less the starts since (2 ahead).
  expect(running.tasks[0]).toMatchObject({ place: 1, waitS: 1, page: { ahead: 2, waitS: 1 } });
  expect(running).toMatchObject({ dispatching: true, untilDispatchS: 0, drainRate: 8 });
  const idle = queueLine({
    tasks: [waiting('a1', 'alice', T0 - 1000)],
    state: emptyQueueState(new Date(T0)),
    cozeQps: 10,
    sweeperAt: null,
    now: T0,
  });
  expect(idle.tasks[0]).toMatchObject({ place: 1, waitS: null, page: null });
  expect(idle.createMode).toBe('direct');
});

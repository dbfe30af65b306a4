import {
  AdaptiveRate,
  admitsWait,
  createStartMode,
  emptyQueueState,
  estimateWaitS,
  fairOrder,
  measuredSweepEvery,
  queuePosition,
  untilDispatchS,
  type QueueState,
} from './queue';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const state = (patch: Partial<QueueState> = {}): QueueState => ({
  ...emptyQueueState(at(0)),
  ...patch,
});

describe('untilDispatchS: when the next dispatcher runs', () => {
  it('is 0 while a dispatcher holds the lease', () => {
    expect(untilDispatchS(state({ lease_until: at(5000) }), at(0))).toBe(0);
  });

  it('is the time to the next sweep after the last one', () => {
    const s = state({ swept_at: at(-20_000), sweep_every_ms: 60_000 });
    expect(untilDispatchS(s, at(0))).toBe(40);
  });

  it('takes a sweep a little late as imminent', () => {
    const s = state({ swept_at: at(-62_000), sweep_every_ms: 60_000 });
    expect(untilDispatchS(s, at(0))).toBe(0);
  });

  it('with no sweep known, waits for the timer tick at the start of the next minute', () => {
    // A new environment: swept_at is the epoch. 10:00:15 waits for 10:01:00, not 0 s.
    expect(untilDispatchS(state(), at(15_000))).toBe(45);
    expect(untilDispatchS(state(), at(59_000))).toBe(1);
  });

  it('with no sweep for more than a period, also waits for the next tick', () => {
    const s = state({ swept_at: at(-600_000), sweep_every_ms: 60_000 });
    expect(untilDispatchS(s, at(30_000))).toBe(30);
  });
});

describe('estimateWaitS and admitsWait: the admission at submit', () => {
  it('waits for the next sweep, then the places ahead at the measured rate', () => {
    const s = state({ swept_at: at(-50_000), rate: 2 });
    expect(estimateWaitS(99, s, 3, at(0))).toBe(10 + 100 / 2);
  });

  it('plans with the bucket less the history reads before any rate was measured', () => {
    const s = state({ lease_until: at(60_000) });
    expect(estimateWaitS(23, s, 3, at(0))).toBeCloseTo(24 / 2.4);
  });

  it('accepts up to a margin under the bound, so an accepted task starts within it', () => {
    expect(admitsWait(100, 120)).toBe(true);
    expect(admitsWait(102, 120)).toBe(true);
    expect(admitsWait(103, 120)).toBe(false);
    expect(admitsWait(119, 120)).toBe(false);
  });
});

describe('queuePosition: where a waiting task stands', () => {
  it('is its place at submit less the starts since, never below none', () => {
    const ticket = { ahead: 10, started_seen: 100 };
    expect(queuePosition(ticket, { started_total: 104, rate: 2, qps: 3 })).toEqual({
      ahead: 6,
      waitS: 4,
    });
    expect(queuePosition(ticket, { started_total: 150, rate: 2, qps: 3 }).ahead).toBe(0);
  });

  it('has no wait to show when nothing drains', () => {
    expect(
      queuePosition({ ahead: 3, started_seen: 0 }, { started_total: 0, rate: 0, qps: 0 }),
    ).toEqual({ ahead: 3, waitS: 0 });
  });
});

describe('createStartMode', () => {
  it('starts directly while the queue is idle', () => {
    expect(createStartMode(state(), at(0))).toBe('direct');
  });

  it('takes a slot after Coze refused a create and no dispatcher runs', () => {
    expect(createStartMode(state({ busy_until: at(10_000) }), at(0))).toBe('slot');
  });

  it('leaves the start to the queue while a backlog waits or a dispatcher runs', () => {
    expect(createStartMode(state({ backlog: 1 }), at(0))).toBe('queue');
    expect(createStartMode(state({ lease_until: at(1) }), at(0))).toBe('queue');
  });
});

describe('fairOrder', () => {
  it("starts each user's first waiting task before anyone's second, oldest first", () => {
    const task = (id: string, user: string, ms: number) => ({
      id,
      _openid: user,
      next_dispatch_at: at(ms),
    });
    const order = fairOrder([
      task('a1', 'a', 0),
      task('a2', 'a', 1),
      task('a3', 'a', 2),
      task('b1', 'b', 3),
      task('c1', 'c', 4),
      task('b2', 'b', 5),
    ]).map((t) => t.id);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });
});

describe('measuredSweepEvery', () => {
  it('smooths the time since the last sweep into the period', () => {
    const s = state({ swept_at: at(-70_000), sweep_every_ms: 60_000 });
    expect(measuredSweepEvery(s, at(0))).toBe(65_000);
  });

  it('ignores a gap no timer makes (the first sweep, or a stop of hours)', () => {
    expect(measuredSweepEvery(state(), at(0))).toBe(60_000);
    expect(measuredSweepEvery(state({ swept_at: at(-3_600_000) }), at(0))).toBe(60_000);
  });
});

describe('AdaptiveRate', () => {
  it('spaces calls just under the ceiling', () => {
    const rate = new AdaptiveRate(10, 0);
    const first = rate.take(0);
    const second = rate.take(0);
    expect(first).toBe(0);
    expect(second).toBeCloseTo(1000 / 9.5);
  });

  it('halves on a refusal and climbs back by a tenth of the ceiling each calm second', () => {
    const rate = new AdaptiveRate(10, 0);
    rate.refused(0);
    expect(rate.current()).toBeCloseTo(4.75);
    rate.take(2000);
    expect(rate.current()).toBeCloseTo(6.75);
    rate.take(10_000);
    expect(rate.current()).toBeCloseTo(9.5);
  });

  it('never falls below a twentieth of the ceiling', () => {
    const rate = new AdaptiveRate(10, 0);
    for (let i = 0; i < 20; i++) rate.refused(0);
    expect(rate.current()).toBeCloseTo(0.5);
  });
});

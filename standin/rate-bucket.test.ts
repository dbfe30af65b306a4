import { RateBucket } from './rate-bucket';

describe('the rate bucket (Coze’s one bucket for starts and history reads)', () => {
  it('takes QPS calls at once, then as fast as it refills, and refuses the rest', () => {
    const b = new RateBucket(3, 10_000);
    expect([1, 2, 3, 4].map(() => b.take('start', 10_000))).toEqual([true, true, true, false]);
    // A third of a second refills one token, shared by both kinds of call.
    expect(b.take('history', 10_334)).toBe(true);
    expect(b.take('start', 10_334)).toBe(false);
    expect(b.traffic()).toEqual([
      { at: 10_000, started: 3, read: 1, refused: 2, refusedStarts: 2 },
    ]);
  });

  it('evenly spaced calls at the rate are never refused', () => {
    const b = new RateBucket(5, 0);
    for (let t = 0; t < 10_000; t += 200) expect(b.take('start', t)).toBe(true);
  });

  it('a rate under one a second lets one call through every 1 / QPS seconds', () => {
    const b = new RateBucket(0.5, 0);
    expect([b.take('start', 0), b.take('start', 0)]).toEqual([true, false]);
    expect(b.take('start', 1_000)).toBe(false);
    expect(b.take('start', 2_000)).toBe(true);
  });

  it('0 is no limit; a new limit starts full', () => {
    const b = new RateBucket(0, 0);
    for (let i = 0; i < 100; i++) expect(b.take('start', 0)).toBe(true);
    b.setQps(1, 0);
    expect(b.take('start', 0)).toBe(true);
    expect(b.take('start', 0)).toBe(false);
    expect(b.traffic(0).at(-1)).toMatchObject({ started: 101, refused: 1 });
  });
});

import '../test/setup';
import { backoffDelay } from './backoff';

const POLICY = { baseMs: 1000, capMs: 30_000 };

it('doubles from the base up to the cap', () => {
  const most = (n: number) => backoffDelay(n, POLICY, () => 1);
  expect([0, 1, 2, 3, 4, 5, 6, 20].map(most)).toEqual([
    1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
  ]);
});

it('spreads each wait between half and all of it, never below half', () => {
  expect(backoffDelay(3, POLICY, () => 0)).toBe(4000);
  expect(backoffDelay(3, POLICY, () => 0.5)).toBe(6000);
  const draws = Array.from({ length: 200 }, () => backoffDelay(10, POLICY));
  expect(Math.min(...draws)).toBeGreaterThanOrEqual(15_000);
  expect(Math.max(...draws)).toBeLessThanOrEqual(30_000);
  expect(new Set(draws).size).toBeGreaterThan(50); // phones do not come back in step
});

import { parseCron } from './cron';

/** Epoch ms of a wall-clock time in UTC+8. */
const cst = (iso: string): number => Date.parse(`${iso}+08:00`);

describe('parseCron (7 fields, UTC+8)', () => {
  it('matches every minute at second 0', () => {
    const c = parseCron('0 * * * * * *');
    expect(c.matches(cst('2024-05-01T10:00:00'))).toBe(true);
    expect(c.matches(cst('2024-05-01T10:00:01'))).toBe(false);
  });

  it('evaluates hours in UTC+8', () => {
    const c = parseCron('0 0 2 * * * *');
    expect(c.matches(Date.parse('2024-05-01T18:00:00Z'))).toBe(true); // 02:00 next day in Shanghai
    expect(c.matches(Date.parse('2024-05-01T02:00:00Z'))).toBe(false);
  });

  it('supports lists, ranges, steps, names and the year field', () => {
    const c = parseCron('*/15 5-7,30 9 1 JAN,3 MON-FRI 2024');
    expect(c.matches(cst('2024-01-01T09:05:45'))).toBe(true);
    expect(c.matches(cst('2024-03-01T09:30:00'))).toBe(true);
    expect(c.matches(cst('2024-01-01T09:08:00'))).toBe(false);
    expect(c.matches(cst('2025-01-01T09:05:00'))).toBe(false);
    // Day 1 or a weekday: either matches when both are restricted.
    expect(c.matches(cst('2024-01-02T09:05:00'))).toBe(true);
    expect(c.matches(cst('2024-01-06T09:05:00'))).toBe(false); // a Saturday, not the 1st
  });

  it('rejects malformed expressions', () => {
    expect(() => parseCron('* * * * *')).toThrow(/7 fields/);
    expect(() => parseCron('61 * * * * * *')).toThrow(/out of range/);
    expect(() => parseCron('*/0 * * * * * *')).toThrow(/step/);
  });
});

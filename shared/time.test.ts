import { pad2, SHANGHAI_OFFSET_MS, shanghaiDay, shanghaiParts } from './time';

describe('Asia/Shanghai time', () => {
  it('is UTC+8 whatever the season (no daylight saving)', () => {
    expect(SHANGHAI_OFFSET_MS).toBe(8 * 3600 * 1000);
    expect(shanghaiParts(new Date('2026-07-01T00:00:00Z'))).toMatchObject({ hour: 8, minute: 0 });
    expect(shanghaiParts(new Date('2026-01-01T00:00:00Z'))).toMatchObject({ hour: 8, minute: 0 });
  });

  it('turns the day at 16:00 UTC', () => {
    expect(shanghaiDay(new Date('2026-11-28T15:59:59.999Z'))).toBe('2026-11-28');
    expect(shanghaiDay(new Date('2026-11-28T16:00:00Z'))).toBe('2026-11-29');
    expect(shanghaiParts(new Date('2026-12-31T16:30:00Z'))).toEqual({
      year: 2027,
      month: 1,
      day: 1,
      hour: 0,
      minute: 30,
      dayIndex: Math.floor(Date.parse('2027-01-01T00:00:00Z') / 86_400_000),
    });
  });

  it('gives one day index per calendar day, epoch milliseconds or Date alike', () => {
    const morning = Date.parse('2026-11-28T16:00:00Z'); // 00:00 on the 29th
    const night = Date.parse('2026-11-29T15:59:00Z'); // 23:59 on the 29th
    expect(shanghaiParts(morning).dayIndex).toBe(shanghaiParts(new Date(night)).dayIndex);
    expect(shanghaiParts(morning - 1).dayIndex).toBe(shanghaiParts(morning).dayIndex - 1);
  });

  it('refuses an invalid date for the quota day', () => {
    expect(() => shanghaiDay(new Date('not a date'))).toThrow(RangeError);
  });

  it('pads to two digits', () => {
    expect([pad2(0), pad2(9), pad2(10), pad2(59)]).toEqual(['00', '09', '10', '59']);
  });
});

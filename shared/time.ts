/**
 * Asia/Shanghai time, the product's one calendar (the quota day, notice times, the client's
 * relative times). China has kept UTC+8 all year since 1991 (no daylight saving), so a fixed shift
 * read through the UTC getters is exact and independent of the host's time zone (functions run in
 * UTC, phones anywhere).
 */

export const SHANGHAI_OFFSET_MS = 8 * 3600_000;
/** One day in milliseconds: the one spelling of it. */
export const DAY_MS = 86_400_000;

export interface ShanghaiParts {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  /** Whole Shanghai days since 1970-01-01: equal for two instants on the same calendar day. */
  dayIndex: number;
}

/** The Shanghai wall clock at an instant (epoch milliseconds or a Date). */
export function shanghaiParts(at: Date | number): ShanghaiParts {
  const ms = typeof at === 'number' ? at : at.getTime();
  const s = new Date(ms + SHANGHAI_OFFSET_MS);
  return {
    year: s.getUTCFullYear(),
    month: s.getUTCMonth() + 1,
    day: s.getUTCDate(),
    hour: s.getUTCHours(),
    minute: s.getUTCMinutes(),
    dayIndex: Math.floor((ms + SHANGHAI_OFFSET_MS) / DAY_MS),
  };
}

/** `YYYY-MM-DD` of the Shanghai calendar. Throws a RangeError for an invalid date. */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** Two digits: `07`. */
export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

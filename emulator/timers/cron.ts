/**
 * CloudBase timer triggers: 7 fields (second minute hour day month weekday year), evaluated in UTC+8.
 * Supports `*`, `?`, numbers, names (JAN, MON), lists, ranges and `/n` steps.
 */

// CloudBase evaluates timer crons in UTC+8 (no daylight saving). Written here rather than taken
// from the product's shared/time.ts: the emulator is generic and imports nothing of the product.
const TZ_OFFSET_MS = 8 * 3600 * 1000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

const FIELDS: FieldDef[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'weekday', min: 0, max: 7, names: DAYS, nameBase: 0 },
  { name: 'year', min: 1970, max: 2199 },
];

export interface CronSpec {
  source: string;
  /** True when the second starting at `ms` (epoch milliseconds) is a fire time. */
  matches(ms: number): boolean;
}

function parseValue(text: string, def: FieldDef): number {
  const upper = text.toUpperCase();
  if (def.names) {
    const i = def.names.indexOf(upper);
    if (i >= 0) return i + (def.nameBase ?? 0);
  }
  if (!/^\d+$/.test(text)) throw new Error(`cron ${def.name}: invalid value "${text}"`);
  const n = Number(text);
  if (n < def.min || n > def.max)
    throw new Error(`cron ${def.name}: ${n} out of range ${def.min}-${def.max}`);
  return n;
}

/** Returns null for "any" (`*` or `?`), else the allowed values. */
function parseField(text: string, def: FieldDef): Set<number> | null {
  if (text === '*' || text === '?') return null;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [rangeText = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new Error(`cron ${def.name}: invalid step in "${part}"`);
    let lo: number;
    let hi: number;
    if (rangeText === '*' || rangeText === '?') {
      lo = def.min;
      hi = def.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = ''] = rangeText.split('-');
      lo = parseValue(a, def);
      hi = parseValue(b, def);
      if (hi < lo) throw new Error(`cron ${def.name}: empty range "${rangeText}"`);
    } else {
      lo = parseValue(rangeText, def);
      hi = stepText === undefined ? lo : def.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(def.name === 'weekday' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expr: string): CronSpec {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 7)
    throw new Error(`cron "${expr}": expected 7 fields (sec min hour day month weekday year)`);
  const sets = parts.map((p, i) => parseField(p, FIELDS[i] as FieldDef));
  const [sec, min, hour, day, month, weekday, year] = sets;
  const has = (s: Set<number> | null | undefined, v: number): boolean => !s || s.has(v);
  return {
    source: expr,
    matches(ms: number): boolean {
      const d = new Date(ms + TZ_OFFSET_MS);
      if (
        !has(sec, d.getUTCSeconds()) ||
        !has(min, d.getUTCMinutes()) ||
        !has(hour, d.getUTCHours())
      )
        return false;
      if (!has(month, d.getUTCMonth() + 1) || !has(year, d.getUTCFullYear())) return false;
      const dayOk = has(day, d.getUTCDate());
      const weekdayOk = has(weekday, d.getUTCDay());
      // Classic cron: when both day fields are restricted, either may match.
      return day && weekday ? dayOk || weekdayOk : dayOk && weekdayOk;
    },
  };
}

/**
 * The functions' log lines as the monitor streamed them: kept raw (most are never looked at), parsed
 * and scrubbed the first time someone reads one.
 */
import type { Scrubber } from './safe';
import type { LogEntry } from './timeline';

const MAX_LOGS = 20_000;

export interface RawLog {
  seq: number;
  at: number;
  fn: string;
  invocationId: string | null;
  line: string;
  entry?: LogEntry;
}

export function parseLine(line: string): {
  level: string;
  event: string;
  fields: Record<string, unknown>;
} {
  if (line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && typeof v === 'object') {
        const { level, event, fn: _fn, ...fields } = v;
        return {
          level: typeof level === 'string' ? level : 'info',
          event: typeof event === 'string' ? event : '',
          fields,
        };
      }
    } catch {
      // not a JSON line: kept as text
    }
  }
  return { level: /error|exception/i.test(line) ? 'error' : 'info', event: '', fields: {} };
}

export interface LogBook {
  /** Keeps a line as it came. */
  add(raw: RawLog): RawLog;
  entryOf(raw: RawLog): LogEntry;
  all(): LogEntry[];
}

/** `scrub()` is read at parse time: the scrubber grows as callback tokens become known. */
export function createLogBook(scrub: () => Scrubber): LogBook {
  const logs: RawLog[] = [];
  const entryOf = (r: RawLog): LogEntry => {
    if (r.entry) return r.entry;
    const s = scrub();
    const line = s.text(r.line);
    const parsed = parseLine(line);
    return (r.entry = {
      seq: r.seq,
      at: r.at,
      fn: r.fn,
      invocationId: r.invocationId,
      level: parsed.level,
      event: parsed.event,
      fields: s.value(parsed.fields) as Record<string, unknown>,
      line,
    });
  };
  return {
    add(raw) {
      logs.push(raw);
      if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
      return raw;
    },
    entryOf,
    all: () => logs.map(entryOf),
  };
}

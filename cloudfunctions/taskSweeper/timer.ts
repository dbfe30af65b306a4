/**
 * Which invocations are the cloud's timer. Every mini-program user can `callFunction` any function
 * of the environment by name, so a function meant only for its timer checks that it was one: the
 * timer's event (`{ Type: 'Timer', TriggerName, Time, Message }`) and no caller in WXContext.
 */
import type { CallerContext } from '../_adapters/cloud';

/** The sweeper's trigger, as named in cloudbaserc.json. */
export const SWEEP_TRIGGER = 'sweep';

export type TimerRefusal = 'caller' | 'client_source' | 'not_timer' | 'other_trigger';

// WeChat's documented SOURCE values: `wx_trigger` is the timer; every other `wx_…` (mini-program,
// devtools, HTTP API, local debug, unknown…) is a caller. SOURCE is a comma-separated call chain.
const TIMER_SOURCE = 'wx_trigger';
const isCallerSource = (source: string) =>
  source.split(',').some((hop) => hop.startsWith('wx_') && hop.trim() !== TIMER_SOURCE);

/** Null for the genuine timer run of `trigger`; else why the invocation is refused. */
export function timerRefusal(
  event: unknown,
  caller: CallerContext,
  trigger: string,
): TimerRefusal | null {
  // A client can send a timer-shaped event, but not without its OPENID in WXContext.
  if (caller.openid) return 'caller';
  if (caller.source && isCallerSource(caller.source)) return 'client_source';
  if (typeof event !== 'object' || event === null) return 'not_timer';
  const e = event as { Type?: unknown; TriggerName?: unknown; Time?: unknown };
  if (e.Type !== 'Timer' || typeof e.Time !== 'string' || Number.isNaN(Date.parse(e.Time))) {
    return 'not_timer';
  }
  return e.TriggerName === trigger ? null : 'other_trigger';
}

/** What a refused caller gets: no work done, nothing about the function. */
export const TIMER_ONLY_ANSWER = { ok: false, error: { code: 'FORBIDDEN' } } as const;

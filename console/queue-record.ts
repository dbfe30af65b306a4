/**
 * The queue over time, second by second, as the console saw it happen: tasks waiting (every task
 * write that enters or leaves `pending`), runs started (a task leaving the queue for `processing`),
 * starts Coze refused for rate or load (the functions' `start_failed` lines), tasks that gave up
 * waiting (`TOO_BUSY`), and what the dispatcher published on the queue's state document (its
 * lease, its measured drain rate and the rate it allows itself). Each note is O(1): the recorder
 * runs in the stack's own process whether or not a page is open (the bench's bursts included).
 */
import type { FailureCode } from '../shared/errors';
import { TaskStatus } from '../shared/status';

/** Seconds kept: half an hour, as the stand-in keeps its traffic. */
const KEEP_SECONDS = 1800;

/** The code a task that waited too long ends with (the status table's `waited_too_long`). */
const GAVE_UP: FailureCode = 'TOO_BUSY';
/** A quiet spell this long ends a burst: the next activity starts a new one. */
const BURST_GAP_MS = 5 * 60_000;

interface Second {
  at: number;
  /** tasks waiting when the second's last change was seen; undefined: no change in it */
  waiting?: number;
  starts: number;
  refusedStarts: number;
  gaveUp: number;
  /** the dispatcher's figures as last published in this second */
  rate?: number;
  qps?: number;
}

/** A dispatcher's lease as seen on the state document: from its first sight to its release. */
export interface Lease {
  holder: string;
  from: number;
  until: number;
}

/** The queue's series over `[from, to)`, one value a second, oldest first. */
export interface QueueSeries {
  from: number;
  /** seconds in the series */
  seconds: number;
  waiting: number[];
  starts: number[];
  refusedStarts: number[];
  gaveUp: number[];
  /** null while no dispatcher held the lease */
  rate: (number | null)[];
  qps: (number | null)[];
  /** the stand-in's QPS knob a second (null: no limit, or the real Coze) */
  standinQps: (number | null)[];
  leases: Lease[];
}

type Doc = Record<string, unknown>;

const msOf = (v: unknown): number | null => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' || typeof v === 'number') {
    const t = new Date(v).getTime();
    return Number.isNaN(t) ? null : t;
  }
  return null;
};
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

export class QueueRecord {
  private readonly seconds: Second[] = [];
  private readonly leases: Lease[] = [];
  private readonly standinQps: { at: number; qps: number | null }[] = [];
  private waiting = 0;
  /** when the latest burst of activity began (a task in or out of the queue, a refusal, a lease), and its last */
  private burstFrom: number | null = null;
  private lastActivity: number | null = null;

  constructor(waitingNow: number, now: number) {
    this.waiting = waitingNow;
    this.second(now).waiting = waitingNow;
    if (waitingNow > 0) this.active(now);
  }

  /** A task document changed (`before` / `after` null for an insert / a removal). */
  noteTask(before: Doc | null, after: Doc | null, at: number): void {
    const was = before?.status === TaskStatus.Pending;
    const is = after?.status === TaskStatus.Pending;
    if (was === is) return;
    this.waiting = Math.max(0, this.waiting + (is ? 1 : -1));
    const s = this.second(at);
    s.waiting = this.waiting;
    if (was && after?.status === TaskStatus.Processing) s.starts++;
    if (was && after?.status === TaskStatus.Failed && after.error_code === GAVE_UP) s.gaveUp++;
    this.active(at);
  }

  /** The queue's state document changed: a lease taken, extended or given back, or a publish. */
  noteState(doc: Doc, at: number): void {
    const holder = typeof doc.lease_holder === 'string' ? doc.lease_holder : null;
    const until = msOf(doc.lease_until) ?? 0;
    const last = this.leases[this.leases.length - 1];
    if (holder && until > at) {
      if (last && last.holder === holder) last.until = until;
      else this.leases.push({ holder, from: at, until });
      if (this.leases.length > 500) this.leases.shift();
      const s = this.second(at);
      s.rate = num(doc.rate);
      s.qps = num(doc.qps);
      this.active(at);
    } else if (last && last.until > at) {
      // Given back (or run out): the lease ended now.
      last.until = at;
    }
  }

  /** A start Coze refused for rate or load, from a function's `start_failed` line. */
  noteRefusedStart(at: number): void {
    this.second(at).refusedStarts++;
    this.active(at);
  }

  /** The stand-in's QPS knob from `at` on (0 or null: no limit). */
  noteStandinQps(qps: number | null, at: number): void {
    this.standinQps.push({ at, qps: qps ? qps : null });
    if (this.standinQps.length > 200) this.standinQps.shift();
  }

  /** Sets the count of waiting tasks from a full read (the running count can only drift by a missed write). */
  resync(waiting: number, at: number): void {
    if (waiting === this.waiting) return;
    this.waiting = waiting;
    this.second(at).waiting = waiting;
  }

  /** When the latest burst of queue activity began (null: none seen). */
  burstSince(): number | null {
    return this.burstFrom;
  }

  series(from: number, to: number): QueueSeries {
    const start = Math.floor(from / 1000) * 1000;
    const n = Math.max(0, Math.ceil((to - start) / 1000));
    const out: QueueSeries = {
      from: start,
      seconds: n,
      waiting: [],
      starts: [],
      refusedStarts: [],
      gaveUp: [],
      rate: [],
      qps: [],
      standinQps: [],
      leases: this.leases.filter((l) => l.until > start && l.from < to).map((l) => ({ ...l })),
    };
    // The values in force when the series starts.
    let waiting = 0;
    let rate: number | null = null;
    let qps: number | null = null;
    for (const s of this.seconds) {
      if (s.at >= start) break;
      if (s.waiting !== undefined) waiting = s.waiting;
      if (s.rate !== undefined) rate = s.rate;
      if (s.qps !== undefined) qps = s.qps;
    }
    let knob: number | null = null;
    let k = 0;
    for (; k < this.standinQps.length && this.standinQps[k]!.at < start; k++)
      knob = this.standinQps[k]!.qps;
    const byAt = new Map(this.seconds.filter((s) => s.at >= start).map((s) => [s.at, s]));
    for (let i = 0; i < n; i++) {
      const at = start + i * 1000;
      const s = byAt.get(at);
      if (s?.waiting !== undefined) waiting = s.waiting;
      if (s?.rate !== undefined) rate = s.rate;
      if (s?.qps !== undefined) qps = s.qps;
      for (; k < this.standinQps.length && this.standinQps[k]!.at < at + 1000; k++)
        knob = this.standinQps[k]!.qps;
      const leased = out.leases.some((l) => l.from < at + 1000 && l.until > at);
      out.waiting.push(waiting);
      out.starts.push(s?.starts ?? 0);
      out.refusedStarts.push(s?.refusedStarts ?? 0);
      out.gaveUp.push(s?.gaveUp ?? 0);
      out.rate.push(leased ? rate : null);
      out.qps.push(leased ? qps : null);
      out.standinQps.push(knob);
    }
    return out;
  }

  private active(at: number): void {
    if (this.lastActivity === null || at - this.lastActivity > BURST_GAP_MS) this.burstFrom = at;
    this.lastActivity = Math.max(this.lastActivity ?? at, at);
  }

  private second(at: number): Second {
    const t = Math.floor(at / 1000) * 1000;
    let s = this.seconds[this.seconds.length - 1];
    if (s && s.at === t) return s;
    // Out of order by a few ms at a second's edge: the second it belongs to, if still kept.
    if (s && s.at > t) return this.seconds.find((x) => x.at === t) ?? s;
    s = { at: t, starts: 0, refusedStarts: 0, gaveUp: 0 };
    this.seconds.push(s);
    if (this.seconds.length > KEEP_SECONDS) this.seconds.shift();
    return s;
  }
}

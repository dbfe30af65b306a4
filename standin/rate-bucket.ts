/**
 * Coze's one rate bucket, as the stand-in plays it: run starts and history reads draw from the same
 * tokens (QPS of them, refilled continuously, at most QPS saved up, and at least one so a rate under
 * one a second still lets a call through now and then), and a call that finds none is
 * refused (HTTP 429, code 4009) without being served. Every call is counted per second, so the
 * bench and the console can draw what the upstream took and refused.
 */

export type CallKind = 'start' | 'history';

/** What the bucket saw in one second (ms since epoch of the second's start). */
export interface TrafficSecond {
  at: number;
  /** starts taken (served: the stand-in may still answer one busy, by its error-rate knob) */
  started: number;
  read: number;
  /** calls refused for rate, starts and reads */
  refused: number;
  refusedStarts: number;
}

/** Seconds of traffic kept (a burst of several minutes fits). */
const KEEP_SECONDS = 1800;

export class RateBucket {
  private tokens: number;
  private last: number;
  private readonly seconds: TrafficSecond[] = [];

  constructor(
    private qps: number,
    now: number,
  ) {
    this.tokens = Math.max(1, qps);
    this.last = now;
  }

  /** A new limit (0: none); the bucket starts full at it. */
  setQps(qps: number, now: number): void {
    this.qps = qps;
    this.tokens = Math.max(1, qps);
    this.last = now;
  }

  /** Takes a token for a call of `kind`; false when the call must be refused. */
  take(kind: CallKind, now: number): boolean {
    const allowed = this.qps <= 0 || this.refill(now) >= 1;
    if (allowed && this.qps > 0) this.tokens -= 1;
    const second = this.second(now);
    if (!allowed) {
      second.refused++;
      if (kind === 'start') second.refusedStarts++;
    } else if (kind === 'start') second.started++;
    else second.read++;
    return allowed;
  }

  /** The traffic per second since `since` (ms since epoch), oldest first. */
  traffic(since = 0): TrafficSecond[] {
    return this.seconds.filter((s) => s.at >= since).map((s) => ({ ...s }));
  }

  private refill(now: number): number {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(Math.max(1, this.qps), this.tokens + elapsed * this.qps);
    return this.tokens;
  }

  private second(now: number): TrafficSecond {
    const at = Math.floor(now / 1000) * 1000;
    let s = this.seconds[this.seconds.length - 1];
    if (!s || s.at !== at) {
      s = { at, started: 0, read: 0, refused: 0, refusedStarts: 0 };
      this.seconds.push(s);
      if (this.seconds.length > KEEP_SECONDS) this.seconds.shift();
    }
    return s;
  }
}

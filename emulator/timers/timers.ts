/** Fires each timer trigger on its cron (checked every second, catching up a few missed seconds) or every N seconds. */
import { type CronSpec, parseCron } from './cron';

export interface TimerTarget {
  fn: string;
  trigger: string;
  cron: string;
}

export class TimerScheduler {
  private timer: NodeJS.Timeout | undefined;
  private lastSecond = Math.floor(Date.now() / 1000);
  private readonly specs: { fn: string; trigger: string; cron: CronSpec }[];
  private lastOverrideFire = Date.now();

  constructor(
    targets: TimerTarget[],
    private readonly overrideS: number,
    /** Called when a timer is due; the caller skips it when the previous run is still going. */
    private readonly fire: (fn: string, trigger: string) => void,
    log: (line: string) => void,
  ) {
    this.specs = [];
    for (const t of targets) {
      try {
        this.specs.push({ fn: t.fn, trigger: t.trigger, cron: parseCron(t.cron) });
      } catch (e) {
        log(`timer of ${t.fn} ignored: ${(e as Error).message}`);
      }
    }
  }

  start(): void {
    if (!this.specs.length) return;
    if (this.overrideS > 0) {
      // Every trigger of every function, each on its own (the caller skips one whose previous run still goes).
      this.lastOverrideFire = Date.now();
      this.timer = setInterval(() => {
        this.lastOverrideFire = Date.now();
        for (const s of this.specs) this.fire(s.fn, s.trigger);
      }, this.overrideS * 1000);
      this.timer.unref();
      return;
    }
    this.lastSecond = Math.floor(Date.now() / 1000);
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.tick(), 1000 - (Date.now() % 1000) + 5);
    this.timer.unref();
  }

  private tick(): void {
    const now = Math.floor(Date.now() / 1000);
    for (let s = Math.max(this.lastSecond + 1, now - 5); s <= now; s++) {
      for (const spec of this.specs)
        if (spec.cron.matches(s * 1000)) this.fire(spec.fn, spec.trigger);
    }
    this.lastSecond = now;
    this.schedule();
  }

  /** Each trigger and its next fire time (ms since epoch); null when not running or none within a day. */
  next(running: boolean): { fn: string; trigger: string; cron: string; nextAt: number | null }[] {
    const now = Date.now();
    return this.specs.map((s) => {
      let nextAt: number | null = null;
      if (running && this.overrideS > 0) nextAt = this.lastOverrideFire + this.overrideS * 1000;
      else if (running) {
        const first = Math.floor(now / 1000) + 1;
        for (let sec = first; sec < first + 86_400; sec++) {
          if (s.cron.matches(sec * 1000)) {
            nextAt = sec * 1000;
            break;
          }
        }
      }
      return { fn: s.fn, trigger: s.trigger, cron: s.cron.source, nextAt };
    });
  }

  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
    }
    this.timer = undefined;
  }
}

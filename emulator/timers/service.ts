/**
 * The timers service: every timer trigger of every function on its own cron (or every
 * `overrideS` seconds), at most one run per (function, trigger) at a time; `runTimer` runs one now.
 */
import { FunctionCallError, type FunctionsService } from '../functions/service';
import type { ProjectSpec } from '../project';
import type { EmulatorService } from '../service';
import { TimerScheduler } from './timers';

export interface TimersService extends EmulatorService {
  readonly name: 'timers';
  /** Runs a function's timer trigger now (default: its first); waits for a run of that trigger in progress. */
  runTimer(name: string, trigger?: string): Promise<unknown>;
  /** Timer triggers and when each fires next (null when timers are off). */
  next(): { fn: string; trigger: string; cron: string; nextAt: number | null }[];
}

export interface TimersOptions {
  project: ProjectSpec;
  functions: FunctionsService;
  overrideS: number;
  enabled: boolean;
  log: (line: string) => void;
}

export function createTimers(opts: TimersOptions): TimersService {
  const { functions, log } = opts;
  // One run per (function, trigger) at a time: scheduled fires are skipped while one runs, runTimer() queues.
  const runs = new Map<string, Promise<unknown>>();
  const runKey = (fn: string, trigger: string): string => `${fn}\u0000${trigger}`;

  function runTimer(name: string, triggerName?: string): Promise<unknown> {
    const spec = functions.runtime().spec(name);
    if (!spec) return Promise.reject(new FunctionCallError(-501000, `function not found: ${name}`));
    const trigger = triggerName ?? spec.timers[0]?.name ?? 'timer';
    const key = runKey(name, trigger);
    const prev = runs.get(key) ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(() =>
        functions.call(name, {
          source: 'timer',
          event: {
            Type: 'Timer',
            TriggerName: trigger,
            Time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            Message: '',
          },
        }),
      );
    runs.set(key, run);
    const clear = (): void => {
      if (runs.get(key) === run) runs.delete(key);
    };
    run.then(clear, clear);
    return run;
  }

  const scheduler = new TimerScheduler(
    opts.project.functions.flatMap((f) =>
      f.timers.map((t) => ({ fn: f.name, trigger: t.name, cron: t.config })),
    ),
    opts.overrideS,
    (fn, trigger) => {
      if (runs.has(runKey(fn, trigger))) {
        log(`timer ${fn}/${trigger} skipped: previous run still going`);
        return;
      }
      runTimer(fn, trigger).catch(() => undefined); // failures are logged by the runtime
    },
    log,
  );

  return {
    name: 'timers',
    runTimer,
    next: () => scheduler.next(opts.enabled),
    // The runtime exists once the server listens: only then may a timer fire.
    listening() {
      if (opts.enabled) scheduler.start();
    },
    close: () => scheduler.stop(),
  };
}

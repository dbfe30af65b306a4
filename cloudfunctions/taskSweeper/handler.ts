/**
 * One sweep (a timer run, every minute), as named steps over one context: send the notices nobody
 * sent, clean up, then dispatch for the rest of the budget (`_pipeline/dispatcher.ts`: starts from
 * the queue, queue waits that ran out, restarts, history reads of silent and expired runs). Each
 * step, and each task within a step, is guarded: one that throws is logged and the sweep goes on.
 */
import { describeError } from '../../shared/errors';
import { DAY_MS } from '../../shared/time';
import type { LedgerStore } from '../_adapters/database';
import {
  dispatch,
  emptyDispatchReport,
  type DispatchReport,
  type DispatcherDeps,
} from '../_pipeline/dispatcher';
import { deliverNotice } from '../_pipeline/notices';

export interface SweepDeps extends DispatcherDeps {
  ledger: LedgerStore;
}

export interface SweepReport {
  notices: Record<string, number>;
  cleaned: { tasks: number; ledgers: number };
  dispatch: DispatchReport;
  /** steps or tasks that threw: logged, then the sweep went on with the next */
  errors: number;
  /** the notices step ran out of its share of the budget (the rest waits for the next sweep) */
  stoppedEarly: boolean;
}

/** The share of a sweep's budget the notices may take before the dispatcher's turn. */
const NOTICES_SHARE = 1 / 6;

interface Sweep {
  deps: SweepDeps;
  report: SweepReport;
  started: number;
  guarded(step: string, task: string | null, work: () => Promise<void>): Promise<void>;
}

export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const started = deps.now().getTime();
  const report: SweepReport = {
    notices: {},
    cleaned: { tasks: 0, ledgers: 0 },
    dispatch: emptyDispatchReport(),
    errors: 0,
    stoppedEarly: false,
  };
  const s: Sweep = {
    deps,
    report,
    started,
    // Whatever one step or one task throws is logged and counted: a notice that cannot be built
    // must not stop clean-up, nor one bad task its batch.
    async guarded(step, task, work) {
      try {
        await work();
      } catch (err) {
        report.errors++;
        deps.log.error('sweep_step_failed', { step, task, detail: describeError(err) });
      }
    },
  };
  await s.guarded('notices', null, () => sendNotices(s));
  await s.guarded('cleanup', null, () => cleanUp(s));
  const launchUntil = new Date(started + deps.config.SWEEP_BUDGET_MS);
  await s.guarded('dispatch', null, async () => {
    report.dispatch = await dispatch(deps, launchUntil);
  });
  logSweep(s);
  return report;
}

/** Notices that were never sent, or whose sender died after claiming: within a share of the budget. */
async function sendNotices(s: Sweep): Promise<void> {
  const { deps, report } = s;
  const { config } = deps;
  const until = s.started + config.SWEEP_BUDGET_MS * NOTICES_SHARE;
  const staleBefore = new Date(deps.now().getTime() - config.NOTICE_CLAIM_STALE_S * 1000);
  for (const task of await deps.store.pendingNotices(staleBefore, config.SWEEP_BATCH_LIMIT)) {
    if (deps.now().getTime() >= until) {
      report.stoppedEarly = true;
      break;
    }
    await s.guarded('notices', task._id, async () => {
      const outcome = await deliverNotice(deps, task);
      report.notices[outcome] = (report.notices[outcome] ?? 0) + 1;
    });
  }
}

/** Old finished tasks, idle ledgers. */
async function cleanUp(s: Sweep): Promise<void> {
  const { deps, report } = s;
  const now = deps.now();
  report.cleaned.tasks = await deps.store.removeFinishedBefore(
    new Date(now.getTime() - deps.config.TASK_RETENTION_DAYS * DAY_MS),
  );
  report.cleaned.ledgers = await deps.ledger.removeIdle(now);
}

function logSweep(s: Sweep): void {
  const { report, deps } = s;
  const d = report.dispatch;
  deps.log.info('sweep', {
    dispatched: d.dispatched,
    started: d.started,
    maybeStarted: d.maybeStarted,
    refusedForRate: d.refusedForRate,
    restarted: d.restarted,
    historyReads: d.historyReads,
    reconciled: d.reconciled,
    stillRunning: d.stillRunning,
    timedOut: d.timedOut,
    queueWaitsEnded: d.queueWaitsEnded,
    qps: d.qps,
    errors: report.errors,
    stoppedEarly: report.stoppedEarly,
    ms: deps.now().getTime() - s.started,
  });
}

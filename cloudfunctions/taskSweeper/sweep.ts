/**
 * One sweep (a timer run): start the tasks whose start failed, finish the ones whose callback
 * never came from Coze's run history, time out the stuck, resend unsent notices, clean up.
 * Each step is bounded (batch limit, a time budget, a history-read rate), oldest work first.
 */
import { finishedRun } from '../../shared/coze-workflow';
import { describeError, FAILURE_MESSAGES } from '../../shared/errors';
import { MAX_DISPATCH_RETRIES, TaskStatus } from '../../shared/status';
import type { TaskDoc } from '../../shared/task';
import { DAY_MS } from '../../shared/time';
import { deliverNotice } from '../_lib/notices';
import {
  applyEvent,
  dispatchRun,
  finishTask,
  finishWith,
  mintCallbackToken,
  type PipelineDeps,
} from '../_lib/pipeline';
import type { CozeClient } from '../_adapters/coze';
import type { LedgerStore } from '../_lib/store';

export interface SweepDeps extends PipelineDeps {
  coze: CozeClient;
  ledger: LedgerStore;
  sleep(ms: number): Promise<void>;
}

export interface SweepReport {
  dispatched: number;
  /** processing tasks with no known run, silent past the reconcile window: started again */
  restarted: number;
  deferred: number;
  gaveUp: number;
  reconciled: number;
  stillRunning: number;
  timedOut: number;
  historyReads: number;
  notices: Record<string, number>;
  cleaned: { tasks: number; ledgers: number };
  /** steps or tasks that threw: logged, then the sweep went on with the next */
  errors: number;
  stoppedEarly: boolean;
}

export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const { config, store, log } = deps;
  const started = deps.now().getTime();
  const deadline = started + config.SWEEP_BUDGET_MS;
  const limit = config.SWEEP_BATCH_LIMIT;
  const report: SweepReport = {
    dispatched: 0,
    restarted: 0,
    deferred: 0,
    gaveUp: 0,
    reconciled: 0,
    stillRunning: 0,
    timedOut: 0,
    historyReads: 0,
    notices: {},
    cleaned: { tasks: 0, ledgers: 0 },
    errors: 0,
    stoppedEarly: false,
  };
  /**
   * Runs one step, or one task of a step, so that whatever it throws is logged and counted and the
   * sweep goes on: a notice that cannot be built must not stop clean-up, nor one bad task a batch.
   */
  const guarded = async (step: string, task: string | null, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      report.errors++;
      log.error('sweep_step_failed', { step, task, detail: describeError(err) });
    }
  };
  const timeLeft = () => {
    if (deps.now().getTime() < deadline) return true;
    report.stoppedEarly = true;
    return false;
  };

  // Run-history reads share Coze's QPS with run starts: pace them, and cap them per sweep.
  const gapMs = Math.ceil(1000 / config.COZE_HISTORY_QPS);
  const maxReads = Math.max(
    1,
    Math.floor((config.SWEEP_BUDGET_MS / 1000) * config.COZE_HISTORY_QPS),
  );
  let lastRead = 0;
  const readRun = async (task: TaskDoc) => {
    if (!task.coze_execute_id || report.historyReads >= maxReads) return null;
    const wait = lastRead + gapMs - deps.now().getTime();
    if (wait > 0) await deps.sleep(wait);
    lastRead = deps.now().getTime();
    report.historyReads++;
    try {
      return finishedRun(await deps.coze.getRun(task.coze_execute_id));
    } catch (err) {
      log.warn('history_read_failed', { task: task._id, detail: describeError(err) });
      return null;
    }
  };

  /** Claims one more start (a fresh callback token: the old run's callbacks are refused), then starts. */
  const startAgain = async (task: TaskDoc) => {
    const now = deps.now();
    const { token, hash } = mintCallbackToken();
    const backoffS = config.DISPATCH_BACKOFF_S * 2 ** (task.retry_count + 1);
    const claimed = await applyEvent(deps, task, {
      type: 'dispatch_retried',
      retryCount: task.retry_count,
      nextAttemptAt: new Date(now.getTime() + backoffS * 1000),
      callbackTokenHash: hash,
    });
    if (!claimed) return null;
    const { result } = await dispatchRun(deps, claimed, token);
    if (result === 'deferred') report.deferred++;
    else if (result === 'failed') report.gaveUp++;
    return result;
  };

  // 1. Starts that failed or whose writer died: at most MAX_DISPATCH_RETRIES more attempts.
  await guarded('starts', null, async () => {
    for (const task of await store.dueDispatches(deps.now(), limit)) {
      if (!timeLeft()) break;
      await guarded('starts', task._id, async () => {
        if (task.retry_count >= MAX_DISPATCH_RETRIES) {
          const failed = await finishWith(deps, task._id, {
            type: 'failed',
            errorCode: 'UPSTREAM_UNAVAILABLE',
            errorMessage: FAILURE_MESSAGES.UPSTREAM_UNAVAILABLE,
            source: 'system',
          });
          if (failed) report.gaveUp++;
          return;
        }
        if ((await startAgain(task)) === 'dispatched') report.dispatched++;
      });
    }
  });

  // 2. Past their expiry: one last look at the run history, then time out.
  await guarded('expired', null, async () => {
    for (const task of await store.expired(deps.now(), limit)) {
      if (!timeLeft()) break;
      await guarded('expired', task._id, async () => {
        const outcome = await readRun(task);
        if (outcome) {
          if (await finishTask(deps, task._id, outcome, { source: 'history' })) report.reconciled++;
          return;
        }
        const timedOut = await finishWith(deps, task._id, {
          type: 'timed_out',
          errorCode: 'TIMEOUT',
          errorMessage: FAILURE_MESSAGES.TIMEOUT,
        });
        if (timedOut) report.timedOut++;
      });
    }
  });

  // 3. Processing and silent for RECONCILE_AFTER_S: the run history is the source of truth.
  await guarded('silent', null, async () => {
    const silentSince = new Date(deps.now().getTime() - config.RECONCILE_AFTER_S * 1000);
    for (const task of await store.dueReconciles(silentSince, limit)) {
      if (!timeLeft()) break;
      // Running, but no run is known (its start's answer never came and no callback named it): no
      // history to read, so start it again while retries are left; its expiry settles it otherwise.
      const restart = !task.coze_execute_id && task.retry_count < MAX_DISPATCH_RETRIES;
      if (!restart && report.historyReads >= maxReads) break;
      await guarded('silent', task._id, async () => {
        if (restart) {
          if ((await startAgain(task)) === 'dispatched') report.restarted++;
          return;
        }
        const outcome = await readRun(task);
        if (outcome) {
          if (await finishTask(deps, task._id, outcome, { source: 'history' })) report.reconciled++;
          return;
        }
        report.stillRunning++;
        // Checked now: the next look comes RECONCILE_AFTER_S later, so the oldest go first.
        const now = deps.now();
        await store.touch(task._id, [TaskStatus.Processing], {
          history_checked_at: now,
          updated_at: now,
        });
      });
    }
  });

  // 4. Notices that were never sent, or whose sender died after claiming.
  await guarded('notices', null, async () => {
    const staleBefore = new Date(deps.now().getTime() - config.NOTICE_CLAIM_STALE_S * 1000);
    for (const task of await store.pendingNotices(staleBefore, limit)) {
      if (!timeLeft()) break;
      await guarded('notices', task._id, async () => {
        const outcome = await deliverNotice(deps, task);
        report.notices[outcome] = (report.notices[outcome] ?? 0) + 1;
      });
    }
  });

  // 5. Clean-up: old tasks, idle ledgers.
  if (timeLeft()) {
    await guarded('cleanup', null, async () => {
      const now = deps.now();
      report.cleaned.tasks = await store.removeFinishedBefore(
        new Date(now.getTime() - config.TASK_RETENTION_DAYS * DAY_MS),
      );
      report.cleaned.ledgers = await deps.ledger.removeIdle(now);
    });
  }

  log.info('sweep', {
    dispatched: report.dispatched,
    restarted: report.restarted,
    deferred: report.deferred,
    gaveUp: report.gaveUp,
    reconciled: report.reconciled,
    stillRunning: report.stillRunning,
    timedOut: report.timedOut,
    historyReads: report.historyReads,
    errors: report.errors,
    stoppedEarly: report.stoppedEarly,
    ms: deps.now().getTime() - started,
  });
  return report;
}

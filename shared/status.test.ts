import { NoticeState } from './notice-state';
import {
  ACTIVE_STATUSES,
  MAX_DISPATCH_RETRIES,
  RETRYABLE_STATUSES,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  TaskStatus,
  applyPlan,
  canRetry,
  clampProgress,
  isTerminal,
  planApplies,
  planTransition,
  type TaskEvent,
  type TaskEventType,
  type TransitionState,
} from './status';

const now = new Date('2026-11-28T10:00:00Z');
const result = { title: '标题', content: '文案', cover: 'https://c', video_url: 'https://v' };
const proof = { tokenHash: 'h1', executeId: 'e1', deliveryId: 'msg_1' };
const state = (status: TaskStatus, over: Partial<TransitionState> = {}): TransitionState => ({
  status,
  progress: 0,
  retry_count: 0,
  coze_execute_id: null,
  callback_token_hash: 'h1',
  notification_state: NoticeState.None,
  ...over,
});

/** One event of every type, each with guards a fresh task meets. */
const EVENTS: Record<TaskEventType, TaskEvent> = {
  dispatched: { type: 'dispatched', executeId: 'e1' },
  dispatch_retried: {
    type: 'dispatch_retried',
    retryCount: 0,
    nextAttemptAt: null,
    callbackTokenHash: 'h2',
  },
  progress: { type: 'progress', progress: 40, source: 'callback', callback: proof },
  completed: { type: 'completed', result, source: 'callback', callback: proof },
  failed: { type: 'failed', errorCode: 'NO_SPEECH', errorMessage: 'x', source: 'history' },
  timed_out: { type: 'timed_out', errorCode: 'TIMEOUT', errorMessage: 'x' },
  cancelled: { type: 'cancelled', errorCode: 'CANCELLED', errorMessage: 'x' },
};
const EVENT_TYPES = Object.keys(TRANSITIONS) as TaskEventType[];

describe('status machine', () => {
  it('has exactly the six statuses, four of them terminal, and an event row for every event', () => {
    expect([...TASK_STATUSES].sort()).toEqual(
      ['cancelled', 'completed', 'failed', 'pending', 'processing', 'timeout'].sort(),
    );
    expect(TERMINAL_STATUSES).toHaveLength(4);
    expect(ACTIVE_STATUSES).toEqual(['pending', 'processing']);
    expect(isTerminal(TaskStatus.Completed)).toBe(true);
    expect(isTerminal(TaskStatus.Processing)).toBe(false);
    expect(Object.keys(EVENTS).sort()).toEqual([...EVENT_TYPES].sort());
  });

  // Every status × every event: the plan applies exactly when the table allows it, and lands
  // on the table's target (or stays), with the notice row the table names.
  describe.each(TASK_STATUSES)('from %s', (status) => {
    it.each(EVENT_TYPES)('%s', (type) => {
      const row = TRANSITIONS[type];
      const plan = planTransition(EVENTS[type], now);
      expect(plan.allowedFrom).toEqual(row.from);
      expect(plan.set.status).toBe(row.to ?? undefined);
      const next = applyPlan(state(status), plan);
      if (!(row.from as readonly TaskStatus[]).includes(status)) {
        expect(next).toBeNull();
        return;
      }
      expect(next).not.toBeNull();
      expect(next!.status).toBe(row.to ?? status);
      const notice =
        row.notice === 'claimed'
          ? NoticeState.Claimed
          : row.notice === 'skipped'
            ? NoticeState.Skipped
            : NoticeState.None;
      expect(next!.notification_state).toBe(notice);
      expect(plan.set.updated_at).toBe(now);
    });
  });

  it('no event leaves a terminal status', () => {
    for (const row of Object.values(TRANSITIONS)) {
      expect(row.from.some((s) => TERMINAL_STATUSES.includes(s))).toBe(false);
    }
  });

  it('a finish claims the notice for its writer, only from none', () => {
    const plan = planTransition(EVENTS.completed, now);
    expect(plan.set).toMatchObject({ notification_state: 'claimed', notification_claimed_at: now });
    const claimed = state(TaskStatus.Processing, { notification_state: NoticeState.Claimed });
    expect(planApplies(plan, claimed)).toBe(false);
  });

  it('dispatch stores the execute id, also after an early callback, never over another run', () => {
    const plan = planTransition(EVENTS.dispatched, now);
    expect(applyPlan(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'processing',
      coze_execute_id: 'e1',
      started_at: now,
    });
    expect(
      applyPlan(state(TaskStatus.Processing, { progress: 40, coze_execute_id: 'e1' }), plan),
    ).toMatchObject({ status: 'processing', progress: 40 });
    expect(applyPlan(state(TaskStatus.Processing, { coze_execute_id: 'e9' }), plan)).toBeNull();
  });

  it('progress only moves forward', () => {
    const at = (p: number) =>
      planTransition({ type: 'progress', progress: p, source: 'callback', callback: proof }, now);
    const after40 = applyPlan(state(TaskStatus.Processing, { progress: 10 }), at(40));
    expect(after40?.progress).toBe(40);
    expect(applyPlan(after40!, at(20))).toBeNull();
    expect(applyPlan(after40!, at(40))).toBeNull();
    expect(at(40).guard.progressBelow).toBe(40);
  });

  it('a callback is checked on its token hash and run, and teaches the task its run', () => {
    const plan = planTransition(EVENTS.progress, now);
    expect(plan.rememberDelivery).toBe('msg_1');
    expect(applyPlan(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'processing',
      progress: 40,
      webhook_received: true,
      coze_execute_id: 'e1',
    });
    expect(applyPlan(state(TaskStatus.Pending, { callback_token_hash: 'other' }), plan)).toBeNull();
    expect(applyPlan(state(TaskStatus.Pending, { coze_execute_id: 'e2' }), plan)).toBeNull();
    const noRun = planTransition(
      { ...EVENTS.progress, callback: { ...proof, executeId: null } } as TaskEvent,
      now,
    );
    expect(noRun.set.coze_execute_id).toBeUndefined();
    expect(applyPlan(state(TaskStatus.Pending, { coze_execute_id: 'e2' }), noRun)).not.toBeNull();
  });

  it('progress is clamped below 100: only completion reaches 100', () => {
    const plan = planTransition({ ...EVENTS.progress, progress: 250 } as TaskEvent, now);
    expect(plan.set.progress).toBe(99);
    expect(clampProgress(Number.NaN)).toBe(0);
    expect(clampProgress(-3)).toBe(0);
    expect(clampProgress(42.6)).toBe(43);
  });

  it('completion sets 100, the result and completed_at; from history it claims no callback', () => {
    expect(
      applyPlan(state(TaskStatus.Pending), planTransition(EVENTS.completed, now)),
    ).toMatchObject({ status: 'completed', progress: 100, result, completed_at: now });
    const plan = planTransition({ type: 'completed', result, source: 'history' }, now);
    expect(plan.set.webhook_received).toBeUndefined();
    expect(plan.guard.tokenHash).toBeUndefined();
  });

  it('a dispatch retry is claimed once per retry count, only for a task with no known run', () => {
    const plan = planTransition({ ...EVENTS.dispatch_retried, retryCount: 1 } as TaskEvent, now);
    expect(applyPlan(state(TaskStatus.Pending, { retry_count: 1 }), plan)).toMatchObject({
      status: 'pending',
      retry_count: 2,
      callback_token_hash: 'h2',
    });
    expect(applyPlan(state(TaskStatus.Processing, { retry_count: 1 }), plan)).toMatchObject({
      status: 'processing',
      retry_count: 2,
    });
    expect(applyPlan(state(TaskStatus.Pending, { retry_count: 2 }), plan)).toBeNull();
    const running = state(TaskStatus.Processing, { retry_count: 1, coze_execute_id: 'e1' });
    expect(applyPlan(running, plan)).toBeNull();
    expect(MAX_DISPATCH_RETRIES).toBe(2);
  });

  it('one retry rule: after a failure, a timeout or a cancel only', () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual(['cancelled', 'failed', 'timeout']);
    for (const s of TASK_STATUSES) expect(canRetry(s)).toBe(RETRYABLE_STATUSES.includes(s));
    expect(canRetry(TaskStatus.Completed)).toBe(false);
  });
});

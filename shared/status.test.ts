import {
  ACTIVE_STATUSES,
  MAX_DISPATCH_RETRIES,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  TaskStatus,
  applyPlan,
  clampProgress,
  isTerminal,
  planTransition,
  type TaskEvent,
  type TransitionState,
} from './status';

const now = new Date('2026-11-28T10:00:00Z');
const result = { title: '标题', content: '文案', cover: 'https://c', video_url: 'https://v' };
const state = (status: TaskStatus, progress = 0, retry_count = 0): TransitionState => ({
  status,
  progress,
  retry_count,
});

const events: TaskEvent[] = [
  { type: 'dispatched', executeId: 'e1' },
  { type: 'dispatch_retried', retryCount: 0, nextAttemptAt: null, callbackTokenHash: 'h' },
  { type: 'progress', progress: 40, source: 'callback' },
  { type: 'completed', result, source: 'callback' },
  { type: 'failed', errorCode: 'NO_SPEECH', errorMessage: 'x', source: 'history' },
  { type: 'timed_out', errorCode: 'TIMEOUT', errorMessage: 'x' },
  { type: 'cancelled', errorCode: 'CANCELLED', errorMessage: 'x' },
];

describe('status machine', () => {
  it('has exactly the six statuses, four of them terminal', () => {
    expect([...TASK_STATUSES].sort()).toEqual(
      ['cancelled', 'completed', 'failed', 'pending', 'processing', 'timeout'].sort(),
    );
    expect(TERMINAL_STATUSES).toHaveLength(4);
    expect(ACTIVE_STATUSES).toEqual(['pending', 'processing']);
    expect(isTerminal(TaskStatus.Completed)).toBe(true);
    expect(isTerminal(TaskStatus.Processing)).toBe(false);
  });

  it.each(TERMINAL_STATUSES)('a %s task is final: no event moves it', (status) => {
    for (const event of events) {
      expect(applyPlan(state(status, 50), planTransition(event, now))).toBeNull();
    }
  });

  it('no event leaves from a terminal status in the table', () => {
    for (const row of Object.values(TRANSITIONS)) {
      expect(row.from.some((s) => TERMINAL_STATUSES.includes(s))).toBe(false);
    }
  });

  it('dispatch moves pending to processing and stores the execute id', () => {
    const next = applyPlan(state(TaskStatus.Pending), planTransition(events[0]!, now));
    expect(next).toMatchObject({ status: 'processing', coze_execute_id: 'e1', started_at: now });
  });

  it('dispatch after an early callback keeps processing and still records the execute id', () => {
    const next = applyPlan(state(TaskStatus.Processing, 40), planTransition(events[0]!, now));
    expect(next).toMatchObject({ status: 'processing', coze_execute_id: 'e1', progress: 40 });
  });

  it('progress only moves forward', () => {
    const p40 = planTransition({ type: 'progress', progress: 40, source: 'callback' }, now);
    const p20 = planTransition({ type: 'progress', progress: 20, source: 'callback' }, now);
    const after40 = applyPlan(state(TaskStatus.Processing, 10), p40);
    expect(after40?.progress).toBe(40);
    expect(applyPlan(after40!, p20)).toBeNull();
    expect(applyPlan(after40!, p40)).toBeNull();
    expect(p40.guard).toEqual({ progressBelow: 40 });
  });

  it('a progress callback on a pending task starts it, and marks the callback as received', () => {
    const next = applyPlan(
      state(TaskStatus.Pending),
      planTransition({ type: 'progress', progress: 10, source: 'callback' }, now),
    );
    expect(next).toMatchObject({ status: 'processing', progress: 10, webhook_received: true });
  });

  it('progress is clamped below 100: only completion reaches 100', () => {
    const plan = planTransition({ type: 'progress', progress: 250, source: 'callback' }, now);
    expect(plan.set.progress).toBe(99);
    expect(clampProgress(Number.NaN)).toBe(0);
    expect(clampProgress(-3)).toBe(0);
    expect(clampProgress(42.6)).toBe(43);
  });

  it('completion sets 100, the result and completed_at from pending or processing', () => {
    for (const from of [TaskStatus.Pending, TaskStatus.Processing]) {
      const next = applyPlan(state(from, 60), planTransition(events[3]!, now));
      expect(next).toMatchObject({ status: 'completed', progress: 100, result, completed_at: now });
    }
  });

  it('a completion read from the run history does not claim a callback arrived', () => {
    const plan = planTransition({ type: 'completed', result, source: 'history' }, now);
    expect(plan.set.webhook_received).toBeUndefined();
  });

  it('failure, timeout and cancel land on their statuses with the reason', () => {
    expect(applyPlan(state(TaskStatus.Processing), planTransition(events[4]!, now))).toMatchObject({
      status: 'failed',
      error_code: 'NO_SPEECH',
    });
    expect(applyPlan(state(TaskStatus.Pending), planTransition(events[5]!, now))).toMatchObject({
      status: 'timeout',
    });
    expect(applyPlan(state(TaskStatus.Processing), planTransition(events[6]!, now))).toMatchObject({
      status: 'cancelled',
    });
  });

  it('a dispatch retry is claimed once per retry count and only while pending', () => {
    const plan = planTransition(
      { type: 'dispatch_retried', retryCount: 1, nextAttemptAt: now, callbackTokenHash: 'h2' },
      now,
    );
    expect(applyPlan(state(TaskStatus.Pending, 0, 1), plan)).toMatchObject({
      retry_count: 2,
      callback_token_hash: 'h2',
    });
    expect(applyPlan(state(TaskStatus.Pending, 0, 2), plan)).toBeNull();
    expect(applyPlan(state(TaskStatus.Processing, 0, 1), plan)).toBeNull();
    expect(MAX_DISPATCH_RETRIES).toBe(2);
  });

  it('every plan changes updated_at so a matching write is a modification', () => {
    for (const event of events) expect(planTransition(event, now).set.updated_at).toBe(now);
  });
});

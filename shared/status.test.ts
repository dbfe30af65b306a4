import { holds } from './condition';
import { FAILURE_MESSAGES } from './errors';
import { NoticeState } from './notice-state';
import {
  ACTIVE_STATUSES,
  MAX_START_ATTEMPTS,
  RETRYABLE_STATUSES,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  TaskStatus,
  canRetry,
  clampProgress,
  isTerminal,
  planFinishedNotice,
  planTransition,
  type TaskEvent,
  type TaskEventType,
  type TransitionPlan,
} from './status';

const now = new Date('2026-11-28T10:00:00Z');
const result = { title: '标题', content: '文案', cover: 'https://c', video_url: 'https://v' };
const proof = { tokenHash: 'h1', executeId: 'e1', deliveryId: 'msg_1' };

/** The fields the plans' conditions read. */
interface State {
  status: TaskStatus;
  progress: number;
  start_attempts: number;
  coze_execute_id: string | null;
  callback_token_hash: string;
  notification_state: NoticeState;
  notification_claimed_at?: Date | null;
}
const state = (status: TaskStatus, over: Partial<State> = {}): State => ({
  status,
  progress: 0,
  start_attempts: 0,
  coze_execute_id: null,
  callback_token_hash: 'h1',
  notification_state: NoticeState.None,
  ...over,
});

/** The task as the compare-and-set leaves it, or null when its conditions do not hold. */
function apply(s: State, plan: TransitionPlan): State | null {
  return holds(s, plan.where) ? ({ ...s, ...plan.set } as State) : null;
}

const dispatched = (over: Partial<Extract<TaskEvent, { type: 'dispatched' }>> = {}): TaskEvent => ({
  type: 'dispatched',
  executeId: 'e1',
  tokenHash: 'h2',
  seenTokenHash: 'h1',
  seenAttempts: 0,
  runTimeoutS: 300,
  ...over,
});

/** One event of every type, each with conditions a fresh task meets. */
const EVENTS: Record<TaskEventType, TaskEvent> = {
  dispatched: dispatched(),
  progress: { type: 'progress', progress: 40, source: 'callback', callback: proof },
  completed: { type: 'completed', result, source: 'callback', callback: proof },
  failed: { type: 'failed', errorCode: 'NO_SPEECH', source: 'history' },
  timed_out: { type: 'timed_out' },
  cancelled: { type: 'cancelled' },
  waited_too_long: { type: 'waited_too_long' },
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
      expect(plan.where).toContainEqual({ field: 'status', in: row.from });
      expect(plan.set.status).toBe(row.to ?? undefined);
      const next = apply(state(status), plan);
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
      expect(plan.claimsNotice).toBe(row.notice === 'claimed');
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
    expect(apply(claimed, plan)).toBeNull();
  });

  it('a start stores its run, its token and the run’s own timeout, and counts one attempt', () => {
    const plan = planTransition(EVENTS.dispatched, now);
    expect(apply(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'processing',
      coze_execute_id: 'e1',
      callback_token_hash: 'h2',
      start_attempts: 1,
      started_at: now,
      expires_at: new Date(now.getTime() + 300_000),
      next_dispatch_at: null,
    });
    // After an early callback that named the same run, still written; never over another run.
    expect(
      apply(state(TaskStatus.Processing, { progress: 40, coze_execute_id: 'e1' }), plan),
    ).toMatchObject({ status: 'processing', progress: 40 });
    expect(apply(state(TaskStatus.Processing, { coze_execute_id: 'e9' }), plan)).toBeNull();
    // One write per start: another start since (another token or count) makes this one lose.
    expect(apply(state(TaskStatus.Pending, { callback_token_hash: 'h0' }), plan)).toBeNull();
    expect(apply(state(TaskStatus.Pending, { start_attempts: 1 }), plan)).toBeNull();
  });

  it('a start of unknown outcome runs with no known run and keeps the new token', () => {
    const plan = planTransition(dispatched({ executeId: null }), now);
    expect(apply(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'processing',
      coze_execute_id: null,
      callback_token_hash: 'h2',
      start_attempts: 1,
    });
    // A task whose run is known is never started again.
    expect(apply(state(TaskStatus.Processing, { coze_execute_id: 'e1' }), plan)).toBeNull();
  });

  it('progress only moves forward', () => {
    const at = (p: number) =>
      planTransition({ type: 'progress', progress: p, source: 'callback', callback: proof }, now);
    const after40 = apply(state(TaskStatus.Processing, { progress: 10 }), at(40));
    expect(after40?.progress).toBe(40);
    expect(apply(after40!, at(20))).toBeNull();
    expect(apply(after40!, at(40))).toBeNull();
    expect(at(40).where).toContainEqual({ field: 'progress', below: 40 });
  });

  it('a callback is checked on its token hash and run, and teaches the task its run', () => {
    const plan = planTransition(EVENTS.progress, now);
    expect(plan.rememberDelivery).toBe('msg_1');
    expect(apply(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'processing',
      progress: 40,
      coze_execute_id: 'e1',
    });
    expect(apply(state(TaskStatus.Pending, { callback_token_hash: 'other' }), plan)).toBeNull();
    expect(apply(state(TaskStatus.Pending, { coze_execute_id: 'e2' }), plan)).toBeNull();
    const noRun = planTransition(
      { ...EVENTS.progress, callback: { ...proof, executeId: null } } as TaskEvent,
      now,
    );
    expect(noRun.set.coze_execute_id).toBeUndefined();
    expect(apply(state(TaskStatus.Pending, { coze_execute_id: 'e2' }), noRun)).not.toBeNull();
  });

  it('progress is clamped below 100: only completion reaches 100', () => {
    const plan = planTransition({ ...EVENTS.progress, progress: 250 } as TaskEvent, now);
    expect(plan.set.progress).toBe(99);
    expect(clampProgress(Number.NaN)).toBe(0);
    expect(clampProgress(-3)).toBe(0);
    expect(clampProgress(42.6)).toBe(43);
  });

  it('completion sets 100, the result and completed_at; from history it checks no token', () => {
    expect(apply(state(TaskStatus.Pending), planTransition(EVENTS.completed, now))).toMatchObject({
      status: 'completed',
      progress: 100,
      result,
      completed_at: now,
    });
    const plan = planTransition({ type: 'completed', result, source: 'history' }, now);
    expect(plan.where.some((c) => 'field' in c && c.field === 'callback_token_hash')).toBe(false);
  });

  it('each ending stores its catalogue code and message', () => {
    for (const [type, code] of [
      ['timed_out', 'TIMEOUT'],
      ['cancelled', 'CANCELLED'],
      ['waited_too_long', 'TOO_BUSY'],
    ] as const) {
      expect(planTransition(EVENTS[type], now).set).toMatchObject({
        error_code: code,
        error_message: FAILURE_MESSAGES[code],
      });
    }
    expect(planTransition(EVENTS.failed, now).set.error_message).toBe(FAILURE_MESSAGES.NO_SPEECH);
  });

  it('giving up a queue wait leaves only a waiting task, and sends no notice', () => {
    const plan = planTransition(EVENTS.waited_too_long, now);
    expect(apply(state(TaskStatus.Processing), plan)).toBeNull();
    expect(apply(state(TaskStatus.Pending), plan)).toMatchObject({
      status: 'failed',
      notification_state: 'skipped',
    });
  });

  it('a notice change after a finish applies only to a finished task', () => {
    const plan = planFinishedNotice(
      { type: 'claimed', seen: { state: NoticeState.None, claimedAt: null }, staleBefore: now },
      now,
    )!;
    expect(holds(state(TaskStatus.Processing), plan.where)).toBe(false);
    expect(holds(state(TaskStatus.Completed), plan.where)).toBe(true);
  });

  it('at most three starts that may reach Coze', () => {
    expect(MAX_START_ATTEMPTS).toBe(3);
  });

  it('one retry rule: after a failure, a timeout or a cancel only', () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual(['cancelled', 'failed', 'timeout']);
    for (const s of TASK_STATUSES) expect(canRetry(s)).toBe(RETRYABLE_STATUSES.includes(s));
    expect(canRetry(TaskStatus.Completed)).toBe(false);
  });
});

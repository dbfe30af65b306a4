/**
 * What the console's API answers when read: each view's data, from the stack's interfaces only (the
 * monitor, the read-only data view, the outbox and grants, the stand-in's records). Every answer
 * goes through the scrubber; the callback tokens and hashes in play are learned before it does.
 */
import { loadConfig, type Config } from '../shared/config';
import {
  QUEUE_COLLECTION,
  QUEUE_STATE_ID,
  emptyQueueState,
  queueStateSchema,
  queueTicketSchema,
  type QueueState,
} from '../shared/queue';
import { ACTIVE_STATUSES, TaskStatus } from '../shared/status';
import { planFor } from '../standin/simulated-workflow';
import { TASKS, type ConsoleContext, type ConsoleState } from './context';
import { HttpError } from './http';
import { nextLook } from './next-look';
import { queueLine, type WaitingTask } from './queue-line';
import { buildTimeline, type DroppedCallback, type PostedCallback } from './timeline';

/** The timer function whose next run the task view forecasts. */
const SWEEPER = 'taskSweeper';

/** Settings shown on the overview; everything else (secrets included) stays on the server. */
const SHOWN_SETTINGS = [
  'WEBHOOK_URL',
  'COZE_API_BASE',
  'COZE_WORKFLOW_ID',
  'SUBSCRIBE_TEMPLATE_SUCCESS_ID',
  'SUBSCRIBE_TEMPLATE_FAILURE_ID',
  'MINIPROGRAM_STATE',
  'MAX_ACTIVE_TASKS_PER_USER',
  'DAILY_QUOTA_PER_USER',
  'RECONCILE_AFTER_S',
  'TASK_TIMEOUT_S',
];

const ms = (v: unknown): number | null => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' || typeof v === 'number') {
    const t = new Date(v).getTime();
    return Number.isNaN(t) ? null : t;
  }
  return null;
};

/** Learns the callback tokens and hashes in play, so no text can carry one out. */
function learnSecrets(c: ConsoleContext, s: ConsoleState, tasks: Record<string, unknown>[]): void {
  for (const t of tasks) s.scrub.remember(t.callback_token_hash as string | undefined);
  for (const r of c.standin?.runs() ?? []) s.scrub.remember(r.callbackToken);
}

function tasksOf(c: ConsoleContext, s: ConsoleState, q: URLSearchParams) {
  const query: Record<string, unknown> = {};
  for (const [param, field] of [
    ['user', '_openid'],
    ['status', 'status'],
    ['platform', 'platform'],
  ] as const) {
    const v = q.get(param);
    if (v) query[field] = v;
  }
  const docs = c.stack.data.find(TASKS, query, { sort: { created_at: -1 }, limit: 500 });
  learnSecrets(c, s, docs);
  return docs;
}

export function callbacks(c: ConsoleContext): PostedCallback[] {
  return c.standin?.recorded() ?? [];
}

export function overview(c: ConsoleContext) {
  const { stack, env } = c;
  const stats = stack.stats();
  const instances = stack.instances();
  const invocations = stack.monitor.invocations();
  const functions = Object.keys(instances).map((name) => ({
    name,
    ...instances[name],
    invocations: stats.invocations[name] ?? 0,
    peakRssMb: stats.peakRssMb[name] ?? null,
    last: invocations
      .filter((i) => i.fn === name)
      .slice(-5)
      .reverse(),
  }));
  const settings: Record<string, string> = {};
  for (const k of SHOWN_SETTINGS) if (env[k] !== undefined) settings[k] = env[k];
  return {
    url: stack.url,
    webhookUrl: env.WEBHOOK_URL ?? `${stack.url}/webhook/coze`,
    dataDir: c.dataDir,
    coze: c.usingRealCoze
      ? { kind: 'real', baseUrl: env.COZE_API_BASE ?? '' }
      : { kind: 'stand-in', baseUrl: env.COZE_API_BASE ?? `${stack.url}/coze` },
    standin: c.standin?.settings() ?? null,
    functions,
    timers: stack.timers(),
    collections: stack.data.collections(),
    settings,
    now: Date.now(),
  };
}

/** The task list: no long texts (the share text, the transcript). */
export function taskList(c: ConsoleContext, s: ConsoleState, q: URLSearchParams) {
  return tasksOf(c, s, q).map((t) => {
    const safe = s.scrub.value(t) as Record<string, unknown>;
    delete safe.share_text;
    if (safe.result && typeof safe.result === 'object')
      safe.result = { title: (safe.result as { title?: unknown }).title };
    return safe;
  });
}

/** The steps the stand-in ran for this task without posting them (its `drop` knob). */
function droppedCallbacks(c: ConsoleContext, id: string): DroppedCallback[] {
  return (c.standin?.runs() ?? [])
    .filter((run) => run.taskId === id)
    .flatMap((run) => {
      const plan = planFor(run);
      return run.stepsDone
        .map((i) => plan[i])
        .filter((step) => step !== undefined && step.copies === 0)
        .map((step) => ({
          executeId: run.executeId,
          type: step!.type,
          progress: step!.progress,
          at: run.startedAt + step!.at,
          final: step!.final,
        }));
    });
}

/** The settings as the functions read them (their schema's defaults when unset); null if invalid. */
function configOf(c: ConsoleContext): Config | null {
  try {
    return loadConfig(c.env);
  } catch {
    return null;
  }
}

function sweeperAt(c: ConsoleContext): number | null {
  return c.stack.timers().find((t) => t.fn === SWEEPER)?.nextAt ?? null;
}

// ------------------------------------------------------------------------------------------------
// The queue

const ticketOf = (task: Record<string, unknown>) => {
  const parsed = queueTicketSchema.safeParse(task.queue);
  return parsed.success ? parsed.data : null;
};

function queueState(c: ConsoleContext, now: number): { state: QueueState; stored: boolean } {
  const raw = c.stack.data.find(QUEUE_COLLECTION, { _id: QUEUE_STATE_ID }, { limit: 1 })[0];
  const parsed = queueStateSchema.safeParse(raw);
  return parsed.success
    ? { state: parsed.data, stored: true }
    : { state: emptyQueueState(new Date(now)), stored: false };
}

/** The queue now: its state document and every waiting task in the dispatcher's order. */
function queueNow(c: ConsoleContext, s: ConsoleState, now = Date.now()) {
  const { state, stored } = queueState(c, now);
  const pending = c.stack.data.find(
    TASKS,
    { status: TaskStatus.Pending },
    { sort: { next_dispatch_at: 1, created_at: 1 } },
  );
  // The running count follows every write; a full read settles it should one have been missed.
  s.queue?.resync(pending.length, now);
  const tasks: WaitingTask[] = pending.map((t) => ({
    id: String(t._id),
    openid: String(t._openid),
    platform: String(t.platform ?? ''),
    createdAt: ms(t.created_at) ?? now,
    nextDispatchAt: ms(t.next_dispatch_at),
    expiresAt: ms(t.expires_at),
    startAttempts: typeof t.start_attempts === 'number' ? t.start_attempts : 0,
    ticket: ticketOf(t),
  }));
  const config = configOf(c);
  const line = queueLine({
    tasks,
    state,
    cozeQps: config?.COZE_QPS ?? 0,
    sweeperAt: sweeperAt(c),
    now,
  });
  return { state, stored, line, config };
}

/** The chart's span: `minutes` back when asked, else the latest burst (30 s to 30 minutes). */
const WINDOW_MIN_MS = 30_000;
const WINDOW_MAX_MS = 30 * 60_000;
/** Tasks listed at most (the count is always whole). */
const LISTED = 500;

function windowOf(s: ConsoleState, q: URLSearchParams, now: number) {
  const minutes = Number(q.get('minutes'));
  if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 30) {
    return { from: now - minutes * 60_000, auto: false };
  }
  const burst = s.queue?.burstSince() ?? null;
  const from = burst === null ? now - WINDOW_MIN_MS : burst - 10_000;
  return {
    from: Math.max(now - WINDOW_MAX_MS, Math.min(from, now - WINDOW_MIN_MS)),
    auto: true,
  };
}

/** The stand-in's traffic a second, aligned with the queue's series (null with the real Coze). */
function upstreamOf(c: ConsoleContext, from: number, seconds: number) {
  if (!c.standin) return null;
  const cols = {
    started: new Array<number>(seconds).fill(0),
    read: new Array<number>(seconds).fill(0),
    refusedStarts: new Array<number>(seconds).fill(0),
    refusedReads: new Array<number>(seconds).fill(0),
  };
  for (const t of c.standin.traffic(from)) {
    const i = Math.round((t.at - from) / 1000);
    if (i < 0 || i >= seconds) continue;
    cols.started[i] = t.started;
    cols.read[i] = t.read;
    cols.refusedStarts[i] = t.refusedStarts;
    cols.refusedReads[i] = t.refused - t.refusedStarts;
  }
  return cols;
}

export function queue(c: ConsoleContext, s: ConsoleState, q: URLSearchParams) {
  const now = Date.now();
  const { state, stored, line, config } = queueNow(c, s, now);
  const window = windowOf(s, q, now);
  const series = s.queue?.series(window.from, now) ?? null;
  const at = (d: Date) => (d.getTime() > 0 ? d.getTime() : null);
  const answer = {
    now,
    limits: {
      cozeQps: config?.COZE_QPS ?? null,
      queueMaxWaitS: config?.QUEUE_MAX_WAIT_S ?? null,
      coze: c.usingRealCoze ? 'real' : 'stand-in',
      standinQps: c.standin ? c.standin.settings().qps : null,
    },
    state: {
      stored,
      leaseHolder: state.lease_holder,
      leaseUntil: at(state.lease_until),
      startedTotal: state.started_total,
      refusedTotal: state.refused_total,
      rate: state.rate,
      qps: state.qps,
      backlog: state.backlog,
      busyUntil: at(state.busy_until),
      sweptAt: at(state.swept_at),
      sweepEveryMs: state.sweep_every_ms,
      updatedAt: at(state.updated_at),
    },
    dispatching: line.dispatching,
    untilDispatchS: line.untilDispatchS,
    drainRate: line.drainRate,
    createMode: line.createMode,
    sweeperAt: sweeperAt(c),
    waitingCount: line.tasks.length,
    waiting: line.tasks.slice(0, LISTED),
    window: { ...window, to: now },
    series,
    upstream: series ? upstreamOf(c, series.from, series.seconds) : null,
  };
  return s.scrub.value(answer);
}

export function timeline(c: ConsoleContext, s: ConsoleState, id: string) {
  const task = c.stack.data.find(TASKS, { _id: id }, { limit: 1 })[0];
  if (!task) throw new HttpError(404, `no task ${id}`);
  learnSecrets(c, s, [task]);
  const every = s.logs.all();
  const createdAt = ms(task.created_at) ?? Date.now();
  const dropped = droppedCallbacks(c, id);
  const built = buildTimeline({
    taskId: id,
    createdAt,
    noticeClaimedAt: ms(task.notification_claimed_at),
    noticeState: String(task.notification_state ?? ''),
    logs: every.filter((l) => l.fields.task === id),
    allLogs: every,
    invocation: (inv) => c.stack.monitor.invocation(inv),
    callbacks: callbacks(c).filter((cb) => cb.taskId === id),
    dropped,
    queueAhead: ticketOf(task)?.ahead ?? null,
  });
  const waiting = task.status === TaskStatus.Pending ? queueNow(c, s).line : null;
  const next = nextLook({
    status: String(task.status),
    updatedAt: ms(task.updated_at),
    expiresAt: ms(task.expires_at),
    nextDispatchAt: ms(task.next_dispatch_at),
    reconcileAfterS: configOf(c)?.RECONCILE_AFTER_S ?? null,
    sweeperAt: sweeperAt(c),
    callbackDropped: dropped.some((d) => d.final),
    queue: waiting?.tasks.find((t) => t.id === id) ?? null,
  });
  return {
    task: s.scrub.value(task),
    createdAt,
    active: (ACTIVE_STATUSES as readonly unknown[]).includes(task.status),
    next,
    now: Date.now(),
    ...built,
  };
}

export function notices(c: ConsoleContext, s: ConsoleState) {
  const { stack } = c;
  const shapes = new Map(c.templates.map((t) => [t.id, t]));
  const outbox = stack
    .outbox()
    .map((m) => {
      const shape = shapes.get(m.templateId);
      return {
        touser: m.touser,
        templateId: m.templateId,
        title: shape?.title ?? m.templateId,
        page: m.page ?? null,
        sentAt: m.sentAt,
        miniprogramState: m.miniprogramState ?? null,
        rows: Object.entries(m.data).map(([keyword, { value }]) => ({
          keyword,
          label: shape?.labels[keyword] ?? keyword,
          value,
        })),
      };
    })
    .reverse();
  return {
    outbox: s.scrub.value(outbox),
    grants: stack.grants(),
    templates: stack.templates().map((t) => ({ ...t, title: shapes.get(t.id)?.title ?? t.id })),
  };
}

export function requests(c: ConsoleContext, s: ConsoleState, q: URLSearchParams) {
  const after = Number(q.get('after') ?? 0) || 0;
  return c.stack.monitor
    .recent(after)
    .filter((e) => e.type !== 'log')
    .slice(-500)
    .map((e) => s.scrub.value(e));
}

export function logs(s: ConsoleState, q: URLSearchParams) {
  const task = q.get('task');
  const level = q.get('level');
  return s.logs
    .all()
    .filter(
      (l) =>
        (!task || l.fields.task === task || l.line.includes(task)) && (!level || l.level === level),
    )
    .slice(-1000);
}

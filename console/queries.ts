/**
 * What the console's API answers when read: each view's data, from the stack's interfaces only (the
 * monitor, the read-only data view, the outbox and grants, the stand-in's records). Every answer
 * goes through the scrubber; the callback tokens and hashes in play are learned before it does.
 */
import { loadConfig } from '../shared/config';
import { ACTIVE_STATUSES } from '../shared/status';
import { planFor } from '../standin/simulated-workflow';
import { TASKS, type ConsoleContext, type ConsoleState } from './context';
import { HttpError } from './http';
import { nextLook } from './next-look';
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

/** RECONCILE_AFTER_S as the functions read it (their schema's default when unset). */
function reconcileAfterS(c: ConsoleContext): number | null {
  try {
    return loadConfig(c.env).RECONCILE_AFTER_S;
  } catch {
    return null;
  }
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
  });
  const next = nextLook({
    status: String(task.status),
    updatedAt: ms(task.updated_at),
    expiresAt: ms(task.expires_at),
    nextDispatchAt: ms(task.next_dispatch_at),
    reconcileAfterS: reconcileAfterS(c),
    sweeperAt: c.stack.timers().find((t) => t.fn === SWEEPER)?.nextAt ?? null,
    callbackDropped: dropped.some((d) => d.final),
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

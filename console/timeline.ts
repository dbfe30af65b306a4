/**
 * A task's story, told from what the stack saw: the functions' JSON log lines (they carry the task
 * id), the invocations that wrote them and their database counts, the stand-in's posted (and
 * dropped) callbacks and the task document itself. Each step is worded as what happened ("progress
 * 30 % accepted", "completed: status processing → completed"), in the order it happened: a callback
 * is placed when the webhook received it, the transitions it caused after it, and the notice claim
 * after the transition that made it. Pure: the console server hands everything in.
 */
import type { InvocationRecord } from '../emulator/monitor/monitor';
import { TERMINAL_STATUSES, TaskStatus } from '../shared/status';

export interface LogEntry {
  seq: number;
  at: number;
  fn: string;
  invocationId: string | null;
  level: string;
  /** The product's event name (task_created, transition, callback, ...); '' for a non-JSON line. */
  event: string;
  fields: Record<string, unknown>;
  /** The scrubbed line as printed. */
  line: string;
}

/** What the timeline shows of an invocation: the monitor's own record. */
export type InvocationInfo = Omit<InvocationRecord, 'admin' | 'openid'>;

export interface PostedCallback {
  seq: number;
  taskId: string;
  webhookId: string;
  type: string;
  progress: number;
  at: number;
  httpStatus: number | null;
  replayOf: number | null;
}

/** A callback the Coze stand-in's fault knob kept back: its step ran, nothing was posted. */
export interface DroppedCallback {
  executeId: string;
  type: string;
  progress: number;
  /** when the step ran (ms since epoch) */
  at: number;
  /** the step that ends the run: from then on the run history says it ended */
  final: boolean;
}

export type EntryKind =
  'create' | 'dispatch' | 'coze' | 'callback' | 'transition' | 'sweep' | 'notice' | 'error';

export interface TimelineEntry {
  at: number;
  /** ms since the task was created */
  rel: number;
  kind: EntryKind;
  title: string;
  detail: string;
  fn: string | null;
  invocationId: string | null;
  level: 'info' | 'warn' | 'error';
}

export interface TaskCost {
  invocations: (InvocationInfo & { sharedWithOtherTasks: boolean })[];
  invocationCount: number;
  reads: number;
  writes: number;
}

export interface TimelineInput {
  taskId: string;
  createdAt: number;
  noticeClaimedAt: number | null;
  noticeState: string;
  logs: LogEntry[];
  /** Every log line (for refused callbacks, found by webhook-id, and for shared invocations). */
  allLogs: LogEntry[];
  invocation(id: string): InvocationInfo | undefined;
  callbacks: PostedCallback[];
  /** Steps the stand-in ran without posting (its `drop` mode); none with the real Coze. */
  dropped?: DroppedCallback[];
  /** Tasks ahead of it when it was submitted into the queue (its ticket); null when it had none. */
  queueAhead?: number | null;
}

/** A step before it is placed: transitions keep what their wording needs until the status is known. */
type Draft = Omit<TimelineEntry, 'rel'> & {
  transition?: {
    step: string;
    applied: boolean;
    to: string | null;
    progress: number | null;
    /** the step's words when they depend on more than its name (a start with no answer) */
    words?: string;
  };
  /** Placed right after the applied final transition of this invocation (the notice claim). */
  claim?: boolean;
};

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const shortType = (type: unknown) => str(type).replace('workflow.execution.', '');

/** How a transition's step reads; an unknown step reads as its own name. */
const STEP_WORDS: Record<string, string> = {
  dispatched: 'run started',
  progress: 'progress',
  completed: 'completed',
  failed: 'failed',
  timed_out: 'timed out',
  cancelled: 'cancelled',
  waited_too_long: 'gave up waiting in the queue',
};

/** How a create started its task's run (`task_created`'s `start`: `createStartMode`). */
const CREATE_START_WORDS: Record<string, string> = {
  direct: 'made its own start at once (the queue was idle)',
  slot: 'made its own start in a paced slot if one was free (Coze had refused a start lately), else left it to the queue',
  queue: 'left its start to the queue (a dispatcher was running or tasks were waiting)',
};

/** A start Coze answered code 0 for is `started`; with no readable answer it may be going. */
const NO_RUN_WORDS = 'start sent, no answer: the run may be going';

/**
 * A failed start as `start_failed` logs it (cloudfunctions/_pipeline/starts.ts): its `failure`
 * says what it means for the task, its detail which answer it was.
 */
function startFailedWords(f: Record<string, unknown>): { title: string; detail: string } {
  const detail = str(f.detail);
  const failure = str(f.failure);
  if (failure === 'not_started') {
    const why = /code 4009|http 429/.test(detail)
      ? "for rate (Coze 4009 / HTTP 429: past the plan's QPS)"
      : /code 5000/.test(detail)
        ? 'for load (Coze 5000: busy)'
        : `before it left (${str(f.kind)})`;
    return {
      title: `start refused ${why}: back in the queue`,
      detail: `nothing ran and it is not an attempt: the queue starts it later; ${detail}`,
    };
  }
  if (failure === 'maybe_started') {
    return {
      title: `no readable answer to the start (${str(f.kind)})`,
      detail: `${str(f.kind)}: the run may be going; it counts as an attempt; ${detail}`,
    };
  }
  return {
    title: 'start refused for good: the task fails',
    detail: `${str(f.kind)}: no retry can change this answer; ${detail}`,
  };
}

/** The progress a callback carried, found through its webhook-id among the posted callbacks. */
function progressOf(
  invocationId: string | null,
  input: TimelineInput,
  posted: Map<string, PostedCallback>,
): number | null {
  if (!invocationId) return null;
  for (const l of input.logs) {
    if (l.invocationId !== invocationId || l.event !== 'callback') continue;
    const cb = posted.get(str(l.fields.webhookId));
    if (cb) return cb.progress;
  }
  return null;
}

function fromLog(l: LogEntry, input: TimelineInput, posted: Map<string, PostedCallback>): Draft {
  const f = l.fields;
  const invocation = l.invocationId ? input.invocation(l.invocationId) : undefined;
  const base = {
    at: l.at,
    fn: l.fn,
    invocationId: l.invocationId,
    level: (l.level === 'warn' || l.level === 'error' ? l.level : 'info') as TimelineEntry['level'],
  };
  // A request is told from when its function received it: before the writes it caused.
  const received = { ...base, at: invocation?.startedAt ?? l.at };
  const sweeper = l.fn === 'taskSweeper';
  switch (l.event) {
    case 'task_created':
      // Told from when the submit reached the function: the run it starts comes after it.
      return {
        ...received,
        kind: 'create',
        title: 'submitted: task created',
        detail: [
          `platform ${str(f.platform)}`,
          CREATE_START_WORDS[str(f.start)],
          typeof input.queueAhead === 'number' && `${input.queueAhead} ahead of it at submit`,
          invocation?.durationMs != null && `submit answered in ${invocation.durationMs} ms`,
        ]
          .filter(Boolean)
          .join('; '),
      };
    case 'transition': {
      const step = str(f.step);
      const applied = f.applied === true;
      const progress = step === 'progress' ? progressOf(l.invocationId, input, posted) : null;
      // A start logs its run's id; null when no readable answer came (the run may be going).
      const noRun = step === 'dispatched' && f.executeId === null;
      const by = sweeper ? " (the sweep's dispatcher, from the queue)" : '';
      return {
        ...base,
        kind: step === 'dispatched' ? 'dispatch' : sweeper ? 'sweep' : 'transition',
        title: '',
        detail: noRun
          ? `no run id to follow${by}: its callbacks are accepted, and the sweeper reads the run history if it goes silent`
          : step === 'dispatched'
            ? `Coze answered code 0, execute_id ${str(f.executeId)}${by}`
            : step === 'waited_too_long'
              ? 'waited past QUEUE_MAX_WAIT_S without a start: TOO_BUSY, its quota unit given back, no notice'
              : `source ${str(f.source) || (sweeper ? 'sweeper' : l.fn)}; compare-and-set ${applied ? 'won' : 'lost'}`,
        transition: {
          step,
          applied,
          to: f.to ? str(f.to) : null,
          progress,
          ...(noRun ? { words: NO_RUN_WORDS } : {}),
        },
      };
    }
    case 'start_failed':
      return { ...base, kind: 'dispatch', ...startFailedWords(f) };
    case 'run_ended':
      return {
        ...base,
        kind: 'sweep',
        title: 'run ended, read from its run history',
        detail: str(f.detail),
      };
    case 'dispatch_work_failed':
      return {
        ...base,
        kind: 'error',
        title: `dispatcher failed (${str(f.work)})`,
        detail: str(f.detail),
      };
    case 'callback': {
      const progress = posted.get(str(f.webhookId))?.progress;
      const type = shortType(f.type);
      return {
        ...received,
        kind: 'callback',
        title: `callback ${type}${type === 'progress' && progress !== undefined ? ` ${progress} %` : ''}: ${str(f.outcome)}`,
        detail: `webhook-id ${str(f.webhookId)}; signature verified; answered ${str(f.outcome)}${
          invocation?.durationMs != null ? ` after ${invocation.durationMs} ms` : ''
        }`,
      };
    }
    case 'callback_bad_token':
    case 'callback_unknown_task':
    case 'callback_refused':
    case 'callback_malformed':
      return {
        ...received,
        kind: 'callback',
        title: 'callback refused',
        detail: `webhook-id ${str(f.webhookId)}; ${l.event.replace('callback_', '').replace('_', ' ')}${
          f.reason ? ` (${str(f.reason)})` : ''
        }`,
      };
    case 'callback_failed':
    case 'callback_record_failed':
      return { ...base, kind: 'error', title: l.event, detail: str(f.detail) };
    case 'notice_sent':
      return {
        ...base,
        kind: 'notice',
        title: `notice sent (${str(f.kind)})`,
        detail: `WeChat answered errcode ${str(f.code ?? 0)}; template ${str(f.templateId)}`,
      };
    case 'notice_failed':
      return {
        ...base,
        kind: 'notice',
        title: `notice failed (${str(f.kind)})`,
        detail: `WeChat answered errcode ${str(f.code)}; attempt ${str(f.attempts)}${f.final === true ? ', final' : ', will retry'}`,
      };
    case 'history_read_failed':
      return { ...base, kind: 'sweep', title: 'run history read failed', detail: str(f.detail) };
    default:
      return {
        ...base,
        kind: sweeper ? 'sweep' : 'transition',
        title: l.event || 'log',
        detail: l.line,
      };
  }
}

/** "progress 30 % accepted", "completed: status processing → completed", "… not applied". */
function transitionTitle(t: NonNullable<Draft['transition']>, from: string): string {
  const word = t.words ?? STEP_WORDS[t.step] ?? t.step;
  const what = t.step === 'progress' && t.progress !== null ? `progress ${t.progress} %` : word;
  if (!t.applied) return `${what}: not applied, the task had moved on (status ${from})`;
  const change = t.to && t.to !== from ? `status ${from} → ${t.to}` : '';
  if (t.step === 'progress') return `${what} accepted${change ? `: ${change}` : ''}`;
  if (change && t.words) return `${what} (${change})`;
  return change ? `${what}: ${change}` : what;
}

function postedEntry(c: PostedCallback): Draft {
  return {
    at: c.at,
    kind: 'coze',
    title: `${c.replayOf ? `replay of #${c.replayOf}` : 'Coze posted'} ${shortType(c.type)} ${c.progress}%`,
    detail: `delivery #${c.seq}, webhook-id ${c.webhookId}; webhook answered HTTP ${c.httpStatus ?? 'none'}`,
    fn: null,
    invocationId: null,
    level: c.httpStatus !== null && c.httpStatus >= 400 ? 'warn' : 'info',
  };
}

function droppedEntry(d: DroppedCallback): Draft {
  return {
    at: d.at,
    kind: 'coze',
    title: `Coze stand-in dropped ${shortType(d.type)} ${d.progress}%: nothing posted`,
    detail: d.final
      ? `run ${d.executeId} ended; the stand-in's callbacks knob is "drop", so nobody was called back. The run history says it ended: the sweeper reads it (see "next" below)`
      : `run ${d.executeId}; the stand-in's callbacks knob is "drop"`,
    fn: null,
    invocationId: null,
    level: 'warn',
  };
}

/**
 * Words each transition now that its order is known (the status it left is the one the previous
 * applied transition set), and moves the notice claim right after the transition that made it.
 */
function tell(
  drafts: Draft[],
  ranDuring: (invocationId: string | null, at: number) => boolean,
): Omit<TimelineEntry, 'rel'>[] {
  let status: string = TaskStatus.Pending;
  const claim = drafts.find((d) => d.claim);
  const out: Omit<TimelineEntry, 'rel'>[] = [];
  let claimed = false;
  for (const d of drafts) {
    if (d.claim) continue;
    const { transition, claim: _c, ...entry } = d;
    if (!transition) {
      out.push(entry);
      continue;
    }
    out.push({ ...entry, title: transitionTitle(transition, status) });
    const finishing =
      transition.applied &&
      transition.to &&
      (TERMINAL_STATUSES as readonly string[]).includes(transition.to);
    if (transition.applied && transition.to) status = transition.to;
    // The claim is written by the same compare-and-set as the finishing transition.
    if (claim && !claimed && finishing && ranDuring(d.invocationId, claim.at)) {
      const { claim: _x, transition: _t, ...c } = claim;
      const detail = `in the same compare-and-set as "${transition.step}"; ${c.detail}`;
      out.push({ ...c, at: d.at, fn: d.fn, invocationId: d.invocationId, detail });
      claimed = true;
    }
  }
  if (claim && !claimed) {
    // Claimed later, by another sender (the sweeper takes over a notice nobody sent).
    const { claim: _x, transition: _t, ...c } = claim;
    const at = out.findIndex((e) => e.at > c.at);
    out.splice(at === -1 ? out.length : at, 0, { ...c, detail: `by compare-and-set; ${c.detail}` });
  }
  return out;
}

/** Tie-break for one millisecond: a post comes before its receipt, a receipt before its writes. */
const TIE_ORDER: Partial<Record<EntryKind, number>> = { coze: 0, callback: 1 };
const tieRank = (d: Draft) => TIE_ORDER[d.kind] ?? 2;

export function buildTimeline(input: TimelineInput): { entries: TimelineEntry[]; cost: TaskCost } {
  const posted = new Map(input.callbacks.map((c) => [c.webhookId, c]));
  const drafts: Draft[] = input.logs.map((l) => fromLog(l, input, posted));
  // A refused callback is refused before its body is read: it is found through its webhook-id.
  for (const l of input.allLogs) {
    if (l.fields.task === undefined && typeof l.fields.webhookId === 'string') {
      if (posted.has(l.fields.webhookId)) drafts.push(fromLog(l, input, posted));
    }
  }
  drafts.push(...input.callbacks.map(postedEntry), ...(input.dropped ?? []).map(droppedEntry));
  if (input.noticeClaimedAt !== null) {
    drafts.push({
      at: input.noticeClaimedAt,
      kind: 'notice',
      title: 'notice claimed',
      detail: `the notice is now ${input.noticeState}`,
      fn: null,
      invocationId: null,
      level: 'info',
      claim: true,
    });
  }
  // The claim is written by the finishing transition's compare-and-set: while its invocation ran
  // (1 ms either side: the times are whole milliseconds, the duration rounded).
  const ranDuring = (id: string | null, at: number) => {
    const inv = id ? input.invocation(id) : undefined;
    if (!inv) return false;
    const end = inv.durationMs === null ? Infinity : inv.startedAt + inv.durationMs;
    return at >= inv.startedAt - 1 && at <= end + 1;
  };
  drafts.sort((a, b) => a.at - b.at || tieRank(a) - tieRank(b));
  const told = tell(drafts, ranDuring);
  // Times count from the submit: its arrival when known (a cold start delays the write).
  const origin = Math.min(
    input.createdAt,
    ...told.filter((e) => e.kind === 'create').map((e) => e.at),
  );
  const entries = told.map((e) => ({ ...e, rel: e.at - origin }));
  return { entries, cost: costOf(input) };
}

function costOf(input: TimelineInput): TaskCost {
  const invIds = [
    ...new Set(input.logs.map((l) => l.invocationId).filter((x): x is string => !!x)),
  ];
  const invocations = invIds
    .map((id) => input.invocation(id))
    .filter((x): x is InvocationInfo => !!x)
    .map((inv) => ({
      ...inv,
      sharedWithOtherTasks: input.allLogs.some(
        (l) =>
          l.invocationId === inv.invocationId &&
          typeof l.fields.task === 'string' &&
          l.fields.task !== input.taskId,
      ),
    }));
  return {
    invocations,
    invocationCount: invocations.length,
    reads: invocations.reduce((n, i) => n + i.reads, 0),
    writes: invocations.reduce((n, i) => n + i.writes, 0),
  };
}

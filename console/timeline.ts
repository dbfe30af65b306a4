/**
 * A task's story, told from what the stack saw: the functions' JSON log lines (they carry the task
 * id), the invocations that wrote them and their database counts, the stand-in's posted callbacks
 * and the task document itself. Pure: the console server hands everything in.
 */
import type { InvocationRecord } from '../emulator/monitor/monitor';

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
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function fromLog(l: LogEntry, invocation: InvocationInfo | undefined): Omit<TimelineEntry, 'rel'> {
  const f = l.fields;
  const base = {
    at: l.at,
    fn: l.fn,
    invocationId: l.invocationId,
    level: (l.level === 'warn' || l.level === 'error' ? l.level : 'info') as TimelineEntry['level'],
  };
  const sweeper = l.fn === 'taskSweeper';
  switch (l.event) {
    case 'task_created':
      return {
        ...base,
        kind: 'create',
        title: 'created',
        detail: `platform ${str(f.platform)}${
          invocation?.durationMs != null ? `; submit answered in ${invocation.durationMs} ms` : ''
        }`,
      };
    case 'transition': {
      const to = str(f.to);
      const applied = f.applied === true;
      const step = str(f.step);
      if (step === 'dispatched') {
        return {
          ...base,
          kind: 'dispatch',
          title: applied ? 'run started → processing' : 'run started (task had moved on)',
          detail: `Coze answered code 0, execute_id ${str(f.executeId)}${sweeper ? ' (sweeper retry)' : ''}`,
        };
      }
      return {
        ...base,
        kind: sweeper ? 'sweep' : 'transition',
        title: applied ? `${step}${to ? ` → ${to}` : ''}` : `${step}: not applied (stale)`,
        detail: `source ${str(f.source) || (sweeper ? 'sweeper' : l.fn)}; compare-and-set ${applied ? 'won' : 'lost'}`,
      };
    }
    case 'dispatch_failed':
      return {
        ...base,
        kind: 'dispatch',
        title: 'run start failed',
        detail: `${str(f.kind)}${f.retryable === true ? ', retryable (sweeper will retry)' : ', final'}: ${str(f.detail)}`,
      };
    case 'callback':
      return {
        ...base,
        kind: 'callback',
        title: `callback ${str(f.type).replace('workflow.execution.', '')}: ${str(f.outcome)}`,
        detail: `webhook-id ${str(f.webhookId)}; signature verified; outcome ${str(f.outcome)}`,
      };
    case 'callback_bad_token':
    case 'callback_unknown_task':
    case 'callback_refused':
    case 'callback_malformed':
      return {
        ...base,
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

export function buildTimeline(input: TimelineInput): { entries: TimelineEntry[]; cost: TaskCost } {
  const out: Omit<TimelineEntry, 'rel'>[] = [];
  for (const l of input.logs) {
    out.push(fromLog(l, l.invocationId ? input.invocation(l.invocationId) : undefined));
  }
  // A refused callback is refused before its body is read: it is found through its webhook-id.
  const ids = new Set(input.callbacks.map((c) => c.webhookId));
  for (const l of input.allLogs) {
    if (
      l.fields.task === undefined &&
      typeof l.fields.webhookId === 'string' &&
      ids.has(l.fields.webhookId)
    ) {
      out.push(fromLog(l, undefined));
    }
  }
  for (const c of input.callbacks) {
    out.push({
      at: c.at,
      kind: 'coze',
      title: `${c.replayOf ? `replay of #${c.replayOf}` : 'Coze posted'} ${c.type.replace('workflow.execution.', '')} ${c.progress}%`,
      detail: `delivery #${c.seq}, webhook-id ${c.webhookId}; webhook answered HTTP ${c.httpStatus ?? 'none'}`,
      fn: null,
      invocationId: null,
      level: c.httpStatus !== null && c.httpStatus >= 400 ? 'warn' : 'info',
    });
  }
  if (input.noticeClaimedAt !== null) {
    out.push({
      at: input.noticeClaimedAt,
      kind: 'notice',
      title: 'notice claimed',
      detail: `claimed by compare-and-set; notice is now ${input.noticeState}`,
      fn: null,
      invocationId: null,
      level: 'info',
    });
  }
  const entries = out
    .map((e) => ({ ...e, rel: e.at - input.createdAt }))
    .sort((a, b) => a.at - b.at);

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
    entries,
    cost: {
      invocations,
      invocationCount: invocations.length,
      reads: invocations.reduce((n, i) => n + i.reads, 0),
      writes: invocations.reduce((n, i) => n + i.writes, 0),
    },
  };
}

/** The timeline's words and order, and the sweeper's next look, from hand-made records (in process). */
import { nextLook } from './next-look';
import {
  buildTimeline,
  type InvocationInfo,
  type LogEntry,
  type PostedCallback,
  type TimelineInput,
} from './timeline';

const T0 = 1_700_000_000_000;
const TASK = 'task-1';
let seq = 0;

function log(at: number, invocationId: string, fn: string, event: string, fields = {}): LogEntry {
  return {
    seq: ++seq,
    at,
    fn,
    invocationId,
    level: 'info',
    event,
    fields: { task: TASK, ...fields },
    line: JSON.stringify({ event, ...fields }),
  };
}

function inv(invocationId: string, fn: string, startedAt: number, durationMs: number) {
  return {
    invocationId,
    fn,
    source: fn === 'extractText' ? 'client' : 'http',
    startedAt,
    durationMs,
    ok: true,
    code: null,
    reads: 0,
    writes: 1,
  } as InvocationInfo;
}

function posted(seqNo: number, at: number, type: string, progress: number): PostedCallback {
  return {
    seq: seqNo,
    taskId: TASK,
    webhookId: `msg_${seqNo}`,
    type: `workflow.execution.${type}`,
    progress,
    at,
    httpStatus: 200,
    replayOf: null,
  };
}

function timeline(
  logs: LogEntry[],
  invocations: InvocationInfo[],
  rest: Partial<TimelineInput> = {},
) {
  const byId = new Map(invocations.map((i) => [i.invocationId, i]));
  return buildTimeline({
    taskId: TASK,
    createdAt: T0,
    noticeClaimedAt: null,
    noticeState: 'none',
    logs,
    allLogs: logs,
    invocation: (id) => byId.get(id),
    callbacks: [],
    ...rest,
  }).entries.map((e) => `${e.kind}: ${e.title}`);
}

it('words each step as what happened and places each where it happened', () => {
  const logs = [
    log(T0 + 5, 'c1', 'extractText', 'task_created', { platform: 'douyin' }),
    log(T0 + 9, 'c1', 'extractText', 'transition', {
      step: 'dispatched',
      applied: true,
      to: 'processing',
      executeId: '7000',
    }),
    // The webhook logs its transition before the callback line, both after the receipt.
    log(T0 + 120, 'w1', 'webhookHandler', 'transition', {
      step: 'progress',
      applied: true,
      to: 'processing',
      source: 'callback',
    }),
    log(T0 + 121, 'w1', 'webhookHandler', 'callback', {
      type: 'workflow.execution.progress',
      outcome: 'processed',
      webhookId: 'msg_1',
    }),
    log(T0 + 220, 'w2', 'webhookHandler', 'transition', {
      step: 'failed',
      applied: true,
      to: 'failed',
      source: 'callback',
    }),
    log(T0 + 230, 'w2', 'webhookHandler', 'notice_sent', { kind: 'failure', templateId: 'tpl' }),
    log(T0 + 231, 'w2', 'webhookHandler', 'callback', {
      type: 'workflow.execution.failed',
      outcome: 'processed',
      webhookId: 'msg_2',
    }),
    // A late progress after the end: refused by the compare-and-set.
    log(T0 + 320, 'w3', 'webhookHandler', 'transition', {
      step: 'progress',
      applied: false,
      to: 'processing',
      source: 'callback',
    }),
    log(T0 + 321, 'w3', 'webhookHandler', 'callback', {
      type: 'workflow.execution.progress',
      outcome: 'stale',
      webhookId: 'msg_3',
    }),
  ];
  const invocations = [
    inv('c1', 'extractText', T0, 12),
    inv('w1', 'webhookHandler', T0 + 110, 12),
    inv('w2', 'webhookHandler', T0 + 210, 25),
    inv('w3', 'webhookHandler', T0 + 310, 12),
  ];
  const callbacks = [
    posted(1, T0 + 110, 'progress', 30),
    posted(2, T0 + 210, 'failed', 100),
    posted(3, T0 + 310, 'progress', 70),
  ];
  // The claim's time is the finishing write's, a little before its log line, in the same ms as
  // the receipt: it is still told after the transition that made it.
  expect(
    timeline(logs, invocations, { callbacks, noticeClaimedAt: T0 + 210, noticeState: 'sent' }),
  ).toEqual([
    'create: submitted: task created',
    'dispatch: run started: status pending → processing',
    'coze: Coze posted progress 30%',
    'callback: callback progress 30 %: processed',
    'transition: progress 30 % accepted',
    'coze: Coze posted failed 100%',
    'callback: callback failed: processed',
    'transition: failed: status processing → failed',
    'notice: notice claimed',
    'notice: notice sent (failure)',
    'coze: Coze posted progress 70%',
    'callback: callback progress 70 %: stale',
    'transition: progress 70 %: not applied, the task had moved on (status failed)',
  ]);
});

it('tells a notice claimed later by another sender at its own time', () => {
  const logs = [
    log(T0 + 5, 'c1', 'extractText', 'task_created'),
    log(T0 + 50, 's1', 'taskSweeper', 'transition', {
      step: 'timed_out',
      applied: true,
      to: 'timeout',
    }),
    log(T0 + 9000, 's2', 'taskSweeper', 'notice_sent', { kind: 'failure' }),
  ];
  const invocations = [
    inv('c1', 'extractText', T0, 10),
    inv('s1', 'taskSweeper', T0 + 40, 20),
    inv('s2', 'taskSweeper', T0 + 8990, 20),
  ];
  expect(timeline(logs, invocations, { noticeClaimedAt: T0 + 8995 })).toEqual([
    'create: submitted: task created',
    'sweep: timed out: status pending → timeout',
    'notice: notice claimed',
    'notice: notice sent (failure)',
  ]);
});

it('shows the callbacks the stand-in dropped', () => {
  const logs = [log(T0 + 5, 'c1', 'extractText', 'task_created')];
  const entries = timeline(logs, [inv('c1', 'extractText', T0, 10)], {
    dropped: [
      {
        executeId: '7000',
        type: 'workflow.execution.progress',
        progress: 30,
        at: T0 + 100,
        final: false,
      },
      {
        executeId: '7000',
        type: 'workflow.execution.completed',
        progress: 100,
        at: T0 + 300,
        final: true,
      },
    ],
  });
  expect(entries).toEqual([
    'create: submitted: task created',
    'coze: Coze stand-in dropped progress 30%: nothing posted',
    'coze: Coze stand-in dropped completed 100%: nothing posted',
  ]);
});

it('tells a queued start: refused for rate, then sent with no answer; and a wait given up', () => {
  const logs = [
    log(T0 + 5, 'c1', 'extractText', 'task_created', { platform: 'douyin', start: 'queue' }),
    log(T0 + 2000, 's1', 'taskSweeper', 'start_failed', {
      kind: 'busy',
      failure: 'not_started',
      detail: 'CozeError: start: coze code 4009: too many requests',
    }),
    log(T0 + 3000, 's1', 'taskSweeper', 'start_failed', {
      kind: 'timeout',
      failure: 'maybe_started',
      detail: 'CozeError: start: timed out after 10000 ms',
    }),
    log(T0 + 3001, 's1', 'taskSweeper', 'transition', {
      step: 'dispatched',
      applied: true,
      to: 'processing',
      source: null,
      executeId: null,
    }),
  ];
  const invocations = [inv('c1', 'extractText', T0, 10), inv('s1', 'taskSweeper', T0 + 1000, 5000)];
  const { entries } = buildTimeline({
    taskId: TASK,
    createdAt: T0,
    noticeClaimedAt: null,
    noticeState: 'none',
    logs,
    allLogs: logs,
    invocation: (id) => invocations.find((i) => i.invocationId === id),
    callbacks: [],
    queueAhead: 2,
  });
  expect(entries.map((e) => `${e.kind}: ${e.title}`)).toEqual([
    'create: submitted: task created',
    "dispatch: start refused for rate (Coze 4009 / HTTP 429: past the plan's QPS): back in the queue",
    'dispatch: no readable answer to the start (timeout)',
    'dispatch: start sent, no answer: the run may be going (status pending → processing)',
  ]);
  expect(entries[0]!.detail).toBe(
    'platform douyin; left its start to the queue (a dispatcher was running or tasks were waiting); 2 ahead of it at submit; submit answered in 10 ms',
  );
  expect(entries[1]!.detail).toMatch(/^nothing ran and it is not an attempt/);
  expect(entries[3]!.detail).toMatch(
    /^no run id to follow \(the sweep's dispatcher, from the queue\)/,
  );

  const busy = log(T0 + 10, 'c2', 'extractText', 'start_failed', {
    kind: 'busy',
    failure: 'not_started',
    detail: 'CozeError: start: coze code 5000: busy',
  });
  const gaveUp = log(T0 + 600_000, 's2', 'taskSweeper', 'transition', {
    step: 'waited_too_long',
    applied: true,
    to: 'failed',
    source: null,
  });
  expect(timeline([busy, gaveUp], [inv('s2', 'taskSweeper', T0 + 599_000, 2000)])).toEqual([
    'dispatch: start refused for load (Coze 5000: busy): back in the queue',
    'sweep: gave up waiting in the queue: status pending → failed',
  ]);
});

describe('the next look', () => {
  const base = {
    updatedAt: T0,
    expiresAt: T0 + 300_000,
    nextDispatchAt: null,
    reconcileAfterS: 60,
    sweeperAt: T0 + 30_000,
    callbackDropped: false,
  };

  it('a processing task: the history read once silent for RECONCILE_AFTER_S', () => {
    expect(nextLook({ ...base, status: 'processing', callbackDropped: true })).toEqual({
      title: 'no callback will come: the sweeper reads the run history',
      detail:
        'the sweeper looks at a processing task once it has been silent for RECONCILE_AFTER_S (60 s)',
      dueAt: T0 + 60_000,
      sweeperAt: T0 + 30_000,
      expiresAt: T0 + 300_000,
      endsAs: 'times out',
    });
    expect(nextLook({ ...base, status: 'processing', sweeperAt: null })?.title).toBe(
      'if no callback comes, the sweeper reads the run history',
    );
  });

  it('a waiting task: its place and wait in the queue, or its create still starting it', () => {
    const waiting = nextLook({
      ...base,
      status: 'pending',
      nextDispatchAt: T0,
      queue: { place: 3, waitS: 12 },
    });
    expect(waiting).toMatchObject({
      title: "waits in the queue: a sweep's dispatcher starts it in its turn",
      dueAt: T0,
      endsAs: 'gives up waiting (TOO_BUSY, no notice)',
    });
    expect(waiting?.detail).toMatch(/^place 3 in the queue \(2 ahead\), about 12 s to its start;/);
    const starting = nextLook({
      ...base,
      status: 'pending',
      nextDispatchAt: T0 + 9000,
      queue: null,
    });
    expect(starting?.detail).toMatch(/^its create is still making its own start/);
    expect(nextLook({ ...base, status: 'pending' })).toBeNull();
  });

  it('a finished task: nothing', () => {
    for (const status of ['completed', 'failed', 'timeout', 'cancelled']) {
      expect(nextLook({ ...base, status })).toBeNull();
    }
  });
});

it('counts times from the submit: a cold start that delays the write gives no negative time', () => {
  const logs = [log(T0 + 450, 'c1', 'extractText', 'task_created')];
  const { entries } = buildTimeline({
    taskId: TASK,
    createdAt: T0 + 440,
    noticeClaimedAt: null,
    noticeState: 'none',
    logs,
    allLogs: logs,
    invocation: (id) => (id === 'c1' ? inv('c1', 'extractText', T0, 480) : undefined),
    callbacks: [],
  });
  expect(entries.map((e) => [e.title, e.rel])).toEqual([['submitted: task created', 0]]);
});

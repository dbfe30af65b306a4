/** The bench's cost accounting: every invocation the monitor saw, charged to the right design. */
import { Monitor } from '../emulator';
import { costReport, designKey, memorySizes, meter, type FollowedTask } from './cost';

const followed: FollowedTask[] = [
  { design: 'watch', taskId: 't-w0', openid: 'bench-watch-0' },
  { design: 'watch', taskId: 't-w1', openid: 'bench-watch-1' },
  { design: 'polling 1000', taskId: 't-p0', openid: 'bench-poll1000-0' },
];
const MEMORY = { extractText: 256, webhookHandler: 512, taskSweeper: 128 };

/** Plays one invocation through the monitor as the runtime and the admin API would. */
function invoke(
  monitor: Monitor,
  id: string,
  fn: string,
  source: 'client' | 'http' | 'timer',
  opts: { openid?: string; reads?: number; writes?: number; ms?: number; lines?: string[] },
): void {
  const who = { invocationId: id, fn, source, ...(opts.openid ? { openid: opts.openid } : {}) };
  monitor.invocationStarted(who);
  const db = (op: 'read' | 'write') =>
    monitor.record({
      type: 'db',
      invocationId: id,
      fn: null,
      action: op === 'read' ? 'database.queryDocument' : 'database.modifyDocument',
      op,
      collection: 'tasks',
      durationMs: 1,
      code: 'OK',
    });
  for (let i = 0; i < (opts.reads ?? 0); i++) db('read');
  for (let i = 0; i < (opts.writes ?? 0); i++) db('write');
  for (const line of opts.lines ?? []) monitor.record({ type: 'log', fn, invocationId: id, line });
  monitor.invocationFinished({
    ...who,
    // Each waited a second for a free instance: waiting is not billed.
    durationMs: (opts.ms ?? 10) + 1000,
    runMs: opts.ms ?? 10,
    ok: true,
    code: 0,
    outcome: 'ok',
  });
}

it('charges submits and gets by openid, callbacks by the task their log line names, the sweeper apart', () => {
  const monitor = new Monitor();
  // Before the meter starts: not counted.
  invoke(monitor, 'warm', 'extractText', 'client', { openid: 'warm', reads: 5 });
  const m = meter(monitor);
  invoke(monitor, 's-w0', 'extractText', 'client', {
    openid: 'bench-watch-0',
    reads: 2,
    writes: 2,
    ms: 40,
  });
  invoke(monitor, 'g-w0', 'extractText', 'client', { openid: 'bench-watch-0', reads: 1, ms: 8 });
  invoke(monitor, 's-w1', 'extractText', 'client', {
    openid: 'bench-watch-1',
    reads: 2,
    writes: 2,
    ms: 40,
  });
  invoke(monitor, 's-p0', 'extractText', 'client', {
    openid: 'bench-poll1000-0',
    reads: 2,
    writes: 2,
    ms: 40,
  });
  for (let i = 0; i < 5; i++) {
    invoke(monitor, `g-p0-${i}`, 'extractText', 'client', {
      openid: 'bench-poll1000-0',
      reads: 1,
      ms: 8,
    });
  }
  const line = (task: string) => JSON.stringify({ level: 'info', event: 'callback', task });
  invoke(monitor, 'c-w0', 'webhookHandler', 'http', { writes: 1, ms: 20, lines: [line('t-w0')] });
  invoke(monitor, 'c-w1', 'webhookHandler', 'http', { writes: 1, ms: 20, lines: [line('t-w1')] });
  invoke(monitor, 'c-p0', 'webhookHandler', 'http', {
    writes: 1,
    ms: 20,
    lines: [line('t-w1'), line('t-p0')],
  });
  invoke(monitor, 'c-x', 'webhookHandler', 'http', { lines: ['not json'] });
  invoke(monitor, 'sweep', 'taskSweeper', 'timer', { reads: 3, writes: 1, ms: 100 });
  const metered = m.stop();
  invoke(monitor, 'late', 'extractText', 'client', { openid: 'bench-watch-0', reads: 9 });
  expect(metered).toHaveLength(14);

  const report = costReport(metered, followed, MEMORY, {
    'bench-watch-0': { init: 1, change: 3 },
    'bench-watch-1': { init: 2, change: 3 },
  });
  expect(report.unattributed).toBe(1);
  // c-p0's run also saw the previous invocation's closing line (t-w1): its own, last, counts.
  expect(report.attribution).toEqual({
    unattributed_by_fn: { webhookHandler: 1 },
    several_tasks: 1,
  });
  // watch: per task (2 tasks) a submit, half a get, a callback.
  expect(report.cost_per_task.watch).toMatchObject({
    tasks: 2,
    invocations: 2.5,
    db_reads: 2.5,
    db_writes: 3,
    db_ops: 5.5,
    function_ms: 64,
    watch_pushes: 4.5,
  });
  expect(report.cost_per_task.watch?.calls).toMatchObject({
    submit: { invocations: 1, db_reads: 2, db_writes: 2 },
    get: { invocations: 0.5, db_reads: 0.5 },
    callback: { invocations: 1, db_writes: 1 },
  });
  // GB-s at each function's own memory: 40 ms at 256 MB, 4 ms at 256 MB, 20 ms at 512 MB.
  expect(report.cost_per_task.watch?.gb_s).toBeCloseTo(0.04 * 0.25 + 0.004 * 0.25 + 0.02 * 0.5, 5);
  expect(report.cost_per_task.polling_1s).toMatchObject({
    tasks: 1,
    invocations: 7,
    db_reads: 7,
    db_writes: 3,
    function_ms: 100,
    watch_pushes: 0,
  });
  expect(report.sweeper_per_run).toMatchObject({
    runs: 1,
    db_reads: 3,
    db_writes: 1,
    function_ms: 100,
  });
  expect(report.per_call.get).toMatchObject({
    count: 6,
    reads: 1,
    writes: 0,
    run_ms_p50: 8,
    total_ms_p50: 1008,
  });
});

it('names designs as the JSON does and reads each memory size from cloudbaserc.json', () => {
  expect(['watch', 'polling 1000', 'polling 2000', 'polling 5000'].map(designKey)).toEqual([
    'watch',
    'polling_1s',
    'polling_2s',
    'polling_5s',
  ]);
  const mem = memorySizes(`${__dirname}/..`);
  expect(Object.keys(mem).sort()).toEqual(['extractText', 'taskSweeper', 'webhookHandler']);
  for (const mb of Object.values(mem)) expect(mb).toBeGreaterThan(0);
});

/** The observation interface: each database action is attributed to the invocation that made it. */
import { callFunction } from '../client';
import type { LocalStack, MonitorEvent } from '..';
import { adminCall, removeDir, startFixtureStack, tempDataDir, waitFor } from '../testing';

jest.setTimeout(30_000);

let stack: LocalStack;
let dataDir: string;
const seen: MonitorEvent[] = [];

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir, instancesPerFunction: 2 });
  stack.monitor.on((e) => seen.push(e));
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

const finished = (fn: string) =>
  seen.filter(
    (e): e is Extract<MonitorEvent, { type: 'invocation.finished' }> =>
      e.type === 'invocation.finished' && e.fn === fn,
  );

it('counts the reads and writes of each invocation, concurrent ones apart', async () => {
  await Promise.all([
    callFunction(stack.url, 'echo', { write: true, delayMs: 30 }, 'u-1'),
    callFunction(stack.url, 'echo', { write: true, delayMs: 10 }, 'u-2'),
    callFunction(stack.url, 'echo', { delayMs: 0 }, 'u-3'),
  ]);
  const ends = finished('echo');
  expect(ends).toHaveLength(3);
  const byUser = Object.fromEntries(ends.map((e) => [e.openid, e]));
  // add() is one write, doc().get() one read; the plain call touches nothing.
  expect(byUser['u-1']).toMatchObject({ ok: true, code: 0, reads: 1, writes: 1, source: 'client' });
  expect(byUser['u-2']).toMatchObject({ reads: 1, writes: 1 });
  expect(byUser['u-3']).toMatchObject({ reads: 0, writes: 0 });
  // The time inside the instance (the 30 ms the function waits at least) never exceeds the whole.
  expect(byUser['u-1']!.runMs).toBeGreaterThanOrEqual(25);
  expect(byUser['u-1']!.runMs).toBeLessThanOrEqual(byUser['u-1']!.durationMs);
  const id = byUser['u-1']!.invocationId;
  expect(stack.monitor.invocation(id)).toMatchObject({ fn: 'echo', reads: 1, writes: 1 });
  const dbOfFirst = seen.filter((e) => e.type === 'db' && e.invocationId === id);
  expect(dbOfFirst.map((e) => e.type === 'db' && [e.action, e.op, e.collection, e.code])).toEqual([
    ['database.insertDocument', 'write', 'echoes', 'OK'],
    ['database.getDocument', 'read', 'echoes', 'OK'],
  ]);
});

it('gives each output line to the invocation that wrote it, even when the next one waits', async () => {
  // Two instances, twelve callers: each instance goes straight from one answer to the next caller.
  const lines = Array.from({ length: 12 }, (_, i) => `line-${i}`);
  await Promise.all(
    lines.map((line, i) => callFunction(stack.url, 'echo', { log: line, delayMs: 0 }, `log-${i}`)),
  );
  await waitFor(() => lines.every((l) => seen.some((e) => e.type === 'log' && e.line === l)));
  for (const [i, line] of lines.entries()) {
    const log = seen.find((e) => e.type === 'log' && e.line === line);
    const own = finished('echo').find((e) => e.openid === `log-${i}`);
    expect(log && log.type === 'log' && log.invocationId).toBe(own?.invocationId);
  }
});

it('gives a nested call its own invocation, and a call from outside a function none', async () => {
  await callFunction(stack.url, 'echo', { callEcho: true, delayMs: 0 }, 'u-4');
  const nested = finished('echo').filter((e) => e.source === 'function');
  expect(nested).toHaveLength(1);
  await adminCall(stack.adminUrl, {
    action: 'database.getDocument',
    collectionName: 'nope-missing',
  });
  const outside = seen.filter((e) => e.type === 'db' && e.collection === 'nope-missing');
  expect(outside).toEqual([
    expect.objectContaining({
      invocationId: null,
      op: 'read',
      code: expect.not.stringMatching(/^OK$/),
    }),
  ]);
});

it('reports subscription sends with WeChat answer code and the sending invocation', async () => {
  const message = {
    touser: 'u-5',
    templateId: 'tpl-done',
    data: {
      thing1: { value: 'ok' },
      time2: { value: '2026年1月1日 10:00' },
      phrase3: { value: '完成' },
    },
  };
  await callFunction(stack.url, 'notify', { message });
  stack.grant('u-5');
  await callFunction(stack.url, 'notify', { message });
  const sends = await waitFor(() => {
    const m = seen.filter((e) => e.type === 'message');
    return m.length === 2 ? m : null;
  });
  expect(sends!.map((e) => e.type === 'message' && [e.touser, e.errcode, e.fn])).toEqual([
    ['u-5', 43101, 'notify'],
    ['u-5', 0, 'notify'],
  ]);
  expect(stack.grants()['u-5']).toEqual({ 'tpl-done': 0, 'tpl-failed': 1 });
});

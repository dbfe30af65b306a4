/**
 * The two client designs, side by side on the same stack, each counting the requests it makes:
 * - watch: what the mini-program's TaskTracker does (miniprogram/services/task-tracker.ts): submit,
 *   open a live watch on the task, one `get` at start, a slow safety `get` every 20 s while the
 *   watch is healthy, re-watch after an error, stop at a terminal status;
 * - polling: the design it replaces: submit, then `get` every `intervalMs` until terminal.
 * A request is one `callFunction` or one watch subscription; what the server pushes is not one.
 */
import type { ExtractAnswer } from '../shared/api';
import { isTerminal, type TaskStatus } from '../shared/status';
import { viewFromRaw } from '../shared/task';
import { callFunction, watch } from '../emulator/client';

const TRACKER_SLOW_POLL_MS = 20_000;
const TRACKER_REWATCH_MS = 1000;

export interface Followed {
  design: string;
  taskId: string;
  openid: string;
  createMs: number;
  /** when the client first knew the task had ended (ms since epoch) */
  seenEndAt: number | null;
  status: string | null;
  requests: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function submit(
  url: string,
  openid: string,
  shareText: string,
  requestId: string,
): Promise<{ ms: number; taskId: string | null; code: string | null }> {
  const t0 = performance.now();
  const a = (await callFunction(
    url,
    'extractText',
    { action: 'create', shareText, requestId, subscribed: { success: true, failure: true } },
    openid,
  )) as ExtractAnswer;
  const ms = performance.now() - t0;
  if (a.ok && 'task' in a) return { ms, taskId: a.task._id, code: null };
  return { ms, taskId: null, code: a.ok ? 'NO_TASK' : a.error.code };
}

async function getStatus(url: string, openid: string, taskId: string): Promise<string | null> {
  const a = (await callFunction(
    url,
    'extractText',
    { action: 'get', taskId },
    openid,
  )) as ExtractAnswer;
  return a.ok && 'task' in a ? a.task.status : null;
}

/** Submits (the first request of either design) and starts the record of how it is followed. */
async function startFollowing(
  design: string,
  url: string,
  openid: string,
  shareText: string,
  requestId: string,
): Promise<Followed> {
  const created = await submit(url, openid, shareText, requestId);
  return {
    design,
    taskId: created.taskId ?? '',
    openid,
    createMs: created.ms,
    seenEndAt: null,
    status: null,
    requests: 1,
  };
}

export async function followWithWatch(
  url: string,
  openid: string,
  shareText: string,
  requestId: string,
  timeoutMs: number,
): Promise<Followed> {
  const out = await startFollowing('watch', url, openid, shareText, requestId);
  if (!out.taskId) return out;
  const taskId = out.taskId;
  await new Promise<void>((resolve) => {
    let done = false;
    let handle: { close(): void } | null = null;
    const timers: NodeJS.Timeout[] = [];
    const end = (status: string) => {
      if (done) return;
      done = true;
      out.seenEndAt = Date.now();
      out.status = status;
      handle?.close();
      timers.forEach(clearTimeout);
      resolve();
    };
    const seen = (status: string | null | undefined) => {
      if (status && isTerminal(status as TaskStatus)) end(status);
    };
    const open = () => {
      out.requests++;
      handle = watch(
        url,
        openid,
        'tasks',
        { _id: taskId, _openid: '{openid}' },
        (s) => seen(viewFromRaw(s.docs.find((d) => d._id === taskId))?.status),
        () => {
          if (!done) timers.push(setTimeout(open, TRACKER_REWATCH_MS));
        },
      );
    };
    const poll = () => {
      timers.push(
        setTimeout(() => {
          if (done) return;
          out.requests++;
          void getStatus(url, openid, taskId)
            .then(seen, () => undefined)
            .finally(poll);
        }, TRACKER_SLOW_POLL_MS),
      );
    };
    open();
    out.requests++;
    void getStatus(url, openid, taskId).then(seen, () => undefined);
    poll();
    timers.push(setTimeout(() => end('unfinished'), timeoutMs));
  });
  return out;
}

export async function followWithPolling(
  url: string,
  openid: string,
  shareText: string,
  requestId: string,
  intervalMs: number,
  timeoutMs: number,
): Promise<Followed> {
  const out = await startFollowing(`polling ${intervalMs}`, url, openid, shareText, requestId);
  if (!out.taskId) return out;
  const until = Date.now() + timeoutMs;
  // A run's length is unknown to the client: its polls fall at a random phase against the end
  // (the stand-in's runs all last the same, which would otherwise lock the two in step).
  await sleep(Math.random() * intervalMs);
  while (Date.now() < until) {
    out.requests++;
    const status = await getStatus(url, openid, out.taskId).catch(() => null);
    if (status && isTerminal(status as TaskStatus)) {
      out.seenEndAt = Date.now();
      out.status = status;
      break;
    }
    await sleep(intervalMs);
  }
  return out;
}

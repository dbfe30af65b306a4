/**
 * The `extractText` actions. The caller is the WXContext openid the entry passes in; every task
 * read is filtered by owner, and another user's task is answered as NOT_FOUND. The one exception
 * is `shared`: anyone holding a share link reads the result its owner shared, and nothing else.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  LIST_DEFAULT_LIMIT,
  decodeCursor,
  describeRequestIssues,
  encodeCursor,
  extractRequestSchema,
  quotaOf,
  quotaResetsAt,
  sharedPath,
  type Quota,
  type ShareAnswer,
  type SharedAnswer,
  type ClearAnswer,
  type ExtractAnswer,
  type ExtractRequest,
  type ListAnswer,
  type RemoveAnswer,
  type TaskAnswer,
} from '../../shared/api';
import { AppError, describeError, toErrorAnswer } from '../../shared/errors';
import { fallbackTitle, parseShareText } from '../../shared/share-text';
import { FUNCTION_TIMEOUT_S } from '../../shared/config';
import { decideAdmission, rebuildLedger } from '../../shared/ledger';
import {
  createStartMode,
  ADMIT_WITHIN,
  admitsWait,
  estimateWaitS,
  queuePosition,
  type QueueState,
  type QueueTicket,
} from '../../shared/queue';
import { TaskStatus, canRetry, isTerminal } from '../../shared/status';
import { boundResult, resultKind } from '../../shared/result';
import {
  SHARE_DAYS,
  newTask,
  shareLinkActive,
  toTaskSummary,
  toTaskView,
  type ShareLink,
  type TaskDoc,
} from '../../shared/task';
import { DAY_MS, shanghaiDay } from '../../shared/time';
import type { LedgerStore, QueueStore } from '../_adapters/database';
import { mintCallbackToken, newTaskId, taskIdForRequest } from '../_adapters/ids';
import { startTask, type StartDeps } from '../_pipeline/starts';
import { transition } from '../_pipeline/transitions';

export interface ExtractDeps extends StartDeps {
  ledger: LedgerStore;
  queue: QueueStore;
}

/** How long creates leave their starts to the queue's slots after Coze refused one of them. */
const BUSY_HOLD_MS = 60_000;

type CreateRequest = Extract<ExtractRequest, { action: 'create' }>;

export async function handleExtract(
  deps: ExtractDeps,
  openid: string | undefined,
  event: unknown,
): Promise<ExtractAnswer> {
  try {
    // HTTP access, timers and other functions have no caller: nothing here is theirs to read.
    if (!openid) {
      throw new AppError('INVALID_INPUT', 'no caller identity', {
        publicDetail: 'caller: missing',
      });
    }
    const parsed = extractRequestSchema.safeParse(withoutRuntimeFields(event));
    if (!parsed.success) {
      const detail = describeRequestIssues(parsed.error);
      const action = (event as { action?: unknown } | null)?.action;
      deps.log.warn('request_malformed', {
        action: typeof action === 'string' ? action.slice(0, 16) : null,
        detail,
      });
      throw new AppError('INVALID_INPUT', detail, { publicDetail: detail });
    }
    const req = parsed.data;
    switch (req.action) {
      case 'create':
        return await create(deps, openid, req);
      case 'get':
        return await answerTask(deps, await owned(deps, openid, req.taskId));
      case 'list':
        return await list(deps, openid, req.cursor, req.limit);
      case 'cancel':
        return await cancel(deps, openid, req.taskId);
      case 'retry':
        return await retry(deps, openid, req.taskId, req.subscribed);
      case 'remove':
        return await remove(deps, openid, req.taskId);
      case 'clear':
        return await clear(deps, openid);
      case 'share':
        return await share(deps, openid, req.taskId, req.text);
      case 'unshare':
        return await unshare(deps, openid, req.taskId);
      case 'shared':
        return await shared(deps, req.taskId, req.token);
    }
  } catch (err) {
    if (!(err instanceof AppError))
      deps.log.error('extract_failed', { detail: describeError(err) });
    return toErrorAnswer(err);
  }
}

/**
 * The event without what the runtime adds to every call from the mini-program (`userInfo {appId,
 * openId}`, replacing any the client sent): the request's own fields are then checked strictly. The
 * caller is read from WXContext, never from the event.
 */
function withoutRuntimeFields(event: unknown): unknown {
  if (typeof event !== 'object' || event === null || !('userInfo' in event)) return event;
  const { userInfo: _runtime, ...request } = event as Record<string, unknown>;
  return request;
}

async function owned(deps: ExtractDeps, openid: string, taskId: string): Promise<TaskDoc> {
  const task = await deps.store.getOwned(taskId, openid);
  if (!task) throw new AppError('NOT_FOUND');
  return task;
}

/**
 * A task as answered: its view and, while it waits in the queue, where it stands (tasks ahead and
 * the wait at the measured drain rate: the page then follows the queue's state document live).
 */
async function answerTask(deps: ExtractDeps, task: TaskDoc, quota?: Quota): Promise<TaskAnswer> {
  const view = toTaskView(task);
  const answer: TaskAnswer = { ok: true, task: view, ...(quota ? { quota } : {}) };
  if (task.status !== TaskStatus.Pending || !task.queue) return answer;
  const state = await deps.queue.readFresh(deps.now());
  return { ...answer, queue: queuePosition(task.queue, state) };
}

async function create(deps: ExtractDeps, openid: string, req: CreateRequest): Promise<TaskAnswer> {
  const share = parseShareText(req.shareText);
  if (!share.ok) throw new AppError(share.code);
  const { store, ledger, config, log } = deps;
  const now = deps.now();
  const day = shanghaiDay(now);

  const taskId = req.requestId ? taskIdForRequest(openid, req.requestId) : newTaskId();
  // The queue decides first: a task it could not start in time is refused before anything is
  // charged, never accepted and failed later.
  const place = await placeInQueue(deps, now);
  // Admitted next: a task document exists only once its quota and slot are taken, so nobody
  // (the dispatcher included) can ever start a task that skipped them. A crash right after costs
  // one unit of the day's quota and holds the slot until the ledger is next reclaimed.
  const admission = await admit(deps, openid, taskId, day, now);

  const token = mintCallbackToken();
  const task = newTask({
    taskId,
    openid,
    platform: share.platform,
    url: share.url,
    shareText: req.shareText.trim(),
    requestId: req.requestId ?? null,
    callbackTokenHash: token.hash,
    subscribed: {
      success: req.subscribed?.success ?? false,
      failure: req.subscribed?.failure ?? false,
    },
    now,
    queueMaxWaitS: config.QUEUE_MAX_WAIT_S,
    // A create that tries its own start holds it until that attempt is surely over.
    dueAt: new Date(
      now.getTime() + (place.mode === 'queue' ? 0 : config.COZE_START_TIMEOUT_MS + 2000),
    ),
    queue: place.ticket,
  });

  const quota = (used: number) => quotaOf(used, config.DAILY_QUOTA_PER_USER, now);
  // The same request again (a double tap, a resend) meets its own `_id`.
  if ((await store.insert(task)) === 'exists') {
    if (admission.kind === 'admitted') await ledger.release(openid, taskId, day, now);
    const used = admission.kind === 'admitted' ? admission.used - 1 : admission.used;
    return answerTask(deps, await owned(deps, openid, taskId), quota(used));
  }
  log.info('task_created', { task: taskId, platform: share.platform, start: place.mode });
  const placed = await startOnCreate(deps, task, token, place.mode);
  // Counted as waiting on this instance only once it waits (a slot start runs at once).
  if (placed.status === TaskStatus.Pending) store.noteWaiting();
  return answerTask(deps, placed, quota(admission.used));
}

/**
 * How this create starts its run (`createStartMode`), and, when it has to wait, its place: the
 * tasks ahead of it, and a refusal when the estimated wait passes QUEUE_MAX_WAIT_S.
 */
async function placeInQueue(
  deps: ExtractDeps,
  now: Date,
): Promise<{ mode: ReturnType<typeof createStartMode>; ticket: QueueTicket | null }> {
  const { config, store } = deps;
  const state: QueueState = await deps.queue.readFresh(now);
  const mode = createStartMode(state, now);
  if (mode === 'direct') return { mode, ticket: null };
  const ahead = await store.countWaitingFresh(now);
  const waitS = estimateWaitS(ahead, state, config.COZE_QPS, now);
  if (!admitsWait(waitS, config.QUEUE_MAX_WAIT_S)) {
    deps.log.warn('submit_refused_busy', { ahead, waitS: Math.round(waitS) });
    throw new AppError('TOO_BUSY', `estimated wait ${Math.round(waitS)} s`, {
      // When enough of the queue will have drained for a new task to fit.
      retryAfterS: Math.max(30, Math.ceil(waitS - config.QUEUE_MAX_WAIT_S * ADMIT_WITHIN)),
    });
  }
  return { mode, ticket: { ahead, started_seen: state.started_total } };
}

/**
 * The create's own start: one attempt when the queue is idle, or in a free slot while Coze has
 * refused creates lately; never past a waiting queue. A refusal for rate marks the queue busy so
 * other creates leave their starts to it; the task waits in the queue either way.
 */
async function startOnCreate(
  deps: ExtractDeps,
  task: TaskDoc,
  token: { token: string; hash: string },
  mode: ReturnType<typeof createStartMode>,
): Promise<TaskDoc> {
  if (mode === 'queue') return task;
  const now = deps.now();
  if (mode === 'slot' && !(await deps.queue.takeSlot(now, 1000 / deps.config.COZE_QPS))) {
    return task;
  }
  const started = await startTask(deps, task, token);
  if (started.outcome !== 'not_started') return started.task;
  await deps.queue.markBusy(new Date(now.getTime() + BUSY_HOLD_MS), now);
  if (task.queue) return started.task;
  // A direct start refused: the task waits after all, so it gets its place like any other.
  // Exactly the tasks placed before it (one count, on this refusal only).
  const state = await deps.queue.readFresh(now);
  const ticket = {
    ahead: await deps.store.countWaiting(task.next_dispatch_at ?? now),
    started_seen: state.started_total,
  };
  return (await deps.store.giveTicket(task._id, ticket, now)) ? { ...task, queue: ticket } : task;
}

/** Conflicting writers the slow path of an admission outlasts before it gives up. */
const ADMISSION_ATTEMPTS = 6;

/**
 * Takes the task's quota unit and active slot on the user's ledger: one compare-and-set on the
 * usual path. Only when that misses is the ledger read: to make it (a new user), to say which
 * limit refused, to give back the slots of tasks that ended since (reclaimed lazily, here), or to
 * rebuild a corrupted one. Answers the day's count after it (the answer's quota), known on every
 * path without a further read.
 */
async function admit(
  deps: ExtractDeps,
  openid: string,
  taskId: string,
  day: string,
  now: Date,
): Promise<{ kind: 'admitted' | 'already'; used: number }> {
  const { ledger, store, config, log } = deps;
  const limits = {
    dailyQuota: config.DAILY_QUOTA_PER_USER,
    maxActive: config.MAX_ACTIVE_TASKS_PER_USER,
    createGraceMs: FUNCTION_TIMEOUT_S.extractText * 1000,
  };
  const entry = { task: taskId, at: now.getTime() };
  const admitted = (used: number) => ({ kind: 'admitted' as const, used });
  const admitNow = async () => {
    try {
      const used = await ledger.admit(openid, entry, day, limits, now);
      return used === null ? null : admitted(used);
    } catch (err) {
      // A ledger the write cannot apply to (a corrupted `active`): the slow path reads and mends it.
      log.warn('ledger_admit_failed', { detail: describeError(err) });
      return null;
    }
  };
  const first = await admitNow();
  if (first) return first;
  for (let attempt = 0; attempt < ADMISSION_ATTEMPTS; attempt++) {
    const read = await ledger.read(openid);
    if (!read) {
      if (await ledger.create(openid, entry, day, now)) return admitted(1);
      // Another create made it first: the one-write path again.
      const again = await admitNow();
      if (again) return again;
      continue;
    }
    if (read.kind === 'corrupt') {
      await repairLedger(deps, openid, read.raw, read.problems, day, now);
      continue;
    }
    const seen = read.doc;
    let decision = decideAdmission(seen, taskId, day, now, limits);
    if (decision.kind === 'look_up') {
      const statuses = await store.statusesOf(decision.ids);
      decision = decideAdmission(seen, taskId, day, now, limits, statuses);
    }
    const usedBefore = seen.counts[day] ?? 0;
    switch (decision.kind) {
      case 'already':
        return { kind: 'already', used: usedBefore };
      case 'quota_exceeded':
        // The day starts again at Shanghai midnight: the answer says when.
        throw new AppError('QUOTA_EXCEEDED', undefined, {
          retryAfterS: (quotaResetsAt(now).getTime() - now.getTime()) / 1000,
        });
      case 'rate_limited':
        throw new AppError('RATE_LIMITED');
      case 'admit': {
        // Nothing to reclaim (the ledger filled and emptied meanwhile): the one-write path, which
        // concurrent creates cannot make fail for one another. Else replace the slots by revision.
        if (decision.keep.length === seen.active.length) {
          const again = await admitNow();
          if (again) return again;
        } else if (await ledger.admitOver(seen, decision.keep, entry, day, now)) {
          // By revision: nothing else counted in between.
          return admitted(usedBefore + 1);
        }
        break;
      }
      case 'look_up':
        break;
    }
  }
  throw new AppError('RATE_LIMITED', 'ledger contended');
}

/** Rebuilds a ledger that does not match its schema from the user's tasks, and says what was wrong. */
async function repairLedger(
  deps: ExtractDeps,
  openid: string,
  raw: unknown,
  problems: string[],
  day: string,
  now: Date,
): Promise<void> {
  const { store, ledger, config, log } = deps;
  const [tasksToday, active] = await Promise.all([
    store.countOfDay(openid, day),
    store.activeOf(openid, config.MAX_ACTIVE_TASKS_PER_USER),
  ]);
  const rebuilt = rebuildLedger(raw, openid, { day, tasksToday, active }, now);
  await ledger.replace(rebuilt);
  log.warn('ledger_repaired', {
    problems: problems.join(','),
    today: rebuilt.counts[day] ?? 0,
    active: rebuilt.active.length,
  });
}

async function list(
  deps: ExtractDeps,
  openid: string,
  cursor: string | undefined,
  limit?: number,
): Promise<ListAnswer> {
  const after = cursor ? decodeCursor(cursor, deps.now()) : null;
  if (cursor && !after) {
    throw new AppError('INVALID_INPUT', 'bad cursor', { publicDetail: 'cursor: not one we gave' });
  }
  const n = limit ?? LIST_DEFAULT_LIMIT;
  // The first page also says today's uses (one ledger read beside the page, at the same time).
  const [docs, quota] = await Promise.all([
    deps.store.listSummaries(openid, after, n + 1),
    after ? Promise.resolve(null) : quotaNow(deps, openid),
  ]);
  const page = docs.slice(0, n);
  const last = page[page.length - 1];
  return {
    ok: true,
    tasks: page.map(toTaskSummary),
    nextCursor: docs.length > n && last ? encodeCursor(last.created_at, last._id) : null,
    ...(quota ? { quota } : {}),
  };
}

/** Today's uses from the user's ledger (none yet: 0); null when it cannot be read soundly. */
async function quotaNow(deps: ExtractDeps, openid: string): Promise<Quota | null> {
  const now = deps.now();
  try {
    const read = await deps.ledger.read(openid);
    if (read?.kind === 'corrupt') return null;
    const used = read ? (read.doc.counts[shanghaiDay(now)] ?? 0) : 0;
    return quotaOf(used, deps.config.DAILY_QUOTA_PER_USER, now);
  } catch (err) {
    // The page still gets its history; the quota line waits for the next answer.
    deps.log.warn('quota_read_failed', { detail: describeError(err) });
    return null;
  }
}

/** Rounds of read → (cancel) → conditional remove before giving up on a task that keeps moving. */
const REMOVE_ATTEMPTS = 3;

/**
 * Removes one of the caller's tasks. A running one is cancelled first (the normal transition, so
 * its notice is skipped and a late callback finds nothing to change); the remove itself is
 * conditional on the finished status just read or written, so a task that changed in between is
 * read again instead of being deleted mid-change.
 */
async function remove(deps: ExtractDeps, openid: string, taskId: string): Promise<RemoveAnswer> {
  for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
    const task = await owned(deps, openid, taskId);
    const status = isTerminal(task.status)
      ? task.status
      : await cancelIfRunning(deps, openid, task);
    // Null: it finished meanwhile, so it is read again. Its slot is freed before the delete: a
    // removed task's id is never a free pass, and a removed task never holds a slot.
    if (status) await deps.ledger.releaseSlots(openid, [taskId], deps.now());
    if (status && (await deps.store.removeOwned(taskId, openid, status))) {
      deps.log.info('task_removed', { task: taskId, status });
      return { ok: true, removed: 1 };
    }
    // Otherwise gone already (a racing remove or clear: the next read says NOT_FOUND) or changed.
  }
  throw new AppError('CONFLICT', 'remove: the task kept changing');
}

/** The status the normal cancel left the task in, or null when it had finished meanwhile. */
async function cancelIfRunning(
  deps: ExtractDeps,
  openid: string,
  task: TaskDoc,
): Promise<TaskStatus | null> {
  try {
    return (await cancel(deps, openid, task._id)).task.status;
  } catch (err) {
    if (err instanceof AppError && err.code === 'CONFLICT') return null;
    throw err;
  }
}

/**
 * Removes the caller's finished tasks in one conditional remove; running ones stay. The finished
 * ones the ledger still lists give back their slots first; a listed task that was still running
 * when read is kept even if it finishes meanwhile (the next clear takes it), so no removed task is
 * ever left listed.
 */
async function clear(deps: ExtractDeps, openid: string): Promise<ClearAnswer> {
  const read = await deps.ledger.read(openid);
  const listed = read?.kind === 'found' ? read.doc.active.map((e) => e.task) : [];
  const statuses = await deps.store.statusesOf(listed);
  const finished = listed.filter((id) => {
    const status = statuses.get(id);
    return status !== undefined && isTerminal(status);
  });
  await deps.ledger.releaseSlots(openid, finished, deps.now());
  const stillListed = listed.filter((id) => !finished.includes(id));
  const removed = await deps.store.removeFinishedOwned(openid, stillListed);
  const kept = await deps.store.countActive(openid);
  deps.log.info('history_cleared', { removed, kept });
  return { ok: true, removed, kept };
}

async function cancel(deps: ExtractDeps, openid: string, taskId: string): Promise<TaskAnswer> {
  const task = await owned(deps, openid, taskId);
  const cancelled = await transition(deps, task._id, { type: 'cancelled' });
  // A cancelled task sends no notice (the user asked for it): the same write skips it.
  if (!cancelled) throw new AppError('CONFLICT', 'cancel on a finished task');
  return { ok: true, task: toTaskView(cancelled) };
}

/**
 * Terminal states are final, so a retry is a new task from the same link. It is keyed on the old
 * task, which makes a double-tapped retry one task too.
 */
async function retry(
  deps: ExtractDeps,
  openid: string,
  taskId: string,
  subscribed: CreateRequest['subscribed'],
): Promise<TaskAnswer> {
  const task = await owned(deps, openid, taskId);
  if (!canRetry(task.status)) throw new AppError('CONFLICT', `retry from ${task.status}`);
  return create(deps, openid, {
    action: 'create',
    shareText: task.share_text,
    requestId: `retry:${task._id}`.slice(0, 64),
    subscribed: subscribed ?? task.subscribed,
  });
}

// ---------------------------------------------------------------------------------------------
// Sharing a result (what a friend may see, and for how long: `shareLinkSchema` in shared/task.ts)

/** A share link's token: 128 random bits, base64url. */
const mintShareToken = (): string => randomBytes(16).toString('base64url');

/** Rounds of read → compare-and-set before a share gives up on a link that keeps changing. */
const SHARE_ATTEMPTS = 3;

/**
 * The owner shares a completed task: the same link while it is usable (a second tap, a second
 * friend: every card sent keeps working), renewed for SHARE_DAYS and holding the text as shared
 * now (their correction, or the result as extracted); a new link once the last was stopped or
 * expired. Two writes at most on the usual path (the read and the compare-and-set).
 */
async function share(
  deps: ExtractDeps,
  openid: string,
  taskId: string,
  text: string | undefined,
): Promise<ShareAnswer> {
  // The correction as the page kept it, cleaned as any text we show (control and bidi marks).
  const corrected =
    text === undefined
      ? null
      : boundResult({ title: '', content: text, cover: '', video_url: '' }).content;
  if (corrected !== null && corrected.trim() === '') {
    throw new AppError('INVALID_INPUT', 'share: empty text', { publicDetail: 'text: empty' });
  }
  for (let attempt = 0; attempt < SHARE_ATTEMPTS; attempt++) {
    const task = await owned(deps, openid, taskId);
    if (task.status !== TaskStatus.Completed || !task.result) {
      throw new AppError('CONFLICT', `share from ${task.status}`);
    }
    const now = deps.now();
    const seen = task.share_link;
    const keep = shareLinkActive(seen, now);
    const link: ShareLink = {
      token: keep ? seen.token : mintShareToken(),
      // The same text as the result is no correction: the friend reads the original.
      text: corrected !== null && corrected !== task.result.content ? corrected : null,
      created_at: now,
      expires_at: new Date(now.getTime() + SHARE_DAYS * DAY_MS),
      revoked_at: null,
    };
    if (await deps.store.setShareLink(taskId, openid, seen?.token ?? null, link)) {
      deps.log.info('result_shared', { task: taskId, renewed: keep, edited: link.text !== null });
      return {
        ok: true,
        share: {
          token: link.token,
          path: sharedPath(taskId, link.token),
          expiresAt: link.expires_at.toISOString(),
        },
      };
    }
    // Changed meanwhile (another tap, a stop): read again.
  }
  throw new AppError('CONFLICT', 'share: the link kept changing');
}

/** The owner stops sharing: the link answers SHARE_REVOKED from now on. */
async function unshare(deps: ExtractDeps, openid: string, taskId: string): Promise<TaskAnswer> {
  const task = await owned(deps, openid, taskId);
  const link = task.share_link;
  if (link && link.revoked_at === null) {
    await deps.store.stopShareLink(taskId, openid, link.token, deps.now());
    deps.log.info('result_unshared', { task: taskId });
  }
  return { ok: true, task: toTaskView((await deps.store.getOwned(taskId, openid)) ?? task) };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A friend reads a shared result with its link: the snapshot, nothing else of the task. A link
 * that names no task, or not with this token, is SHARE_GONE (whether the task exists is not said);
 * a stopped one SHARE_REVOKED; an old one SHARE_EXPIRED.
 */
async function shared(deps: ExtractDeps, taskId: string, token: string): Promise<SharedAnswer> {
  const task = await deps.store.get(taskId);
  const link = task?.share_link ?? null;
  if (!task || !link || !task.result || !sameToken(link.token, token)) {
    throw new AppError('SHARE_GONE');
  }
  if (link.revoked_at !== null) throw new AppError('SHARE_REVOKED');
  if (link.expires_at.getTime() <= deps.now().getTime()) throw new AppError('SHARE_EXPIRED');
  const result = task.result;
  return {
    ok: true,
    shared: {
      taskId,
      platform: task.platform,
      title: result.title.trim() || fallbackTitle(task.platform, task.caption),
      cover: result.cover,
      content: link.text ?? result.content,
      kind: resultKind(result),
      edited: link.text !== null,
      sharedAt: link.created_at.toISOString(),
      expiresAt: link.expires_at.toISOString(),
    },
  };
}

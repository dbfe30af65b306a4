/**
 * An in-memory stand-in for `extractText` and the tasks collection, behind a fake `wx.cloud`, so
 * page tests can drive every state: answer calls, change a task (which pushes watch snapshots),
 * break watches, take the network down.
 */
import { quotaOf, sharedPath, type ExtractAnswer, type ExtractRequest } from '../../shared/api';
import { resultKind } from '../../shared/result';
import { QUEUE_STATE_ID, queuePosition, type QueueProgress } from '../../shared/queue';
import { ERROR_MESSAGES, type ErrorCode } from '../../shared/errors';
import { parseShareText } from '../../shared/share-text';
import { TaskStatus, isTerminal } from '../../shared/status';
import { snippetOf } from '../../shared/snippet';
import { newTask, toTaskSummary, toTaskView, type TaskDoc } from '../../shared/task';
import type { WatchSnapshot } from '../services/types';

const OPENID = 'test-user';
/** The `taskId` of a watch on the queue's state document. */
export const QUEUE_WATCH = '#queue';

interface Watch {
  /** the watched task, or QUEUE_WATCH for the queue's state document */
  taskId: string;
  onChange(s: WatchSnapshot): void;
  onError(e: unknown): void;
  closed: boolean;
}

const err = (code: ErrorCode): ExtractAnswer => ({
  ok: false,
  error: { code, message: ERROR_MESSAGES[code] },
});

export type FakeRequest = ExtractRequest;
type FakeAnswer = ExtractAnswer;

/** A patch that sets a result gets its snippet, as the `completed` transition writes it. */
function withSnippet(doc: TaskDoc, patch: Partial<TaskDoc>): TaskDoc {
  return patch.result && patch.snippet === undefined
    ? { ...doc, snippet: snippetOf(patch.result.content) }
    : doc;
}

export class FakeServer {
  readonly tasks = new Map<string, TaskDoc>();
  /** calls the function handled */
  readonly requests: FakeRequest[] = [];
  /** every call the client made, including those lost while offline */
  readonly attempts: FakeRequest[] = [];
  readonly watches: Watch[] = [];
  /** every call and prompt, in order, for ordering assertions */
  readonly log: string[] = [];
  /** while true, every callFunction rejects like a lost network */
  offline = false;
  /** while true, every new watch fails shortly after it is opened */
  watchDown = false;
  /** when each watch was opened (Date.now()), to check the backoff */
  readonly watchOpenedAt: number[] = [];
  /** tasks a user may have pending or processing at once (MAX_ACTIVE_TASKS_PER_USER) */
  maxActive = 3;
  /** the queue's state document as the dispatcher publishes it (what a page reads of it) */
  queueState: QueueProgress & { _id: string } = {
    _id: QUEUE_STATE_ID,
    started_total: 100,
    rate: 0.5,
    qps: 3,
  };
  /** while set, a create waits in the queue behind this many (its ticket) */
  queueAhead: number | null = null;
  /** whether a queue watch is served the document (the local stack's may not be) */
  queueServed = true;
  /** creates a day (DAILY_QUOTA_PER_USER) and how many were made today */
  dailyQuota = 20;
  usedToday = 0;
  /** answers the next call of an action instead of the fake logic */
  readonly overrides = new Map<string, (req: FakeRequest) => FakeAnswer>();
  /** share links by task: as `share` stores them on the task */
  readonly shares = new Map<
    string,
    { token: string; text: string | null; sharedAt: Date; expiresAt: Date; revoked: boolean }
  >();
  private seq = 0;
  private snapshotSeq = 0;

  /** Adds a task as the function would have stored it; `patch` sets any field. */
  seed(patch: Partial<TaskDoc> = {}, shareText = 'https://v.douyin.com/seed123/'): TaskDoc {
    const now = new Date();
    const id = patch._id ?? `task-${++this.seq}`;
    const doc: TaskDoc = {
      ...newTask({
        taskId: id,
        openid: OPENID,
        platform: patch.platform ?? 'douyin',
        url: 'https://v.douyin.com/seed123/',
        shareText,
        requestId: null,
        callbackTokenHash: 'hash',
        subscribed: { success: false, failure: false },
        now,
        queueMaxWaitS: 300,
        dueAt: now,
        queue: null,
      }),
      ...patch,
    };
    const stored = withSnippet(doc, patch);
    this.tasks.set(id, stored);
    return stored;
  }

  /** Changes a stored task and pushes the change to its watches. */
  update(id: string, patch: Partial<TaskDoc>): TaskDoc {
    const prev = this.tasks.get(id);
    if (!prev) throw new Error(`no task ${id}`);
    const doc = withSnippet({ ...prev, ...patch, updated_at: new Date() }, patch);
    this.tasks.set(id, doc);
    for (const w of this.watches) {
      if (!w.closed && w.taskId === id) {
        w.onChange({
          id: ++this.snapshotSeq,
          docChanges: [
            { id: this.snapshotSeq, dataType: 'update', queueType: 'update', docId: id, doc },
          ],
          docs: [doc],
        });
      }
    }
    return doc;
  }

  /** Deletes a stored task and sends its watches a remove change, as the database does. */
  removeDoc(id: string): void {
    const doc = this.tasks.get(id);
    if (!doc) return;
    this.tasks.delete(id);
    for (const w of this.watches) {
      if (!w.closed && w.taskId === id) {
        w.onChange({
          id: ++this.snapshotSeq,
          docChanges: [
            { id: this.snapshotSeq, dataType: 'remove', queueType: 'dequeue', docId: id, doc },
          ],
          docs: [],
        });
      }
    }
  }

  /** The dispatcher publishes: the state changes and its watches see it. */
  publishQueue(patch: Partial<QueueProgress>): void {
    this.queueState = { ...this.queueState, ...patch };
    if (!this.queueServed) return;
    const doc = this.queueState;
    for (const w of this.openWatches(QUEUE_WATCH)) {
      w.onChange({
        id: ++this.snapshotSeq,
        docChanges: [
          { id: this.snapshotSeq, dataType: 'update', queueType: 'update', docId: doc._id, doc },
        ],
        docs: [doc],
      });
    }
  }

  /** Where a waiting task stands now, as `get` and `create` answer it. */
  private queueOf(doc: TaskDoc) {
    return doc.status === TaskStatus.Pending && doc.queue
      ? { queue: queuePosition(doc.queue, this.queueState) }
      : {};
  }

  /** Today's uses as the function answers them. */
  quota() {
    return quotaOf(this.usedToday, this.dailyQuota, new Date());
  }

  openWatches(taskId?: string): Watch[] {
    return this.watches.filter((w) => !w.closed && (taskId === undefined || w.taskId === taskId));
  }

  /** Breaks every open watch, as a dropped connection would. */
  breakWatches(error: unknown = { errCode: -1, errMsg: 'realtime listener disconnected' }): void {
    for (const w of this.openWatches()) {
      w.closed = true;
      w.onError(error);
    }
  }

  calls(action?: FakeRequest['action']): FakeRequest[] {
    return this.requests.filter((r) => action === undefined || r.action === action);
  }

  tried(action?: FakeRequest['action']): FakeRequest[] {
    return this.attempts.filter((r) => action === undefined || r.action === action);
  }

  handle(req: FakeRequest): FakeAnswer {
    this.requests.push(req);
    this.log.push(`call:${req.action}`);
    const override = this.overrides.get(req.action);
    if (override) {
      this.overrides.delete(req.action);
      return override(req);
    }
    switch (req.action) {
      case 'create': {
        const parsed = parseShareText(req.shareText);
        if (!parsed.ok) return err(parsed.code);
        const id = req.requestId ? `req-${req.requestId}` : `task-${++this.seq}`;
        const existing = this.tasks.get(id);
        if (existing) return { ok: true, task: toTaskView(existing) };
        const active = [...this.tasks.values()].filter(
          (t) => t._openid === OPENID && !isTerminal(t.status),
        );
        if (active.length >= this.maxActive) return err('RATE_LIMITED');
        if (this.usedToday >= this.dailyQuota) return err('QUOTA_EXCEEDED');
        this.usedToday++;
        const doc = this.seed(
          {
            _id: id,
            platform: parsed.platform,
            input_url: parsed.url,
            request_id: req.requestId ?? null,
            subscribed: {
              success: req.subscribed?.success ?? false,
              failure: req.subscribed?.failure ?? false,
            },
            queue:
              this.queueAhead === null
                ? null
                : { ahead: this.queueAhead, started_seen: this.queueState.started_total },
          },
          req.shareText,
        );
        return { ok: true, task: toTaskView(doc), ...this.queueOf(doc), quota: this.quota() };
      }
      case 'get': {
        const doc = this.tasks.get(req.taskId);
        return doc ? { ok: true, task: toTaskView(doc), ...this.queueOf(doc) } : err('NOT_FOUND');
      }
      case 'list': {
        const all = [...this.tasks.values()].sort(
          (a, b) => b.created_at.getTime() - a.created_at.getTime() || (a._id < b._id ? 1 : -1),
        );
        const start = req.cursor ? Number(req.cursor.slice(1)) : 0;
        const limit = req.limit ?? 20;
        const page = all.slice(start, start + limit);
        const next = start + limit < all.length ? `c${start + limit}` : null;
        return {
          ok: true,
          tasks: page.map(toTaskSummary),
          nextCursor: next,
          ...(req.cursor ? {} : { quota: this.quota() }),
        };
      }
      case 'cancel': {
        const doc = this.tasks.get(req.taskId);
        if (!doc) return err('NOT_FOUND');
        if (isTerminal(doc.status)) return err('CONFLICT');
        const done = this.update(req.taskId, {
          status: TaskStatus.Cancelled,
          error_code: 'CANCELLED',
          error_message: '已取消',
          completed_at: new Date(),
        });
        return { ok: true, task: toTaskView(done) };
      }
      case 'remove': {
        const doc = this.tasks.get(req.taskId);
        if (!doc || doc._openid !== OPENID) return err('NOT_FOUND');
        this.removeDoc(req.taskId);
        return { ok: true, removed: 1 };
      }
      case 'clear': {
        let removed = 0;
        let kept = 0;
        for (const doc of [...this.tasks.values()]) {
          if (doc._openid !== OPENID) continue;
          if (isTerminal(doc.status)) {
            this.removeDoc(doc._id);
            removed++;
          } else kept++;
        }
        return { ok: true, removed, kept };
      }
      case 'share': {
        const doc = this.tasks.get(req.taskId);
        if (!doc) return err('NOT_FOUND');
        if (doc.status !== TaskStatus.Completed || !doc.result) return err('CONFLICT');
        const now = new Date();
        const old = this.shares.get(req.taskId);
        const keep = old && !old.revoked && old.expiresAt > now;
        const link = {
          token: keep ? old.token : `tok${String(++this.seq).padStart(19, '0')}`,
          text: req.text !== undefined && req.text !== doc.result.content ? req.text : null,
          sharedAt: now,
          expiresAt: new Date(now.getTime() + 7 * 86_400_000),
          revoked: false,
        };
        this.shares.set(req.taskId, link);
        return {
          ok: true,
          share: {
            token: link.token,
            path: sharedPath(req.taskId, link.token),
            expiresAt: link.expiresAt.toISOString(),
          },
        };
      }
      case 'unshare': {
        const doc = this.tasks.get(req.taskId);
        if (!doc) return err('NOT_FOUND');
        const link = this.shares.get(req.taskId);
        if (link) link.revoked = true;
        return { ok: true, task: { ...toTaskView(doc), shared_until: null } };
      }
      case 'shared': {
        const doc = this.tasks.get(req.taskId);
        const link = this.shares.get(req.taskId);
        if (!doc?.result || !link || link.token !== req.token) return err('SHARE_GONE');
        if (link.revoked) return err('SHARE_REVOKED');
        if (link.expiresAt <= new Date()) return err('SHARE_EXPIRED');
        return {
          ok: true,
          shared: {
            taskId: doc._id,
            platform: doc.platform,
            title: doc.result.title,
            cover: doc.result.cover,
            content: link.text ?? doc.result.content,
            kind: resultKind(doc.result),
            edited: link.text !== null,
            sharedAt: link.sharedAt.toISOString(),
            expiresAt: link.expiresAt.toISOString(),
          },
        };
      }
      case 'retry': {
        const doc = this.tasks.get(req.taskId);
        if (!doc) return err('NOT_FOUND');
        if (!isTerminal(doc.status) || doc.status === TaskStatus.Completed) return err('CONFLICT');
        const id = `retry-${req.taskId}`;
        const existing = this.tasks.get(id);
        if (existing) return { ok: true, task: toTaskView(existing) };
        const fresh = this.seed(
          { _id: id, platform: doc.platform, input_url: doc.input_url },
          doc.share_text,
        );
        return { ok: true, task: toTaskView(fresh) };
      }
    }
  }

  /** `wx.cloud` as the pages use it. */
  cloud() {
    return {
      init: jest.fn(),
      callFunction: jest.fn(async (param: { name: string; data?: unknown }) => {
        // Like the real call: the answer arrives later, never inside the tap.
        await new Promise((r) => setTimeout(r, 1));
        this.attempts.push(param.data as FakeRequest);
        if (this.offline) {
          this.log.push('call:offline');
          throw { errMsg: 'cloud.callFunction:fail network unreachable', errCode: -1 };
        }
        return {
          errMsg: 'cloud.callFunction:ok',
          result: this.handle(param.data as FakeRequest),
        };
      }),
      database: () => ({
        collection: (name: string) => ({
          where: (cond: { _id: string; _openid?: string }) => ({
            watch: (h: { onChange(s: WatchSnapshot): void; onError(e: unknown): void }) => {
              const onQueue = name === 'queue' && cond._id === QUEUE_STATE_ID;
              if (!onQueue && (name !== 'tasks' || cond._openid !== '{openid}')) {
                throw new Error('watch must be on tasks with _openid {openid}, or on queue/coze');
              }
              const w: Watch = {
                taskId: onQueue ? QUEUE_WATCH : cond._id,
                onChange: h.onChange,
                onError: h.onError,
                closed: false,
              };
              this.watches.push(w);
              this.log.push('watch');
              this.watchOpenedAt.push(Date.now());
              // The init snapshot (or the failure) arrives asynchronously, as from the service.
              setTimeout(() => {
                if (w.closed) return;
                if (this.watchDown) {
                  w.closed = true;
                  w.onError({ errCode: -1, errMsg: 'realtime listener init failed' });
                  return;
                }
                if (onQueue) {
                  // The init snapshot: the document, or none where it is not served.
                  const served = this.queueServed ? [this.queueState] : [];
                  w.onChange({
                    id: ++this.snapshotSeq,
                    type: 'init',
                    docChanges: [],
                    docs: served,
                  });
                  return;
                }
                const doc = this.tasks.get(cond._id);
                w.onChange({
                  id: ++this.snapshotSeq,
                  type: 'init',
                  docChanges: doc
                    ? [{ id: 0, dataType: 'init', queueType: 'init', docId: doc._id, doc }]
                    : [],
                  docs: doc ? [doc] : [],
                });
              }, 5);
              return {
                close: jest.fn(async () => {
                  w.closed = true;
                }),
              };
            },
          }),
        }),
      }),
    };
  }
}

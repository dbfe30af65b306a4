/**
 * The database adapter: tasks, callback events and the quota ledger over wx-server-sdk. Every
 * status change goes through `applyTransition`, a compare-and-set whose condition comes from the
 * domain's plan; `stats.updated` tells whether this writer won.
 */
import {
  ACTIVE_STATUSES,
  TERMINAL_STATUSES,
  TaskStatus,
  type TransitionPlan,
} from '../../shared/status';
import {
  SUMMARY_FIELDS,
  TASKS_COLLECTION,
  taskDocSchema,
  taskSummaryDocSchema,
  type NoticeState,
  type TaskDoc,
  type TaskSummaryDoc,
} from '../../shared/task';
import type { Command, Database } from './cloud';

export const WEBHOOK_EVENTS_COLLECTION = 'webhook_events';
export const QUOTA_COLLECTION = 'quota';
export const COLLECTIONS = [TASKS_COLLECTION, WEBHOOK_EVENTS_COLLECTION, QUOTA_COLLECTION] as const;

type Query = Record<string, unknown>;
type Fields = Record<string, unknown>;

interface UpdateResult {
  stats?: { updated?: number };
}
interface GetResult {
  data?: unknown;
}

/** A taken `_id` on add. The cloud reports it as a duplicate-key failure. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { errMsg?: unknown; message?: unknown; errCode?: unknown };
  const text = `${String(e?.errMsg ?? '')} ${String(e?.message ?? '')}`;
  return /duplicate|E11000|already exists|-502001/i.test(text);
}

function parseTask(raw: unknown): TaskDoc | null {
  if (!raw) return null;
  const parsed = taskDocSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `stored task does not match the schema: ${parsed.error.issues[0]?.path.join('.')}`,
    );
  }
  return parsed.data;
}

export class TaskStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get tasks() {
    return this.db.collection(TASKS_COLLECTION);
  }

  /** Object values replace the whole field (the SDK would otherwise merge them path by path). */
  private data(fields: Fields): Fields {
    const out: Fields = {};
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      out[k] = v !== null && typeof v === 'object' && !(v instanceof Date) ? this._.set(v) : v;
    }
    return out;
  }

  async insert(doc: TaskDoc): Promise<'inserted' | 'exists'> {
    try {
      await this.tasks.add({ data: doc });
      return 'inserted';
    } catch (err) {
      if (isDuplicateKey(err)) return 'exists';
      throw err;
    }
  }

  async get(id: string): Promise<TaskDoc | null> {
    const res = (await this.tasks.doc(id).get()) as GetResult;
    return parseTask(res.data);
  }

  async getOwned(id: string, openid: string): Promise<TaskDoc | null> {
    const task = await this.get(id);
    return task && task._openid === openid ? task : null;
  }

  async remove(id: string): Promise<void> {
    await this.tasks.doc(id).remove();
  }

  private async updateWhere(where: Query, fields: Fields): Promise<boolean> {
    const res = (await this.tasks.where(where).update({ data: this.data(fields) })) as UpdateResult;
    return (res.stats?.updated ?? 0) > 0;
  }

  /** The compare-and-set every status change is written as. True when this writer won. */
  applyTransition(id: string, plan: TransitionPlan, extra: Fields = {}): Promise<boolean> {
    const where: Query = { _id: id, status: this._.in([...plan.allowedFrom]) };
    if (plan.guard.progressBelow !== undefined)
      where.progress = this._.lt(plan.guard.progressBelow);
    if (plan.guard.retryCount !== undefined) where.retry_count = plan.guard.retryCount;
    return this.updateWhere(where, { ...plan.set, ...extra });
  }

  /** Bookkeeping that never changes the status, still only while the task is in `statuses`. */
  touch(id: string, statuses: readonly TaskStatus[], fields: Fields): Promise<boolean> {
    return this.updateWhere({ _id: id, status: this._.in([...statuses]) }, fields);
  }

  /** Claims the task's one notice: from `none`, or from a `claimed` whose sender died. */
  async claimNotice(id: string, now: Date, staleBefore: Date): Promise<boolean> {
    const set = {
      notification_state: 'claimed' satisfies NoticeState,
      notification_claimed_at: now,
      updated_at: now,
    };
    if (await this.updateWhere({ _id: id, notification_state: 'none' }, set)) return true;
    return this.updateWhere(
      { _id: id, notification_state: 'claimed', notification_claimed_at: this._.lt(staleBefore) },
      set,
    );
  }

  /** Ends a claim: sent, failed for good, or back to `none` for the sweeper to try again. */
  finishNotice(id: string, claimedAt: Date, fields: Fields): Promise<boolean> {
    return this.updateWhere(
      { _id: id, notification_state: 'claimed', notification_claimed_at: claimedAt },
      fields,
    );
  }

  skipNotice(id: string, now: Date): Promise<boolean> {
    return this.updateWhere(
      { _id: id, notification_state: 'none' },
      { notification_state: 'skipped' satisfies NoticeState, updated_at: now },
    );
  }

  async countActive(openid: string): Promise<number> {
    const res = (await this.tasks
      .where({ _openid: openid, status: this._.in([...ACTIVE_STATUSES]) })
      .count()) as { total?: number };
    return res.total ?? 0;
  }

  private async query(where: Query, order: [string, 'asc' | 'desc'][], limit: number) {
    let q = this.tasks.where(where);
    for (const [field, dir] of order) q = q.orderBy(field, dir);
    const res = (await q.limit(limit).get()) as { data?: unknown[] };
    return (res.data ?? []).map((raw) => parseTask(raw)).filter((t): t is TaskDoc => t !== null);
  }

  /**
   * One page of the owner's history, newest first, strictly after the cursor (created_at, _id):
   * summaries only. The projection keeps the transcripts in the database.
   */
  async listSummaries(
    openid: string,
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<TaskSummaryDoc[]> {
    const where: Query = after
      ? (this._.and([
          { _openid: openid },
          this._.or([
            { created_at: this._.lt(after.createdAt) },
            { created_at: after.createdAt, _id: this._.lt(after.id) },
          ]),
        ]) as unknown as Query)
      : { _openid: openid };
    const docs = await this.summaryDocs(where, limit);
    return docs.map((doc) => {
      const parsed = taskSummaryDocSchema.safeParse(doc);
      if (!parsed.success) {
        throw new Error(
          `stored task does not match the schema: ${parsed.error.issues[0]?.path.join('.')}`,
        );
      }
      return parsed.data;
    });
  }

  /** The projected documents as the database answers them (no transcript ever leaves it). */
  async summaryDocs(where: Query, limit: number): Promise<unknown[]> {
    const projection = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, true]));
    const res = (await this.tasks
      .where(where)
      .field(projection)
      .orderBy('created_at', 'desc')
      .orderBy('_id', 'desc')
      .limit(limit)
      .get()) as { data?: unknown[] };
    return res.data ?? [];
  }

  /** Removes the owner's task only while it is still in `status`. True when it was removed. */
  async removeOwned(id: string, openid: string, status: TaskStatus): Promise<boolean> {
    const res = (await this.tasks.where({ _id: id, _openid: openid, status }).remove()) as {
      stats?: { removed?: number };
    };
    return (res.stats?.removed ?? 0) > 0;
  }

  /** The owner's finished tasks: one conditional remove (never a running one). */
  async removeFinishedOwned(openid: string): Promise<number> {
    const res = (await this.tasks
      .where({ _openid: openid, status: this._.in([...TERMINAL_STATUSES]) })
      .remove()) as { stats?: { removed?: number } };
    return res.stats?.removed ?? 0;
  }

  /** Pending tasks whose start is due (first attempt failed, or its writer died). */
  dueDispatches(now: Date, limit: number) {
    return this.query(
      { status: TaskStatus.Pending, next_dispatch_at: this._.lte(now) },
      [['next_dispatch_at', 'asc']],
      limit,
    );
  }

  /** Processing tasks not heard from since `before` and not checked since then: oldest first. */
  dueReconciles(before: Date, limit: number) {
    return this.query(
      { status: TaskStatus.Processing, updated_at: this._.lt(before) },
      [['updated_at', 'asc']],
      limit,
    );
  }

  expired(now: Date, limit: number) {
    return this.query(
      { status: this._.in([...ACTIVE_STATUSES]), expires_at: this._.lte(now) },
      [['expires_at', 'asc']],
      limit,
    );
  }

  /**
   * Finished tasks whose notice is unclaimed, or claimed by a sender that died. Cancelled ones
   * too: a cancel whose instance died before marking its notice skipped is settled here.
   */
  async pendingNotices(staleBefore: Date, limit: number) {
    const finished = [...TERMINAL_STATUSES];
    const unclaimed = await this.query(
      { status: this._.in(finished), notification_state: 'none' },
      [['updated_at', 'asc']],
      limit,
    );
    const stale = await this.query(
      {
        status: this._.in(finished),
        notification_state: 'claimed',
        notification_claimed_at: this._.lt(staleBefore),
      },
      [['notification_claimed_at', 'asc']],
      limit,
    );
    return [...unclaimed, ...stale];
  }

  /** Old finished tasks: one conditional remove (never an active task). */
  async removeFinishedBefore(before: Date): Promise<number> {
    const res = (await this.tasks
      .where({ created_at: this._.lt(before), status: this._.in([...TERMINAL_STATUSES]) })
      .remove()) as { stats?: { removed?: number } };
    return res.stats?.removed ?? 0;
  }
}

export class WebhookEventStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get events() {
    return this.db.collection(WEBHOOK_EVENTS_COLLECTION);
  }

  /** Records a delivery by its `webhook-id`; false when it was seen before. */
  async record(id: string, fields: Fields): Promise<boolean> {
    try {
      await this.events.add({ data: { _id: id, ...fields } });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async removeBefore(before: Date): Promise<number> {
    const res = (await this.events.where({ received_at: this._.lt(before) }).remove()) as {
      stats?: { removed?: number };
    };
    return res.stats?.removed ?? 0;
  }
}

/** The per-user daily ledger: one document per (user, Shanghai day), consumed by compare-and-set. */
export class QuotaStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get quota() {
    return this.db.collection(QUOTA_COLLECTION);
  }

  async consume(openid: string, day: string, limit: number, now: Date): Promise<boolean> {
    const id = `${openid}:${day}`;
    const take = async () => {
      const res = (await this.quota
        .where({ _id: id, count: this._.lt(limit) })
        .update({ data: { count: this._.inc(1), updated_at: now } })) as UpdateResult;
      return (res.stats?.updated ?? 0) > 0;
    };
    // Usually the day's document exists: one compare-and-set. Else create it (once) and retry.
    if (await take()) return true;
    try {
      await this.quota.add({ data: { _id: id, openid, day, count: 0, created_at: now } });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    return take();
  }

  async refund(openid: string, day: string): Promise<void> {
    await this.quota
      .where({ _id: `${openid}:${day}`, count: this._.gt(0) })
      .update({ data: { count: this._.inc(-1) } });
  }

  async removeBefore(day: string): Promise<number> {
    const res = (await this.quota.where({ day: this._.lt(day) }).remove()) as {
      stats?: { removed?: number };
    };
    return res.stats?.removed ?? 0;
  }
}

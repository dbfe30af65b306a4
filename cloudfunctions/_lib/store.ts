/**
 * The database adapter: tasks and the per-user ledger over wx-server-sdk. A status or notice
 * state is written only from a plan the domain made (`applyTransition`, `applyNotice`), as a
 * compare-and-set whose condition comes from that plan; `true` (or the document) tells whether
 * this writer won. Other writes are typed so they cannot carry a status or notice state.
 */
import {
  LEDGERS_COLLECTION,
  LEDGER_IDLE_DAYS,
  ledgerDocSchema,
  ledgerProblems,
  staleDayKeys,
  type LedgerDoc,
  type LedgerEntry,
} from '../../shared/ledger';
import { NoticeState, type NoticePlan } from '../../shared/notice-state';
import {
  ACTIVE_STATUSES,
  REMEMBERED_DELIVERIES,
  TERMINAL_STATUSES,
  TaskStatus,
  type TransitionPlan,
} from '../../shared/status';
import {
  SUMMARY_FIELDS,
  TASKS_COLLECTION,
  taskDocSchema,
  taskSummaryDocSchema,
  type TaskDoc,
  type TaskSummaryDoc,
} from '../../shared/task';
import { DAY_MS } from '../../shared/time';
import { updateAndReturn, type Command, type Database } from './cloud';

export const COLLECTIONS = [TASKS_COLLECTION, LEDGERS_COLLECTION] as const;

type Query = Record<string, unknown>;
type Fields = Record<string, unknown>;

interface UpdateResult {
  stats?: { updated?: number };
}
interface GetResult {
  data?: unknown;
}

/** Bookkeeping a sweeper may write without a transition: never a status or notice field. */
export interface Bookkeeping {
  history_checked_at: Date;
  updated_at: Date;
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

/** Object values replace the whole field (the SDK would otherwise merge them path by path). */
function replaceFields(_: Command, fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' && !(v instanceof Date) ? _.set(v) : v;
  }
  return out;
}

export class TaskStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get tasks() {
    return this.db.collection(TASKS_COLLECTION);
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

  private async updateWhere(where: Query, data: Fields): Promise<boolean> {
    const res = (await this.tasks.where(where).update({ data })) as UpdateResult;
    return (res.stats?.updated ?? 0) > 0;
  }

  private transitionWrite(id: string, plan: TransitionPlan): { where: Query; data: Fields } {
    const _ = this._;
    const g = plan.guard;
    const where: Query = { _id: id, status: _.in([...plan.allowedFrom]) };
    if (g.progressBelow !== undefined) where.progress = _.lt(g.progressBelow);
    if (g.retryCount !== undefined) where.retry_count = g.retryCount;
    if (g.executeIdIn !== undefined) where.coze_execute_id = _.in([...g.executeIdIn]);
    if (g.tokenHash !== undefined) where.callback_token_hash = g.tokenHash;
    if (g.noticeIs !== undefined) where.notification_state = g.noticeIs;
    const data = replaceFields(_, { ...plan.set });
    if (plan.rememberDelivery) {
      data.callback_ids = _.push({ each: [plan.rememberDelivery], slice: -REMEMBERED_DELIVERIES });
    }
    return { where, data };
  }

  /** The compare-and-set every status change is written as. True when this writer won. */
  applyTransition(id: string, plan: TransitionPlan): Promise<boolean> {
    const { where, data } = this.transitionWrite(id, plan);
    return this.updateWhere(where, data);
  }

  /** The same compare-and-set, answering the task as written (one round trip), null when lost. */
  async applyTransitionReturning(id: string, plan: TransitionPlan): Promise<TaskDoc | null> {
    const { where, data } = this.transitionWrite(id, plan);
    return parseTask(await updateAndReturn(this.db, TASKS_COLLECTION, where, data));
  }

  /**
   * A notice change as planned: matches the exact state the plan expects (a claim by its time),
   * and only on a finished task (an active task's notice belongs to its finishing transition).
   */
  applyNotice(id: string, plan: NoticePlan): Promise<boolean> {
    const where: Query = {
      _id: id,
      status: this._.in([...TERMINAL_STATUSES]),
      notification_state: plan.expect.state,
    };
    if (plan.expect.state !== NoticeState.None)
      where.notification_claimed_at = plan.expect.claimedAt;
    return this.updateWhere(where, replaceFields(this._, { ...plan.set }));
  }

  /** Bookkeeping that never changes the status, still only while the task is in `statuses`. */
  touch(id: string, statuses: readonly TaskStatus[], fields: Bookkeeping): Promise<boolean> {
    return this.updateWhere(
      { _id: id, status: this._.in([...statuses]) },
      replaceFields(this._, { ...fields }),
    );
  }

  /**
   * Remembers a delivery that changed nothing (stale), so its redelivery is answered
   * `duplicate` like the redelivery of one that did: bookkeeping only, never a status.
   */
  rememberDelivery(id: string, deliveryId: string): Promise<boolean> {
    return this.updateWhere(
      { _id: id, callback_ids: this._.nin([deliveryId]) },
      { callback_ids: this._.push({ each: [deliveryId], slice: -REMEMBERED_DELIVERIES }) },
    );
  }

  /** The status of each of these tasks that exists (reclaiming ledger slots). */
  async statusesOf(ids: readonly string[]): Promise<Map<string, TaskStatus>> {
    const out = new Map<string, TaskStatus>();
    if (!ids.length) return out;
    const res = (await this.tasks
      .where({ _id: this._.in([...ids]) })
      .field({ _id: true, status: true })
      .limit(ids.length)
      .get()) as { data?: { _id: string; status: TaskStatus }[] };
    for (const d of res.data ?? []) out.set(d._id, d.status);
    return out;
  }

  /** The owner's active tasks, oldest first: what a rebuilt ledger lists as its slots. */
  async activeOf(openid: string, limit: number): Promise<{ id: string; createdAt: Date }[]> {
    const res = (await this.tasks
      .where({ _openid: openid, status: this._.in([...ACTIVE_STATUSES]) })
      .field({ _id: true, created_at: true })
      .orderBy('created_at', 'asc')
      .limit(limit)
      .get()) as { data?: { _id: string; created_at: unknown }[] };
    return (res.data ?? []).map((d) => ({
      id: d._id,
      createdAt: new Date(d.created_at as string | number | Date),
    }));
  }

  /** How many of the owner's tasks were made on this quota day (a rebuilt ledger's floor). */
  async countOfDay(openid: string, day: string): Promise<number> {
    const res = (await this.tasks.where({ _openid: openid, day }).count()) as { total?: number };
    return res.total ?? 0;
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

  /** The owner's finished tasks but `keep`: one conditional remove (never a running one). */
  async removeFinishedOwned(openid: string, keep: readonly string[] = []): Promise<number> {
    const where: Query = { _openid: openid, status: this._.in([...TERMINAL_STATUSES]) };
    if (keep.length) where._id = this._.nin([...keep]);
    const res = (await this.tasks.where(where).remove()) as { stats?: { removed?: number } };
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
   * Finished tasks whose notice waits for a sender: back to `none` after a failed send (or a
   * document from before finishes claimed it), or claimed by a sender that died.
   */
  async pendingNotices(staleBefore: Date, limit: number) {
    const finished = [...TERMINAL_STATUSES];
    const unclaimed = await this.query(
      { status: this._.in(finished), notification_state: NoticeState.None },
      [['updated_at', 'asc']],
      limit,
    );
    const stale = await this.query(
      {
        status: this._.in(finished),
        notification_state: NoticeState.Claimed,
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

/**
 * The per-user ledger (`shared/ledger.ts`): the day's count and the active slots in one document,
 * so admitting a task is one compare-and-set on the usual path, first task of the day included.
 */
export class LedgerStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get ledgers() {
    return this.db.collection(LEDGERS_COLLECTION);
  }

  /**
   * The usual path: one conditional update that takes a slot and counts the task, if the day's
   * count is below the quota, a slot is free (the array has no element at index maxActive-1) and
   * the task holds none yet. False when any of that fails or there is no ledger yet.
   */
  async admit(
    openid: string,
    entry: LedgerEntry,
    day: string,
    limits: { dailyQuota: number; maxActive: number },
    now: Date,
  ): Promise<boolean> {
    const _ = this._;
    const dayKey = `counts.${day}`;
    const where = _.and([
      { _id: openid },
      { [`active.${limits.maxActive - 1}`]: _.exists(false) },
      { 'active.task': _.nin([entry.task]) },
      _.or([{ [dayKey]: _.lt(limits.dailyQuota) }, { [dayKey]: _.exists(false) }]),
    ]);
    const data: Fields = {
      [dayKey]: _.inc(1),
      active: _.push({ each: [entry] }),
      rev: _.inc(1),
      updated_at: now,
    };
    for (const k of staleDayKeys(day)) data[`counts.${k}`] = _.remove();
    const res = (await this.ledgers.where(where).update({ data })) as UpdateResult;
    return (res.stats?.updated ?? 0) > 0;
  }

  /** The user's ledger; `corrupt` with what is wrong when it does not match the schema. */
  async read(
    openid: string,
  ): Promise<
    { kind: 'found'; doc: LedgerDoc } | { kind: 'corrupt'; raw: unknown; problems: string[] } | null
  > {
    const res = (await this.ledgers.doc(openid).get()) as GetResult;
    if (!res.data) return null;
    const problems = ledgerProblems(res.data);
    if (problems) return { kind: 'corrupt', raw: res.data, problems };
    return { kind: 'found', doc: ledgerDocSchema.parse(res.data) };
  }

  /** Writes a rebuilt ledger over a corrupted one (the whole document). */
  async replace(doc: LedgerDoc): Promise<void> {
    const { _id, ...data } = doc;
    await this.ledgers.doc(_id).set({ data });
  }

  /**
   * Frees the slots of tasks that are being removed (their quota unit stays spent). Done before
   * the delete, so a removed task's slot is free at once and its id is never a free pass: a create
   * that meets it again is admitted and charged anew.
   */
  async releaseSlots(openid: string, taskIds: readonly string[], now: Date): Promise<void> {
    if (!taskIds.length) return;
    const _ = this._;
    await this.ledgers.where({ _id: openid, 'active.task': _.in([...taskIds]) }).update({
      data: { active: _.pull({ task: _.in([...taskIds]) }), rev: _.inc(1), updated_at: now },
    });
  }

  /** A user's first ledger, holding this admission. False when another create made it first. */
  async create(openid: string, entry: LedgerEntry, day: string, now: Date): Promise<boolean> {
    try {
      await this.ledgers.add({
        data: { _id: openid, counts: { [day]: 1 }, active: [entry], rev: 1, updated_at: now },
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** The slow path: replaces the slots (ended ones dropped) and counts the task, if `rev` is unchanged. */
  async admitOver(
    seen: LedgerDoc,
    keep: LedgerEntry[],
    entry: LedgerEntry,
    day: string,
    now: Date,
  ): Promise<boolean> {
    const _ = this._;
    const res = (await this.ledgers.where({ _id: seen._id, rev: seen.rev }).update({
      data: {
        [`counts.${day}`]: _.inc(1),
        active: _.set([...keep, entry]),
        rev: _.inc(1),
        updated_at: now,
      },
    })) as UpdateResult;
    return (res.stats?.updated ?? 0) > 0;
  }

  /** Gives back an admission this create made but did not use (the task already existed). */
  async release(openid: string, taskId: string, day: string, now: Date): Promise<void> {
    const _ = this._;
    await this.ledgers.where({ _id: openid, 'active.task': taskId }).update({
      data: {
        [`counts.${day}`]: _.inc(-1),
        active: _.pull({ task: taskId }),
        rev: _.inc(1),
        updated_at: now,
      },
    });
  }

  /** Ledgers idle for LEDGER_IDLE_DAYS: every task they list has ended (tasks time out within a day). */
  async removeIdle(now: Date): Promise<number> {
    const before = new Date(now.getTime() - LEDGER_IDLE_DAYS * DAY_MS);
    const res = (await this.ledgers.where({ updated_at: this._.lt(before) }).remove()) as {
      stats?: { removed?: number };
    };
    return res.stats?.removed ?? 0;
  }
}

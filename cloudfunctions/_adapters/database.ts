/**
 * The database adapter: tasks, the per-user ledger and the queue's state over wx-server-sdk. A
 * status or notice state is written only from a plan the domain made (`applyTransition`,
 * `applyNotice`), as a compare-and-set whose condition is the plan's own (`toQuery` translates the
 * domain's conditions, the one spelling of every guard); the answer tells whether this writer won.
 * Other writes are typed so they cannot carry a status or notice state.
 */
import type { Condition } from '../../shared/condition';
import {
  LEDGERS_COLLECTION,
  LEDGER_IDLE_DAYS,
  admissionConditions,
  ledgerDocSchema,
  ledgerProblems,
  staleDayKeys,
  type AdmissionLimits,
  type LedgerDoc,
  type LedgerEntry,
} from '../../shared/ledger';
import { NoticeState, type NoticePlan } from '../../shared/notice-state';
import {
  QUEUE_COLLECTION,
  QUEUE_STATE_ID,
  emptyQueueState,
  queueStateSchema,
  type QueueState,
  type QueueTicket,
} from '../../shared/queue';
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
  type ShareLink,
  taskDocSchema,
  taskSummaryDocSchema,
  type TaskDoc,
  type TaskSummaryDoc,
} from '../../shared/task';
import { DAY_MS } from '../../shared/time';
import { updateAndReturn, type Command, type Database } from './cloud';

export const COLLECTIONS = [TASKS_COLLECTION, LEDGERS_COLLECTION, QUEUE_COLLECTION] as const;

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
function isDuplicateKey(err: unknown): boolean {
  const e = err as { errMsg?: unknown; message?: unknown; errCode?: unknown };
  const text = `${String(e?.errMsg ?? '')} ${String(e?.message ?? '')}`;
  return /duplicate|E11000|already exists|-502001/i.test(text);
}

/** The domain's conditions as a database query: the one translation of every guard. */
function toQuery(_: Command, conditions: readonly Condition[]): Query {
  const parts = conditions.map((c): Query => {
    if ('anyOf' in c) {
      return _.or(c.anyOf.map((group) => toQuery(_, group))) as unknown as Query;
    }
    if ('is' in c) return { [c.field]: c.is };
    if ('in' in c) return { [c.field]: _.in([...c.in]) };
    if ('notIn' in c) return { [c.field]: _.nin([...c.notIn]) };
    if ('below' in c) return { [c.field]: _.lt(c.below) };
    return { [c.field]: _.exists(c.exists) };
  });
  const fields = conditions.map((c) => ('field' in c ? c.field : null));
  const plain = fields.every((f, i) => f !== null && fields.indexOf(f) === i);
  return plain ? Object.assign({}, ...parts) : (_.and(parts) as unknown as Query);
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

const updated = (res: unknown) => ((res as UpdateResult).stats?.updated ?? 0) > 0;
const removed = (res: unknown) => (res as { stats?: { removed?: number } }).stats?.removed ?? 0;

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

  /** Removes a task whatever its state: the smoke's own, at its end. */
  async remove(id: string): Promise<void> {
    await this.tasks.doc(id).remove();
  }

  private async updateWhere(where: Query, data: Fields): Promise<boolean> {
    return updated(await this.tasks.where(where).update({ data }));
  }

  /**
   * The compare-and-set every status change is written as, answering the task as written (one
   * round trip: `modifyAndReturnDoc`), or null when this writer lost.
   */
  async applyTransition(id: string, plan: TransitionPlan): Promise<TaskDoc | null> {
    const _ = this._;
    const data = replaceFields(_, { ...plan.set });
    if (plan.rememberDelivery) {
      data.callback_ids = _.push({ each: [plan.rememberDelivery], slice: -REMEMBERED_DELIVERIES });
    }
    const where = toQuery(_, [{ field: '_id', is: id }, ...plan.where]);
    return parseTask(await updateAndReturn(this.db, TASKS_COLLECTION, where, data));
  }

  /** A notice change as planned: the plan's conditions, on this task. */
  applyNotice(id: string, plan: NoticePlan): Promise<boolean> {
    const where = toQuery(this._, [{ field: '_id', is: id }, ...plan.where]);
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
   * A place in the queue for a task that waits without one (its create's own start was refused):
   * only while it still waits and has none.
   */
  giveTicket(id: string, ticket: QueueTicket, now: Date): Promise<boolean> {
    return this.updateWhere(
      { _id: id, status: TaskStatus.Pending, queue: null },
      replaceFields(this._, { queue: { ...ticket }, updated_at: now }),
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

  /**
   * Writes the owner's share link of a completed task, only while the link is still the one read
   * (`seenToken`; null: none, or one that is no longer usable was read under that token). A
   * compare-and-set, so two taps at once never leave a friend holding a link that was replaced.
   */
  async setShareLink(
    id: string,
    openid: string,
    seenToken: string | null,
    link: ShareLink,
  ): Promise<boolean> {
    const _ = this._;
    const seen =
      seenToken === null
        ? _.or([{ share_link: _.eq(null) }, { share_link: _.exists(false) }])
        : { 'share_link.token': seenToken };
    const where = _.and([
      { _id: id, _openid: openid, status: TaskStatus.Completed },
      seen,
    ]) as unknown as Query;
    return this.updateWhere(where, { share_link: _.set(link) });
  }

  /** Stops the owner's share link (its token then answers as stopped). True when it was active. */
  stopShareLink(id: string, openid: string, token: string, now: Date): Promise<boolean> {
    return this.updateWhere(
      { _id: id, _openid: openid, 'share_link.token': token, 'share_link.revoked_at': null },
      { 'share_link.revoked_at': now },
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

  private waitingCache: { n: number; at: number } | null = null;

  /**
   * Tasks waiting in the queue as this instance last counted them, counted again when older than
   * `maxAgeMs`, plus the ones it queued since: a burst of creates on one instance counts once a
   * second, not once each (a place shown to a user is `约`, a second's arrivals either way).
   */
  async countWaitingFresh(now: Date, maxAgeMs = 1000): Promise<number> {
    const c = this.waitingCache;
    if (c && now.getTime() - c.at < maxAgeMs && now.getTime() >= c.at) return c.n;
    const n = await this.countWaiting();
    this.waitingCache = { n, at: now.getTime() };
    return n;
  }

  /** One more task this instance put in the queue (counted until the next count). */
  noteWaiting(): void {
    if (this.waitingCache) this.waitingCache.n++;
  }

  /** Tasks waiting in the queue (pending), all or only those placed before `before`. */
  async countWaiting(before?: Date): Promise<number> {
    const where: Query = { status: TaskStatus.Pending };
    if (before) where.next_dispatch_at = this._.lt(before);
    const res = (await this.tasks.where(where).count()) as { total?: number };
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
    const _ = this._;
    const where: Query = after
      ? (_.and([
          { _openid: openid },
          _.or([
            { created_at: _.lt(after.createdAt) },
            { created_at: after.createdAt, _id: _.lt(after.id) },
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
    return removed(await this.tasks.where({ _id: id, _openid: openid, status }).remove()) > 0;
  }

  /** The owner's finished tasks but `keep`: one conditional remove (never a running one). */
  async removeFinishedOwned(openid: string, keep: readonly string[] = []): Promise<number> {
    const where: Query = { _openid: openid, status: this._.in([...TERMINAL_STATUSES]) };
    if (keep.length) where._id = this._.nin([...keep]);
    return removed(await this.tasks.where(where).remove());
  }

  /** The queue's head: waiting tasks whose start is due, oldest place first. */
  waiting(now: Date, limit: number) {
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

  /** Active tasks past their expiry, of one status: a queue wait or a run's timeout. */
  expired(status: TaskStatus, now: Date, limit: number) {
    return this.query({ status, expires_at: this._.lte(now) }, [['expires_at', 'asc']], limit);
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
    return removed(
      await this.tasks
        .where({ created_at: this._.lt(before), status: this._.in([...TERMINAL_STATUSES]) })
        .remove(),
    );
  }
}

/** What a ledger read found. */
export type LedgerRead =
  { kind: 'found'; doc: LedgerDoc } | { kind: 'corrupt'; raw: unknown; problems: string[] } | null;

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
   * The usual path: the domain's admission as one conditional update that takes a slot and counts
   * the task, answering the day's count after it (the ledger comes back from the same write:
   * `updateAndReturn`, so the answer can say the quota at no extra operation). Null when it does
   * not hold or there is no ledger yet.
   */
  async admit(
    openid: string,
    entry: LedgerEntry,
    day: string,
    limits: Pick<AdmissionLimits, 'dailyQuota' | 'maxActive'>,
    now: Date,
  ): Promise<number | null> {
    const _ = this._;
    const data: Fields = {
      [`counts.${day}`]: _.inc(1),
      active: _.push({ each: [entry] }),
      rev: _.inc(1),
      updated_at: now,
    };
    for (const k of staleDayKeys(day)) data[`counts.${k}`] = _.remove();
    const where = toQuery(_, admissionConditions(openid, entry.task, day, limits));
    const doc = (await updateAndReturn(this.db, LEDGERS_COLLECTION, where, data)) as {
      counts?: Record<string, unknown>;
    } | null;
    if (!doc) return null;
    const count = doc.counts?.[day];
    // The write held, so the day counts at least this admission.
    return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 1;
  }

  /** The user's ledger; `corrupt` with what is wrong when it does not match the schema. */
  async read(openid: string): Promise<LedgerRead> {
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
    return updated(
      await this.ledgers.where({ _id: seen._id, rev: seen.rev }).update({
        data: {
          [`counts.${day}`]: _.inc(1),
          active: _.set([...keep, entry]),
          rev: _.inc(1),
          updated_at: now,
        },
      }),
    );
  }

  /**
   * Gives back an admission that was not used: the task already existed, or it waited in the
   * queue past its bound and never ran (its quota unit is returned, its slot freed).
   */
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

  /** Ledgers idle for LEDGER_IDLE_DAYS: every task they list has ended (tasks time out within a day). */
  async removeIdle(now: Date): Promise<number> {
    const before = new Date(now.getTime() - LEDGER_IDLE_DAYS * DAY_MS);
    return removed(await this.ledgers.where({ updated_at: this._.lt(before) }).remove());
  }
}

/**
 * The queue's one state document (`shared/queue.ts`): the dispatcher's lease and what it
 * publishes, the creates' busy mark and start slots. Every write is conditional.
 */
export class QueueStore {
  constructor(
    private readonly db: Database,
    private readonly _: Command,
  ) {}

  private get doc() {
    return this.db.collection(QUEUE_COLLECTION).doc(QUEUE_STATE_ID);
  }

  private where(extra: Query) {
    return this.db.collection(QUEUE_COLLECTION).where({ _id: QUEUE_STATE_ID, ...extra });
  }

  private cached: { state: QueueState; at: number } | null = null;

  /** The state, or an empty one before the first write (a stored one that is unreadable too). */
  async read(now: Date): Promise<QueueState> {
    const res = (await this.doc.get()) as GetResult;
    const parsed = queueStateSchema.safeParse(res.data);
    const state = parsed.success ? parsed.data : emptyQueueState(now);
    this.cached = { state, at: now.getTime() };
    return state;
  }

  /**
   * The state as this instance last read it, read again when older than `maxAgeMs`: a burst of
   * creates on one instance reads it once a second, not once each.
   */
  async readFresh(now: Date, maxAgeMs = 1000): Promise<QueueState> {
    const c = this.cached;
    if (c && now.getTime() - c.at < maxAgeMs && now.getTime() >= c.at) return c.state;
    return this.read(now);
  }

  /** Makes the document once (a later call finds it there). */
  private async ensure(now: Date): Promise<void> {
    try {
      const { _id, ...data } = emptyQueueState(now);
      await this.db.collection(QUEUE_COLLECTION).add({ data: { _id, ...data } });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /**
   * Takes the dispatcher's lease when it is free or already this holder's; `swept` records when
   * this sweep began and the timer's period (creates estimate when the next sweep comes from it).
   */
  async acquireLease(
    holder: string,
    until: Date,
    now: Date,
    swept?: Pick<QueueState, 'swept_at' | 'sweep_every_ms'>,
  ): Promise<boolean> {
    const _ = this._;
    const free = _.or([{ lease_until: _.lt(now) }, { lease_holder: holder }]);
    const take = async () =>
      updated(
        await this.db
          .collection(QUEUE_COLLECTION)
          .where(_.and([{ _id: QUEUE_STATE_ID }, free]) as unknown as Query)
          .update({
            data: { lease_holder: holder, lease_until: until, ...swept, updated_at: now },
          }),
      );
    if (await take()) return true;
    // No document yet (the first dispatch ever): make it, then take it.
    if (((await this.doc.get()) as GetResult).data) return false;
    await this.ensure(now);
    return take();
  }

  /**
   * What the dispatcher measured, written while it holds the lease (which this also extends). The
   * counts are added, never set, so a sweep that finishes its last calls after handing the lease
   * over still counts them (`addCounts`).
   */
  async publish(
    holder: string,
    fields: Pick<QueueState, 'rate' | 'qps' | 'backlog' | 'lease_until'> & {
      started: number;
      refused: number;
    },
    now: Date,
  ): Promise<boolean> {
    const _ = this._;
    const { started, refused, ...set } = fields;
    return updated(
      await this.where({ lease_holder: holder }).update({
        data: {
          ...set,
          started_total: _.inc(started),
          refused_total: _.inc(refused),
          updated_at: now,
        },
      }),
    );
  }

  /** Adds starts and refusals to the totals, lease or not. */
  async addCounts(started: number, refused: number): Promise<void> {
    const _ = this._;
    await this.where({}).update({
      data: { started_total: _.inc(started), refused_total: _.inc(refused) },
    });
  }

  /** Ends the lease; creates may start directly again (while not marked busy). */
  async release(holder: string, now: Date): Promise<void> {
    await this.where({ lease_holder: holder }).update({
      data: { lease_holder: null, lease_until: now, slot_at: now, updated_at: now },
    });
  }

  /**
   * Coze refused a create's start: creates leave starts to the queue's slots for a while, and the
   * refusal is counted.
   */
  async markBusy(until: Date, now: Date): Promise<void> {
    const mark = () =>
      this.where({}).update({
        data: { busy_until: until, refused_total: this._.inc(1), updated_at: now },
      });
    if (updated(await mark())) return;
    await this.ensure(now);
    await mark();
  }

  /**
   * Takes the next start slot for a create (one create per slot, `intervalMs` apart), while no
   * dispatcher holds the lease. False when the slot is taken or a dispatcher runs.
   */
  async takeSlot(now: Date, intervalMs: number): Promise<boolean> {
    const _ = this._;
    return updated(
      await this.where({ slot_at: _.lte(now), lease_until: _.lt(now) }).update({
        data: { slot_at: new Date(now.getTime() + intervalMs) },
      }),
    );
  }
}

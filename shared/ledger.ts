/**
 * The per-user ledger (collection `ledgers`, one document per user): the day's admitted count and
 * the tasks holding an active slot, so one compare-and-set admits a task against both the daily
 * quota and the active limit. Pure rules here; the adapter writes them.
 *
 * Slots are taken by create and given back lazily: a task that ends does not touch the ledger
 * (that would cost the final callback a write); when a create finds the ledger full it looks up
 * which listed tasks really are still active and drops the others in the same compare-and-set.
 */
import * as z from './zod';
import { holds, type Condition } from './condition';
import { ACTIVE_STATUSES, type TaskStatus } from './status';
import { DAY_MS } from './time';

export const LEDGERS_COLLECTION = 'ledgers';

/** An idle ledger (no admission for this long) is removed by the sweeper; every task it lists has ended by then. */
export const LEDGER_IDLE_DAYS = 2;

/** `at`: when the slot was taken, epoch ms (plain numbers survive every SDK encoding path). */
export const ledgerEntrySchema = z.object({ task: z.string(), at: z.number() });
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;

export const ledgerDocSchema = z.object({
  _id: z.string(),
  /** admissions per Asia/Shanghai day, keyed `YYYY-MM-DD` (a new day starts from a missing key) */
  counts: z.record(z.string(), z.number().check(z.int(), z.minimum(0))),
  /** tasks holding an active slot, oldest first (some may have ended: reclaimed lazily) */
  active: z.array(ledgerEntrySchema),
  /** bumped by every write: the compare-and-set of the slow path */
  rev: z.number().check(z.int(), z.minimum(0)),
  updated_at: z.dateLike,
});
export type LedgerDoc = z.infer<typeof ledgerDocSchema>;

export type Admission =
  | { kind: 'admit'; keep: LedgerEntry[] }
  | { kind: 'already' }
  | { kind: 'quota_exceeded' }
  | { kind: 'rate_limited' }
  /** look up which of these listed tasks exist and are still active, then decide again */
  | { kind: 'look_up'; ids: string[] };

export interface AdmissionLimits {
  dailyQuota: number;
  maxActive: number;
  /** a listed task not found is still being created for this long (its create's lifetime) */
  createGraceMs: number;
}

/** The day's count is below the quota (a day with no count yet has none used). */
function quotaLeft(day: string, dailyQuota: number): Condition {
  return {
    anyOf: [
      [{ field: `counts.${day}`, below: dailyQuota }],
      [{ field: `counts.${day}`, exists: false }],
    ],
  };
}

/** A slot is free: the slot array has no element at index maxActive - 1. */
function slotFree(maxActive: number): Condition {
  return { field: `active.${maxActive - 1}`, exists: false };
}

/**
 * The usual admission as one compare-and-set on the user's ledger: the quota and a slot allow it,
 * and the task holds no slot yet. The database adapter writes it; `decideAdmission` reads the same
 * conditions when the ledger had to be read.
 */
export function admissionConditions(
  openid: string,
  taskId: string,
  day: string,
  limits: Pick<AdmissionLimits, 'dailyQuota' | 'maxActive'>,
): Condition[] {
  return [
    { field: '_id', is: openid },
    slotFree(limits.maxActive),
    { field: 'active.task', notIn: [taskId] },
    quotaLeft(day, limits.dailyQuota),
  ];
}

/**
 * Decides an admission from a read ledger. `statuses` (after a `look_up`) gives the status of each
 * listed task that exists.
 *
 * The task already listed is `already` (a double tap or a resend meets its own admission) while
 * its create may still be running, or while its task exists. A listed task that is gone after
 * that was made and then removed, or its create died: its entry is no free pass, so it is dropped
 * and the task is admitted and charged anew. A listed task that does not exist holds its slot
 * only while its create may still insert it.
 */
export function decideAdmission(
  ledger: LedgerDoc,
  taskId: string,
  day: string,
  now: Date,
  limits: AdmissionLimits,
  statuses?: ReadonlyMap<string, TaskStatus>,
): Admission {
  const creating = (e: LedgerEntry) => now.getTime() - e.at < limits.createGraceMs;
  const own = ledger.active.find((e) => e.task === taskId);
  if (own && creating(own)) return { kind: 'already' };
  if (own && !statuses) return { kind: 'look_up', ids: ledger.active.map((e) => e.task) };
  if (own && statuses?.has(taskId)) return { kind: 'already' };
  let keep = ledger.active.filter((e) => e.task !== taskId);
  if (!holds(ledger, [quotaLeft(day, limits.dailyQuota)])) return { kind: 'quota_exceeded' };
  const slotLeft = (active: LedgerEntry[]) => holds({ active }, [slotFree(limits.maxActive)]);
  if (!slotLeft(keep)) {
    if (!statuses) return { kind: 'look_up', ids: ledger.active.map((e) => e.task) };
    keep = keep.filter((e) => {
      const status = statuses.get(e.task);
      return status !== undefined ? ACTIVE_STATUSES.includes(status) : creating(e);
    });
    if (!slotLeft(keep)) return { kind: 'rate_limited' };
  }
  return { kind: 'admit', keep };
}

/**
 * The day keys an admission clears: two and three days back. Yesterday stays: an instance whose
 * clock is a little behind at Shanghai midnight still charges yesterday's count, and deleting it
 * would let that instance admit a whole second quota.
 */
export function staleDayKeys(day: string): string[] {
  const t = Date.parse(`${day}T00:00:00Z`);
  return [2, 3].map((n) => new Date(t - n * DAY_MS).toISOString().slice(0, 10));
}

/** What was wrong with a stored ledger, as paths (for the log), or null when it is sound. */
export function ledgerProblems(raw: unknown): string[] | null {
  const parsed = ledgerDocSchema.safeParse(raw);
  if (parsed.success) return null;
  return parsed.error.issues.slice(0, 10).map((i) => i.path.map(String).join('.') || '(root)');
}

/**
 * A ledger rebuilt from what can be trusted: the day counts that are whole numbers (a count below
 * the user's tasks of that day is raised to it) and, as the active slots, the user's tasks that
 * are active now. A corrupted ledger so costs its user nothing and locks nobody out.
 */
export function rebuildLedger(
  raw: unknown,
  openid: string,
  facts: { day: string; tasksToday: number; active: { id: string; createdAt: Date }[] },
  now: Date,
): LedgerDoc {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const counts: Record<string, number> = {};
  if (typeof r.counts === 'object' && r.counts !== null) {
    for (const [k, v] of Object.entries(r.counts as Record<string, unknown>)) {
      const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : v;
      if (
        /^\d{4}-\d{2}-\d{2}$/.test(k) &&
        typeof n === 'number' &&
        Number.isSafeInteger(n) &&
        n >= 0
      ) {
        counts[k] = n;
      }
    }
  }
  counts[facts.day] = Math.max(counts[facts.day] ?? 0, facts.tasksToday);
  const rev = typeof r.rev === 'number' && Number.isSafeInteger(r.rev) && r.rev >= 0 ? r.rev : 0;
  return {
    _id: openid,
    counts,
    active: facts.active.map((t) => ({ task: t.id, at: t.createdAt.getTime() })),
    rev: rev + 1,
    updated_at: now,
  };
}

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
import { ACTIVE_STATUSES, type TaskStatus } from './status';

export const LEDGERS_COLLECTION = 'ledgers';

/** An idle ledger (no admission for this long) is removed by the sweeper; every task it lists has ended by then. */
export const LEDGER_IDLE_DAYS = 2;

const date = z.pipe(
  z.union([z.date(), z.string(), z.number()]),
  z.transform((v) => new Date(v)),
);

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
  updated_at: date,
});
export type LedgerDoc = z.infer<typeof ledgerDocSchema>;

export type Admission =
  | { kind: 'admit'; keep: LedgerEntry[] }
  | { kind: 'already' }
  | { kind: 'quota_exceeded' }
  | { kind: 'rate_limited' }
  /** the ledger is full of listed tasks: look up which are still active, then decide again */
  | { kind: 'look_up'; ids: string[] };

export interface AdmissionLimits {
  dailyQuota: number;
  maxActive: number;
  /** a listed task not found is still being created for this long (its create's lifetime) */
  createGraceMs: number;
}

/**
 * Decides an admission from a read ledger. `statuses` (after a `look_up`) gives each listed
 * task's status; a listed task that does not exist holds its slot only while its create may
 * still insert it.
 */
export function decideAdmission(
  ledger: LedgerDoc,
  taskId: string,
  day: string,
  now: Date,
  limits: AdmissionLimits,
  statuses?: ReadonlyMap<string, TaskStatus>,
): Admission {
  if (ledger.active.some((e) => e.task === taskId)) return { kind: 'already' };
  if ((ledger.counts[day] ?? 0) >= limits.dailyQuota) return { kind: 'quota_exceeded' };
  let keep = ledger.active;
  if (keep.length >= limits.maxActive) {
    if (!statuses) return { kind: 'look_up', ids: keep.map((e) => e.task) };
    keep = keep.filter((e) => {
      const status = statuses.get(e.task);
      if (status !== undefined) return ACTIVE_STATUSES.includes(status);
      return now.getTime() - e.at < limits.createGraceMs;
    });
    if (keep.length >= limits.maxActive) return { kind: 'rate_limited' };
  }
  return { kind: 'admit', keep };
}

/** The day keys an admission clears (yesterday and the day before), so counts stay small. */
export function staleDayKeys(day: string): string[] {
  const t = Date.parse(`${day}T00:00:00Z`);
  return [1, 2].map((n) => new Date(t - n * 86_400_000).toISOString().slice(0, 10));
}

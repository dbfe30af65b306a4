/**
 * Today's uses as the last answer said them (`create`, `retry` and the first history page carry
 * them): no call of its own. A quota whose day has passed reads as a fresh day.
 */
import { quotaResetsAt, type Quota } from '../domain';

let latest: Quota | null = null;

export function noteQuota(quota: Quota | undefined): void {
  if (quota) latest = quota;
}

/** The count was refused as used up: the day's every use is spent, whatever was noted before. */
export function noteQuotaUsedUp(): void {
  if (latest) latest = { ...latest, used: latest.limit };
}

/** Today's uses now, or null before any answer said them. */
export function knownQuota(now: Date = new Date()): Quota | null {
  if (!latest) return null;
  if (now.getTime() < Date.parse(latest.resetsAt)) return latest;
  // A new Shanghai day: nothing used yet.
  return { used: 0, limit: latest.limit, resetsAt: quotaResetsAt(now).toISOString() };
}

import { holds } from './condition';
import {
  NOTICE_STATES,
  NOTICE_TRANSITIONS,
  NoticeState,
  planNotice,
  type NoticeEvent,
  type NoticeEventType,
  type NoticePlan,
  type NoticeSeen,
} from './notice-state';

const FINAL_NOTICE_STATES: readonly NoticeState[] = [
  NoticeState.Sent,
  NoticeState.Failed,
  NoticeState.Skipped,
];

/** Whether the plan's conditions hold for a notice as seen: the test the database makes. */
const applies = (plan: NoticePlan, seen: NoticeSeen) =>
  holds({ notification_state: seen.state, notification_claimed_at: seen.claimedAt }, plan.where);

const now = new Date('2026-11-28T10:00:00Z');
const fresh = new Date('2026-11-28T09:59:50Z');
const stale = new Date('2026-11-28T09:50:00Z');
const staleBefore = new Date('2026-11-28T09:59:00Z');

/** Every state as a reader may see it; a claim is seen live or stale. */
const SEEN: { label: string; seen: NoticeSeen }[] = [
  { label: 'none', seen: { state: NoticeState.None, claimedAt: null } },
  { label: 'claimed (live)', seen: { state: NoticeState.Claimed, claimedAt: fresh } },
  { label: 'claimed (stale)', seen: { state: NoticeState.Claimed, claimedAt: stale } },
  { label: 'sent', seen: { state: NoticeState.Sent, claimedAt: fresh } },
  { label: 'failed', seen: { state: NoticeState.Failed, claimedAt: fresh } },
  { label: 'skipped', seen: { state: NoticeState.Skipped, claimedAt: null } },
];

/** The event a holder of the claim seen (if any) would write. */
function eventFor(type: NoticeEventType, seen: NoticeSeen): NoticeEvent {
  const claimedAt = seen.claimedAt ?? fresh;
  switch (type) {
    case 'claimed':
      return { type, seen, staleBefore };
    case 'sent':
      return { type, claimedAt, attempts: 1 };
    case 'retry_later':
    case 'gave_up':
      return { type, claimedAt, attempts: 1, error: 'errCode 1' };
    case 'skipped':
      return { type, seen };
  }
}

/** What the table allows, with the rule the table cannot show: a live claim is never taken. */
function allowed(type: NoticeEventType, label: string, seen: NoticeSeen): boolean {
  if (!(NOTICE_TRANSITIONS[type].from as readonly NoticeState[]).includes(seen.state)) return false;
  return !(type === 'claimed' && label === 'claimed (live)');
}

describe('notice state machine', () => {
  it('has the five states, three of them final', () => {
    expect([...NOTICE_STATES].sort()).toEqual(['claimed', 'failed', 'none', 'sent', 'skipped']);
    expect([...FINAL_NOTICE_STATES].sort()).toEqual(['failed', 'sent', 'skipped']);
    for (const row of Object.values(NOTICE_TRANSITIONS)) {
      expect(row.from.some((s) => FINAL_NOTICE_STATES.includes(s))).toBe(false);
    }
  });

  describe.each(SEEN)('seen $label', ({ label, seen }) => {
    it.each(Object.keys(NOTICE_TRANSITIONS) as NoticeEventType[])('%s', (type) => {
      const plan = planNotice(eventFor(type, seen), now);
      const ok = plan !== null && applies(plan, seen);
      expect(ok).toBe(allowed(type, label, seen));
      if (!plan || !ok) return;
      expect(plan.set.notification_state).toBe(NOTICE_TRANSITIONS[type].to);
      expect(plan.set.updated_at).toBe(now);
    });
  });

  it('a claim is matched on its exact time: another sender’s claim is not finished by mine', () => {
    const mine = planNotice({ type: 'sent', claimedAt: fresh, attempts: 1 }, now)!;
    expect(applies(mine, { state: NoticeState.Claimed, claimedAt: fresh })).toBe(true);
    expect(applies(mine, { state: NoticeState.Claimed, claimedAt: stale })).toBe(false);
    expect(mine.set).toMatchObject({ notification_state: 'sent', notification_attempts: 1 });
  });

  it('taking over a stale claim writes a new claim time', () => {
    const seen = { state: NoticeState.Claimed, claimedAt: stale };
    const plan = planNotice({ type: 'claimed', seen, staleBefore }, now)!;
    expect(applies(plan, seen)).toBe(true);
    expect(applies(plan, { state: NoticeState.Claimed, claimedAt: fresh })).toBe(false);
    expect(plan.set).toMatchObject({ notification_state: 'claimed', notification_claimed_at: now });
  });

  it('a failed send goes back to none for a later attempt, or to failed for good', () => {
    const later = planNotice(
      { type: 'retry_later', claimedAt: fresh, attempts: 1, error: 'e' },
      now,
    )!;
    const final = planNotice({ type: 'gave_up', claimedAt: fresh, attempts: 3, error: 'e' }, now)!;
    expect(later.set).toMatchObject({ notification_state: 'none', notification_error: 'e' });
    expect(final.set).toMatchObject({ notification_state: 'failed', notification_attempts: 3 });
  });
});

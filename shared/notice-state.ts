/**
 * The notice state machine: where a task's one subscription notice stands. Like the status table,
 * this is the only place that spells a notice state; a writer asks `planNotice` what an event may
 * change and writes it as one compare-and-set on the read state.
 *
 *   none ──claimed──▶ claimed ──sent──▶ sent
 *     │                  │ ├─retry_later──▶ none (the sweeper tries again)
 *     │                  │ ├─gave_up──▶ failed
 *     └────skipped───────┴─┴─skipped──▶ skipped (nothing to send)
 *   claimed ──claimed──▶ claimed: a claim older than NOTICE_CLAIM_STALE_S is taken over (its
 *   sender died); a live claim is never taken.
 *
 * The finishing task transitions claim the notice (or skip it, for a cancel) inside their own
 * compare-and-set: the `notice` column of `TRANSITIONS` in status.ts names which row they use.
 */
import type { Condition } from './condition';

export const NoticeState = {
  None: 'none',
  Claimed: 'claimed',
  Sent: 'sent',
  Failed: 'failed',
  Skipped: 'skipped',
} as const;
export type NoticeState = (typeof NoticeState)[keyof typeof NoticeState];
export const NOTICE_STATES: readonly NoticeState[] = Object.values(NoticeState);

/** What a reader saw: the state and, for a claim, when it was made (the claim's identity). */
export interface NoticeSeen {
  state: NoticeState;
  claimedAt: Date | null;
}

export type NoticeEvent =
  /** A sender takes the notice: from `none`, or over a stale claim. */
  | { type: 'claimed'; seen: NoticeSeen; staleBefore: Date }
  | { type: 'sent'; claimedAt: Date; attempts: number }
  /** A send failed in a way a later attempt may fix. */
  | { type: 'retry_later'; claimedAt: Date; attempts: number; error: string }
  /** A send failed for good (WeChat refused, or attempts ran out). */
  | { type: 'gave_up'; claimedAt: Date; attempts: number; error: string }
  /** Nothing to send (cancelled, not subscribed, no template): from `none` or from own claim. */
  | { type: 'skipped'; seen: NoticeSeen };
export type NoticeEventType = NoticeEvent['type'];

export const NOTICE_TRANSITIONS = {
  claimed: { from: [NoticeState.None, NoticeState.Claimed], to: NoticeState.Claimed },
  sent: { from: [NoticeState.Claimed], to: NoticeState.Sent },
  retry_later: { from: [NoticeState.Claimed], to: NoticeState.None },
  gave_up: { from: [NoticeState.Claimed], to: NoticeState.Failed },
  skipped: { from: [NoticeState.None, NoticeState.Claimed], to: NoticeState.Skipped },
} as const satisfies Record<NoticeEventType, { from: readonly NoticeState[]; to: NoticeState }>;

/** The notice fields a plan may write. */
export interface NoticePatch {
  notification_state: NoticeState;
  notification_claimed_at?: Date | null;
  notification_error?: string | null;
  notification_attempts?: number;
  updated_at: Date;
}

declare const noticePlanned: unique symbol;

/**
 * A planned notice change: the conditions it must find (the exact state, and a claim by its time)
 * and what it writes. Only `planNotice` makes one, so no writer can set a notice state around the
 * table.
 */
export interface NoticePlan {
  readonly [noticePlanned]: true;
  readonly event: NoticeEventType;
  readonly where: readonly Condition[];
  readonly set: NoticePatch;
}

/** The state a plan must find, as conditions: the state, and for a claim its claim time. */
function expecting(seen: NoticeSeen): Condition[] {
  return seen.state === NoticeState.None
    ? [{ field: 'notification_state', is: seen.state }]
    : [
        { field: 'notification_state', is: seen.state },
        { field: 'notification_claimed_at', is: seen.claimedAt },
      ];
}

function seenAllowed(type: NoticeEventType, seen: NoticeSeen): boolean {
  return (NOTICE_TRANSITIONS[type].from as readonly NoticeState[]).includes(seen.state);
}

/**
 * Turns a notice event into the compare-and-set to write, or null when the table does not allow
 * it from what was seen (a live claim, a final state). Pure: `now` is passed in.
 */
export function planNotice(event: NoticeEvent, now: Date): NoticePlan | null {
  const to = NOTICE_TRANSITIONS[event.type].to;
  const make = (expect: NoticeSeen, set: Omit<NoticePatch, 'notification_state' | 'updated_at'>) =>
    ({
      event: event.type,
      where: expecting(expect),
      set: { notification_state: to, ...set, updated_at: now },
    }) as unknown as NoticePlan;
  switch (event.type) {
    case 'claimed': {
      const { seen } = event;
      if (!seenAllowed('claimed', seen)) return null;
      // A live claim is never taken over; a stale one is, matched on its exact claim time.
      if (
        seen.state === NoticeState.Claimed &&
        !(seen.claimedAt && seen.claimedAt.getTime() < event.staleBefore.getTime())
      ) {
        return null;
      }
      return make(
        { state: seen.state, claimedAt: seen.state === NoticeState.None ? null : seen.claimedAt },
        { notification_claimed_at: now },
      );
    }
    case 'sent':
      return make(
        { state: NoticeState.Claimed, claimedAt: event.claimedAt },
        { notification_error: null, notification_attempts: event.attempts },
      );
    case 'retry_later':
    case 'gave_up':
      return make(
        { state: NoticeState.Claimed, claimedAt: event.claimedAt },
        { notification_error: event.error, notification_attempts: event.attempts },
      );
    case 'skipped': {
      if (!seenAllowed('skipped', event.seen)) return null;
      const claimedAt = event.seen.state === NoticeState.None ? null : event.seen.claimedAt;
      return make({ state: event.seen.state, claimedAt }, {});
    }
  }
}

import {
  decideAdmission,
  ledgerProblems,
  rebuildLedger,
  staleDayKeys,
  type LedgerDoc,
} from './ledger';
import { TaskStatus } from './status';

const NOW = new Date('2026-11-28T02:00:00Z');
const DAY = '2026-11-28';
const LIMITS = { dailyQuota: 5, maxActive: 2, createGraceMs: 10_000 };

function ledger(active: [string, number][], count = 1): LedgerDoc {
  return {
    _id: 'o_user',
    counts: { [DAY]: count },
    active: active.map(([task, agoMs]) => ({ task, at: NOW.getTime() - agoMs })),
    rev: 3,
    updated_at: NOW,
  };
}

describe('decideAdmission', () => {
  it('admits a new task while the quota and a slot allow', () => {
    expect(decideAdmission(ledger([['a', 60_000]]), 't', DAY, NOW, LIMITS)).toEqual({
      kind: 'admit',
      keep: ledger([['a', 60_000]]).active,
    });
  });

  it('meets its own admission while its create may still run', () => {
    expect(decideAdmission(ledger([['t', 2_000]]), 't', DAY, NOW, LIMITS)).toEqual({
      kind: 'already',
    });
  });

  it('an older listing is "already" only while its task exists', () => {
    const seen = ledger([['t', 60_000]]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS)).toEqual({ kind: 'look_up', ids: ['t'] });
    const exists = new Map([['t', TaskStatus.Completed]]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS, exists)).toEqual({ kind: 'already' });
  });

  it('a listed task that was removed is no free pass: admitted and charged anew', () => {
    const seen = ledger([
      ['t', 60_000],
      ['b', 60_000],
    ]);
    const statuses = new Map([['b', TaskStatus.Processing]]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS, statuses)).toEqual({
      kind: 'admit',
      keep: [seen.active[1]],
    });
    // And the quota still decides.
    const spent = { ...seen, counts: { [DAY]: LIMITS.dailyQuota } };
    expect(decideAdmission(spent, 't', DAY, NOW, LIMITS, statuses)).toEqual({
      kind: 'quota_exceeded',
    });
  });

  it('a full ledger is looked up, and ended or vanished tasks give their slots back', () => {
    const seen = ledger([
      ['a', 60_000],
      ['b', 60_000],
    ]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS)).toEqual({
      kind: 'look_up',
      ids: ['a', 'b'],
    });
    const statuses = new Map([['a', TaskStatus.Processing]]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS, statuses)).toEqual({
      kind: 'admit',
      keep: [seen.active[0]],
    });
    const both = new Map([
      ['a', TaskStatus.Processing],
      ['b', TaskStatus.Pending],
    ]);
    expect(decideAdmission(seen, 't', DAY, NOW, LIMITS, both)).toEqual({ kind: 'rate_limited' });
  });
});

describe('staleDayKeys', () => {
  it('keeps yesterday (an instance a little behind at midnight still charges it)', () => {
    expect(staleDayKeys('2026-12-01')).toEqual(['2026-11-29', '2026-11-28']);
  });
});

describe('a corrupted ledger', () => {
  it.each([
    ['a non-array active', { active: { 0: 'x' } }, 'active'],
    ['a string count', { counts: { [DAY]: '3' } }, `counts.${DAY}`],
    ['a string slot time', { active: [{ task: 'a', at: 'yesterday' }] }, 'active.0.at'],
    ['an invalid date', { updated_at: 'not a date' }, 'updated_at'],
  ])('%s is reported by path', (_name, patch, path) => {
    const raw = { ...ledger([['a', 1000]]), ...patch };
    expect(ledgerProblems(raw)).toContain(path);
  });

  it('is rebuilt from what can be trusted and the user’s tasks', () => {
    const raw = {
      _id: 'o_user',
      counts: { [DAY]: '3', '2026-11-27': 4, junk: 5, '2026-11-26': -1 },
      active: 'broken',
      rev: 'x',
    };
    const rebuilt = rebuildLedger(
      raw,
      'o_user',
      { day: DAY, tasksToday: 2, active: [{ id: 'a', createdAt: new Date(1000) }] },
      NOW,
    );
    expect(rebuilt).toEqual({
      _id: 'o_user',
      counts: { [DAY]: 3, '2026-11-27': 4 },
      active: [{ task: 'a', at: 1000 }],
      rev: 1,
      updated_at: NOW,
    });
    expect(ledgerProblems(rebuilt)).toBeNull();
    // A count below the day's tasks is raised to it: a corruption never refunds quota.
    const low = rebuildLedger(
      { counts: { [DAY]: 0 } },
      'o_user',
      { day: DAY, tasksToday: 4, active: [] },
      NOW,
    );
    expect(low.counts[DAY]).toBe(4);
  });
});

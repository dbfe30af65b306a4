import {
  CURSOR_EARLIEST,
  decodeCursor,
  describeRequestIssues,
  encodeCursor,
  extractRequestSchema,
} from './api';

const NOW = new Date('2026-11-28T02:00:00Z');

function detailOf(event: unknown): string {
  const parsed = extractRequestSchema.safeParse(event);
  if (parsed.success) throw new Error('expected a malformed request');
  return describeRequestIssues(parsed.error);
}

describe('request schema', () => {
  it('takes the subscription flags under the task document names', () => {
    const req = extractRequestSchema.parse({
      action: 'create',
      shareText: 'x',
      subscribed: { success: true, failure: true },
    });
    expect(req).toMatchObject({ subscribed: { success: true, failure: true } });
    // The old name is refused by name, not dropped (dropping it subscribed to nothing).
    expect(
      detailOf({ action: 'retry', taskId: 't1', subscribed: { success: true, failed: true } }),
    ).toBe('subscribed.failed: unknown field');
  });

  it('knows remove (with a task id) and clear', () => {
    expect(extractRequestSchema.parse({ action: 'remove', taskId: 't1' })).toEqual({
      action: 'remove',
      taskId: 't1',
    });
    expect(extractRequestSchema.parse({ action: 'clear' })).toEqual({ action: 'clear' });
    expect(extractRequestSchema.safeParse({ action: 'remove' }).success).toBe(false);
  });
});

describe('describeRequestIssues', () => {
  it.each([
    [{ action: 'create', shareText: 5 }, 'shareText: expected string, received number'],
    [{ action: 'create' }, 'shareText: expected string, received undefined'],
    [null, 'request: expected object, received null'],
    [
      { action: 'explode' },
      'action: expected one of create, get, list, cancel, retry, remove, clear, share, unshare, shared',
    ],
    [{ action: 'list', limit: 500 }, 'limit: expected number to be <=50'],
    [
      { action: 'create', shareText: 'x', subscribed: { success: 'yes' } },
      'subscribed.success: expected boolean, received string',
    ],
    [{ action: 'create', shareText: 'x', userId: 'o_1' }, 'userId: unknown field'],
    [{ action: 'clear', all: true, force: 1 }, 'all, force: unknown field'],
    [{ action: 'get', taskId: 't', '<b>': 1 }, '(a field): unknown field'],
  ])('%j → %s', (event, detail) => {
    expect(detailOf(event)).toBe(detail);
  });

  it('never repeats a value the caller sent', () => {
    const secret = 'sk-do-not-echo-7f3a';
    expect(detailOf({ action: 'get', taskId: secret.repeat(10) })).not.toContain(secret);
    expect(detailOf({ action: secret })).not.toContain(secret);
    expect(detailOf({ action: 'create', shareText: 'x', requestId: `${secret} !` })).not.toContain(
      secret,
    );
  });
});

describe('list cursor', () => {
  it('round-trips a real task position', () => {
    const at = new Date('2026-11-27T10:00:00.123Z');
    expect(decodeCursor(encodeCursor(at, 'task_1'), NOW)).toEqual({ createdAt: at, id: 'task_1' });
  });

  it.each([
    ['far in the future', encodeCursor(new Date('2999-01-01T00:00:00Z'), 'x')],
    ['past the end of the date range', 'zzzzzzzzzzzz.x'],
    ['before any task existed', encodeCursor(new Date(CURSOR_EARLIEST.getTime() - 1), 'x')],
    ['at the epoch', '0.x'],
    ['bad syntax', '!!'],
    ['no id', 'abc.'],
  ])('refuses a cursor %s', (_name, cursor) => {
    expect(decodeCursor(cursor, NOW)).toBeNull();
  });

  it('allows a day of clock skew past now', () => {
    const soon = new Date(NOW.getTime() + 3600_000);
    expect(decodeCursor(encodeCursor(soon, 'x'), NOW)).not.toBeNull();
  });
});

import { TimerScheduler } from './timers';

afterEach(() => jest.useRealTimers());

describe('TimerScheduler', () => {
  it('fires on the cron, once per matching second', () => {
    jest.useFakeTimers({ now: Date.parse('2024-05-01T02:00:58.500Z') });
    const fired: string[] = [];
    const s = new TimerScheduler(
      [
        { fn: 'sweeper', trigger: 'everyMinute', cron: '0 * * * * * *' },
        { fn: 'fast', trigger: 'everySecond', cron: '* * * * * * *' },
      ],
      0,
      (fn, trigger) => fired.push(`${fn}:${trigger}`),
      () => undefined,
    );
    s.start();
    jest.advanceTimersByTime(3000);
    s.stop();
    expect(fired.filter((f) => f === 'sweeper:everyMinute')).toHaveLength(1);
    expect(fired.filter((f) => f === 'fast:everySecond')).toHaveLength(3);
    jest.advanceTimersByTime(5000);
    expect(fired).toHaveLength(4);
  });

  it('fires every trigger once per override period, and skips bad crons with a log line', () => {
    jest.useFakeTimers();
    const fired: string[] = [];
    const logs: string[] = [];
    const s = new TimerScheduler(
      [
        { fn: 'a', trigger: 't1', cron: '0 0 * * * * *' },
        { fn: 'a', trigger: 't2', cron: '0 30 * * * * *' },
        { fn: 'bad', trigger: 't', cron: 'nonsense' },
      ],
      2,
      (fn, trigger) => fired.push(`${fn}:${trigger}`),
      (l) => logs.push(l),
    );
    s.start();
    jest.advanceTimersByTime(6100);
    s.stop();
    expect(fired).toEqual(['a:t1', 'a:t2', 'a:t1', 'a:t2', 'a:t1', 'a:t2']);
    expect(logs[0]).toContain('timer of bad ignored');
  });
});

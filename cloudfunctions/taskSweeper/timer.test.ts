import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SWEEP_TRIGGER, timerRefusal } from './timer';

const TIMER = { Type: 'Timer', TriggerName: 'sweep', Time: '2026-11-28T02:00:00Z', Message: '' };

describe('timerRefusal', () => {
  it('accepts the cloud timer event with no caller', () => {
    expect(timerRefusal(TIMER, {}, SWEEP_TRIGGER)).toBeNull();
    // WeChat documents `wx_trigger` as the timer's SOURCE; a non-WeChat one is not refused either.
    expect(timerRefusal(TIMER, { source: 'wx_trigger' }, SWEEP_TRIGGER)).toBeNull();
    expect(timerRefusal(TIMER, { source: 'timer' }, SWEEP_TRIGGER)).toBeNull();
    expect(timerRefusal(TIMER, { source: 'scf' }, SWEEP_TRIGGER)).toBeNull();
  });

  it.each([
    ['a client call with an openid', {}, { openid: 'o_x', source: 'wx_client' }, 'caller'],
    ['a forged timer event from a client', TIMER, { openid: 'o_x', source: 'wx_client' }, 'caller'],
    [
      'a timer event from devtools without openid',
      TIMER,
      { source: 'wx_devtools' },
      'client_source',
    ],
    ['a timer event through the HTTP API', TIMER, { source: 'wx_http' }, 'client_source'],
    ['a client chain that reached it', TIMER, { source: 'wx_client,scf' }, 'client_source'],
    ['an HTTP access event', { httpMethod: 'POST', body: '{}' }, { source: 'http' }, 'not_timer'],
    ['no event', null, {}, 'not_timer'],
    ['a timer event without a time', { ...TIMER, Time: 'soon' }, {}, 'not_timer'],
    ['another trigger', { ...TIMER, TriggerName: 'other' }, {}, 'other_trigger'],
  ])('refuses %s', (_name, event, caller, reason) => {
    expect(timerRefusal(event, caller, SWEEP_TRIGGER)).toBe(reason);
  });

  it('the trigger name is the one cloudbaserc.json declares for taskSweeper', () => {
    const rc = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'cloudbaserc.json'), 'utf8'),
    ) as {
      functions: { name: string; triggers?: { name: string; type: string }[] }[];
    };
    const sweeper = rc.functions.find((f) => f.name === 'taskSweeper');
    expect(sweeper?.triggers?.map((t) => [t.name, t.type])).toEqual([[SWEEP_TRIGGER, 'timer']]);
  });
});

/**
 * What the console's actions accept from the page. The stand-in's knobs: each by name, of its own
 * type (a number is a JSON number, a mode a string), unknown names refused; the stand-in's own
 * check (standin/settings.ts) then holds each to its range. A user id is what the local stack takes as an
 * `x-wx-openid` everywhere (docs/local-stack.md): 1 to 64 letters, digits, `_` and `-`. The emulator's
 * watch and its subscription-message check hold the same rule; anything else is refused here with
 * a 400 naming the rule it broke, before a grant is given or a function is called.
 */
import { OPENID_MAX_LENGTH as OPENID_MAX, isOpenid } from '../emulator/openid';
import { DEFAULT_SETTINGS, type StandinSettings } from '../standin/settings';
import { HttpError } from './http';

/** The user id in `body[field]`, or a 400 saying what is wrong with it (never echoing it). */
export function openidOf(body: Record<string, unknown>, field = 'openid'): string {
  const v = body[field];
  if (typeof v !== 'string' || v === '') {
    throw new HttpError(
      400,
      `${field}: expected a user id (1-${OPENID_MAX} letters, digits, _ or -)`,
    );
  }
  if (v.length > OPENID_MAX) {
    throw new HttpError(
      400,
      `${field}: ${v.length} characters; a user id has at most ${OPENID_MAX}`,
    );
  }
  if (!isOpenid(v)) {
    throw new HttpError(
      400,
      `${field}: a user id has only letters, digits, _ and - (no spaces, line breaks, / . < > or other characters)`,
    );
  }
  return v;
}

/** The type each stand-in knob takes from the page: its default's. */
const KNOB_TYPES: Record<string, string> = Object.fromEntries(
  Object.entries(DEFAULT_SETTINGS).map(([name, value]) => [name, typeof value]),
);

/** The knobs in `body`, typed (none: nothing changes); a 400 naming the first unknown or mistyped one. */
export function standinPatchOf(body: Record<string, unknown>): Partial<StandinSettings> {
  const patch: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const type = KNOB_TYPES[name];
    if (!type) {
      throw new HttpError(
        400,
        `${name.slice(0, 40)}: no such knob (the stand-in has ${Object.keys(KNOB_TYPES).join(', ')})`,
      );
    }
    if (typeof value !== type || (type === 'number' && !Number.isFinite(value))) {
      throw new HttpError(400, `${name}: expected a ${type === 'number' ? 'number' : 'mode name'}`);
    }
    // As COZE_STANDIN_QPS: the bucket holds at most QPS calls, so below one it would refuse all.
    if (name === 'qps' && !Number.isInteger(value)) {
      throw new HttpError(400, 'qps: a whole number of calls a second from 0 (no limit) to 1000');
    }
    patch[name] = value;
  }
  return patch as Partial<StandinSettings>;
}

/**
 * What the console's actions accept from the page. A user id is what the local stack takes as an
 * `x-wx-openid` everywhere (docs/local-stack.md): 1 to 64 letters, digits, `_` and `-`. The emulator's
 * watch and its subscription-message check hold the same rule; anything else is refused here with
 * a 400 naming the rule it broke, before a grant is given or a function is called.
 */
import { HttpError } from './http';

const OPENID_MAX = 64;
const OPENID_CHARS = /^[A-Za-z0-9_-]+$/;

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
  if (!OPENID_CHARS.test(v)) {
    throw new HttpError(
      400,
      `${field}: a user id has only letters, digits, _ and - (no spaces, line breaks, / . < > or other characters)`,
    );
  }
  return v;
}

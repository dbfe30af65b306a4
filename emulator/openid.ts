/**
 * A user id as the local stack takes it everywhere (a function call's `x-wx-openid`, the watch's
 * `openid`, a subscription message's `touser`): 1 to 64 letters, digits, `_` and `-`.
 */
export const OPENID_MAX_LENGTH = 64;
const OPENID = /^[A-Za-z0-9_-]{1,64}$/;

export function isOpenid(v: unknown): v is string {
  return typeof v === 'string' && OPENID.test(v);
}

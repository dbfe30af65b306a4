/** Ids and per-task callback tokens. Node's crypto: functions only, never shared/. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const newTaskId = (): string => randomUUID();

/** 256 random bits; the run gets the token, the task keeps only its hash. */
export const newCallbackToken = (): string => randomBytes(32).toString('base64url');

/**
 * The same request from the same user always names the same task, so a double tap or a resent
 * request hits the `_id` uniqueness of the database instead of a racy look-up. Shaped as a v4 UUID.
 */
export function taskIdForRequest(openid: string, requestId: string): string {
  const h = createHash('sha256').update(`${openid}\u0000${requestId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

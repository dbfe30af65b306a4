/** Ids and per-task callback tokens. Node's crypto: functions only, never shared/. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const newTaskId = (): string => randomUUID();

/**
 * A fresh token for a new run (256 random bits), and the hash the task keeps: the same hex SHA-256
 * as `hashCallbackToken` in shared/signing.ts (ids.test.ts checks it), through node:crypto so the
 * functions that only mint tokens bundle no hashing library (about 10 KB).
 */
export function mintCallbackToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token, 'utf8').digest('hex') };
}

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

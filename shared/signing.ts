/**
 * Signing and verifying the callback (Standard Webhooks v1), and the per-task callback token.
 *
 * Written here on the same primitives the reference package `standardwebhooks` uses
 * (`fast-sha256`, `@stablelib/base64`), rather than through its `Webhook` class, because that class:
 * - reads the clock itself (`Date.now()`), while the domain takes `now` as a parameter;
 * - turns a Buffer into a string before signing (`payload.toString()`), so raw bytes that are not
 *   valid UTF-8 are replaced by U+FFFD and a correct signature over them fails; it refuses a plain
 *   Uint8Array outright;
 * - takes one secret, accepts `1614265330abc` as a timestamp (`parseInt`) and reports failures only
 *   as message strings.
 * The results are bit for bit the same (the tests check it against the package and the published
 * vectors). No Node API is used, so this also runs outside Node. The body it signs is
 * `callback.ts`'s business: here it is bytes.
 */
import { decode as base64Decode, encode as base64Encode } from '@stablelib/base64';
import { hash as sha256, hmac as hmacSha256 } from 'fast-sha256';

export const TIMESTAMP_TOLERANCE_S = 300;

const SECRET_PREFIX = 'whsec_';
const encoder = new TextEncoder();

export type CallbackHeaders = { id: string; timestamp: string; signature: string };

export type VerifyFailure =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'bad_signature'
  | 'no_secret';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

/** The HMAC key of a secret: base64 after an optional `whsec_` prefix; null when unusable. */
function secretKey(secret: string): Uint8Array | null {
  if (typeof secret !== 'string') return null;
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (b64 === '') return null;
  try {
    const key = base64Decode(b64);
    return key.length > 0 ? key : null;
  } catch {
    return null;
  }
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? encoder.encode(body) : body;
}

/** base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body bytes>"), over the exact body bytes. */
function computeSignature(key: Uint8Array, id: string, timestampS: number, body: Uint8Array) {
  const head = encoder.encode(`${id}.${timestampS}.`);
  const content = new Uint8Array(head.length + body.length);
  content.set(head, 0);
  content.set(body, head.length);
  return base64Encode(hmacSha256(key, content));
}

/** Signs like the workflow's code node does: `v1,<base64>`. Throws on an unusable secret. */
export function signCallback(
  secret: string,
  id: string,
  timestampS: number,
  rawBody: string | Uint8Array,
): string {
  const key = secretKey(secret);
  // The message never contains the secret.
  if (!key) throw new Error('callback secret is not a non-empty base64 key (optionally whsec_)');
  if (!Number.isSafeInteger(timestampS) || timestampS < 0) {
    throw new Error('callback timestamp must be a non-negative integer of seconds');
  }
  return `v1,${computeSignature(key, id, timestampS, toBytes(rawBody))}`;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first.trim() !== '') return first.trim();
  }
  return '';
}

/** Reads the three Standard Webhooks headers, case-insensitively; empty strings when absent. */
/** The three headers of a signed delivery, as a sender sets them (`callbackHeaders` reads them). */
export function signedHeaders(
  secret: string,
  id: string,
  timestampS: number,
  rawBody: string | Uint8Array,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signCallback(secret, id, timestampS, rawBody),
  };
}

export function callbackHeaders(
  headers: Record<string, string | string[] | undefined>,
): CallbackHeaders {
  return {
    id: header(headers, 'webhook-id'),
    timestamp: header(headers, 'webhook-timestamp'),
    signature: header(headers, 'webhook-signature'),
  };
}

/** Compares two strings in time that depends only on their lengths (signatures have a fixed one). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Verifies a callback against every configured secret (rotation: any match passes). `rawBody` must
 * be the bytes as received (`isBase64Encoded` already undone), never a re-serialized object.
 */
export function verifyCallback(
  secrets: readonly string[],
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Uint8Array,
  nowS: number,
): VerifyResult {
  // A NaN clock would pass every window comparison below.
  if (!Number.isFinite(nowS)) throw new TypeError('verifyCallback: nowS must be a finite number');
  const keys = secrets.map(secretKey).filter((k): k is Uint8Array => k !== null);
  if (keys.length === 0) return { ok: false, reason: 'no_secret' };

  const h = callbackHeaders(headers);
  if (h.id === '' || h.timestamp === '' || h.signature === '') {
    return { ok: false, reason: 'missing_headers' };
  }
  // Digits only (no sign, no fraction, no trailing junk) and within a sane range.
  if (!/^\d{1,12}$/.test(h.timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const timestampS = Number(h.timestamp);
  const now = Math.floor(nowS);
  if (now - timestampS > TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'timestamp_too_old' };
  if (timestampS - now > TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'timestamp_too_new' };

  const body = toBytes(rawBody);
  const expected = keys.map((key) => computeSignature(key, h.id, timestampS, body));
  const passed = h.signature
    .split(/\s+/)
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  let match = false;
  for (const sig of passed) {
    // No early exit: every candidate is compared, so timing does not tell which one matched.
    for (const exp of expected) match = constantTimeEqual(sig, exp) || match;
  }
  return match ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

// ---------------------------------------------------------------------------------------------
// Per-task callback token

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Hex SHA-256 of the token: the task stores this, so a leaked database does not leak tokens. */
export function hashCallbackToken(token: string): string {
  return toHex(sha256(encoder.encode(token)));
}

/** Whether `token` hashes to `storedHash`, compared in constant time. An empty token never matches. */
export function tokensMatch(token: string, storedHash: string): boolean {
  if (typeof token !== 'string' || token === '' || typeof storedHash !== 'string') return false;
  if (!/^[0-9a-f]{64}$/i.test(storedHash)) return false;
  return constantTimeEqual(hashCallbackToken(token), storedHash.toLowerCase());
}

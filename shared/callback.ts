/**
 * The signed callback the Coze workflow posts when a run progresses or ends (Standard Webhooks v1).
 *
 * Signing and verification are written here on the same primitives the reference package
 * `standardwebhooks` uses (`fast-sha256`, `@stablelib/base64`), rather than through its `Webhook`
 * class, because that class:
 * - reads the clock itself (`Date.now()`), while the domain takes `now` as a parameter;
 * - turns a Buffer into a string before signing (`payload.toString()`), so raw bytes that are not
 *   valid UTF-8 are replaced by U+FFFD and a correct signature over them fails; it refuses a plain
 *   Uint8Array outright;
 * - takes one secret, accepts `1614265330abc` as a timestamp (`parseInt`) and reports failures only
 *   as message strings.
 * The results are bit for bit the same (the tests check it against the package and the published
 * vectors). No Node API is used, so this also runs outside Node.
 */
import { decode as base64Decode, encode as base64Encode } from '@stablelib/base64';
import { hash as sha256, hmac as hmacSha256 } from 'fast-sha256';
import * as z from './zod';

export const CALLBACK_TYPES = [
  'workflow.execution.progress',
  'workflow.execution.completed',
  'workflow.execution.failed',
] as const;
export type CallbackType = (typeof CALLBACK_TYPES)[number];

export const MAX_CALLBACK_BYTES = 1024 * 1024;
export const TIMESTAMP_TOLERANCE_S = 300;
/** The code a failed callback gets when the workflow sent none. */
export const DEFAULT_FAILURE_CODE = 'PROVIDER_ERROR';

const SECRET_PREFIX = 'whsec_';

// ---------------------------------------------------------------------------------------------
// Body

/**
 * Bounds on what a run may store and show (code points, not UTF-16 units):
 * - title 1000: no platform's title or description is longer (Bilibili 80, Xiaohongshu 20,
 *   Douyin and Kuaishou descriptions about 1000); longer is cut with `…`, it is still the video.
 * - content 100 000: we refuse videos over 30 minutes (TOO_LONG), and the fastest speech is
 *   about 400 characters a minute, so a real transcript stays under 15 000. At 100 000 code
 *   points of at most 4 UTF-8 bytes, a `get` answer stays under 420 KB, well inside
 *   callFunction's answer limit, while the 1 MiB callback could carry 340 000. Longer content is
 *   a workflow fault, yet the user has spent quota on it: it is kept up to the bound and marked
 *   as cut (CONTENT_CUT_MARK) rather than refused.
 * - cover and video link: http(s) only, at most 2048 characters; anything else (`javascript:`,
 *   `data:`, a bare path) is dropped to '', which the page shows as "no cover / no link".
 * Control characters are removed from both texts (line breaks and tabs stay in the content).
 */
export const MAX_TITLE_LENGTH = 1000;
export const MAX_CONTENT_LENGTH = 100_000;
export const MAX_MEDIA_URL_LENGTH = 2048;
export const CONTENT_CUT_MARK = '\n……（文案过长，超出部分未保存）';

const TITLE_CONTROLS = /[\p{Cc}]/gu;
const CONTENT_CONTROLS = /(?![\t\n\r])\p{Cc}/gu;
const MEDIA_URL = /^https?:\/\/[^\s/?#@\\]+(?:[/?#][^\s]*)?$/i;
const URL_UNSAFE = /[\p{Cc}\s"<>\\^`{|}]/u;

/** The first `max` code points of `s`, or null when it has no more than that. */
function cutAt(s: string, max: number): string | null {
  // UTF-16 units are never fewer than code points: short strings need no count.
  if (s.length <= max) return null;
  let units = 0;
  for (let n = 0; n < max && units < s.length; n++) {
    const c = s.charCodeAt(units);
    units += c >= 0xd800 && c <= 0xdbff && units + 1 < s.length ? 2 : 1;
  }
  return units < s.length ? s.slice(0, units) : null;
}

/** An http(s) URL for an <image> or a copied link, or '' when it is anything else. */
export function mediaUrlOrEmpty(url: string): string {
  const s = url.trim();
  if (s.length > MAX_MEDIA_URL_LENGTH || URL_UNSAFE.test(s) || !MEDIA_URL.test(s)) return '';
  return s;
}

/** A run's output within the bounds above: what a task stores and a user is shown. */
export function boundResult(output: {
  title: string;
  content: string;
  cover: string;
  video_url: string;
}): { title: string; content: string; cover: string; video_url: string } {
  const title = output.title.replace(TITLE_CONTROLS, '');
  const content = output.content.replace(CONTENT_CONTROLS, '');
  const shortTitle = cutAt(title, MAX_TITLE_LENGTH);
  const shortContent = cutAt(content, MAX_CONTENT_LENGTH);
  return {
    title: shortTitle === null ? title : `${shortTitle}…`,
    content: shortContent === null ? content : `${shortContent}${CONTENT_CUT_MARK}`,
    cover: mediaUrlOrEmpty(output.cover),
    video_url: mediaUrlOrEmpty(output.video_url),
  };
}

/** The output fields `boundResult` changed (for a log line; never the values). */
export function adjustedFields(raw: unknown, bounded: Record<string, string>): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const r = raw as Record<string, unknown>;
  return Object.keys(bounded).filter((k) => typeof r[k] === 'string' && r[k] !== bounded[k]);
}

// The 1 MiB body limit bounds what is parsed; boundResult bounds what is kept.
const outputSchema = z.pipe(
  z.object({
    title: z._default(z.string(), ''),
    content: z._default(z.string(), ''),
    cover: z._default(z.string(), ''),
    video_url: z._default(z.string(), ''),
  }),
  z.transform(boundResult),
);

const errorSchema = z.object({
  code: z._default(z.string().check(z.maxLength(64)), ''),
  // Only logged (the user sees our catalogue's message): kept short.
  message: z.pipe(
    z._default(z.string(), ''),
    z.transform((m) => m.slice(0, 500)),
  ),
});

const baseData = {
  task_id: z.string().check(z.minLength(1), z.maxLength(64)),
  // Empty or missing when the workflow could not learn its own execute id.
  execute_id: z._default(z.string().check(z.maxLength(128)), ''),
  // An empty or wrong token is the handler's 401, not a malformed body.
  callback_token: z.string().check(z.maxLength(256)),
  progress: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100))),
};

const progressBody = z.object({
  type: z.literal('workflow.execution.progress'),
  data: z.object({ ...baseData, output: z.optional(outputSchema), error: z.optional(errorSchema) }),
});

const completedBody = z.object({
  type: z.literal('workflow.execution.completed'),
  data: z.object({ ...baseData, output: outputSchema, error: z.optional(errorSchema) }),
});

const failedBody = z.object({
  type: z.literal('workflow.execution.failed'),
  data: z.object({
    ...baseData,
    output: z.optional(outputSchema),
    // A failure always carries a code downstream, so a missing or empty one gets the default.
    error: z.pipe(
      z.optional(errorSchema),
      z.transform((e) => ({
        code: e?.code || DEFAULT_FAILURE_CODE,
        message: e?.message ?? '',
      })),
    ),
  }),
});

/** Unknown keys are accepted and stripped (zod's default for objects). */
export const callbackBodySchema = z.discriminatedUnion('type', [
  progressBody,
  completedBody,
  failedBody,
]);
export type CallbackBody = z.infer<typeof callbackBodySchema>;

export type ParseCallbackResult =
  | {
      ok: true;
      body: CallbackBody;
      /** output fields cut to their bound or dropped (not http(s)): names only, for the log */
      adjusted: string[];
    }
  | { ok: false; issues: string };

const encoder = new TextEncoder();

/**
 * JSON parse + schema. `issues` names paths and rules only, never a value from the body, so it is
 * safe to log (the body carries the callback token).
 */
export function parseCallbackBody(raw: string): ParseCallbackResult {
  if (typeof raw !== 'string') return { ok: false, issues: 'body is not a string' };
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: encode only when it could be too big.
  if (raw.length * 3 > MAX_CALLBACK_BYTES && encoder.encode(raw).length > MAX_CALLBACK_BYTES) {
    return { ok: false, issues: `body is larger than ${MAX_CALLBACK_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The SyntaxError's message quotes the input, so it is not passed on.
    return { ok: false, issues: 'body is not valid JSON' };
  }
  const parsed = callbackBodySchema.safeParse(json);
  if (parsed.success) {
    const output = parsed.data.data.output;
    const rawOutput = (json as { data?: { output?: unknown } }).data?.output;
    return {
      ok: true,
      body: parsed.data,
      adjusted: output ? adjustedFields(rawOutput, output) : [],
    };
  }
  const issues = parsed.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.code}: ${i.message}`)
    .join('; ');
  return { ok: false, issues };
}

// ---------------------------------------------------------------------------------------------
// Signature

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

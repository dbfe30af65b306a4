/**
 * The slice of MongoDB Extended JSON that @cloudbase/database sends (bson `EJSON.stringify(x, {relaxed: false})`)
 * and reads back (`EJSON.parse`). Kept local so the emulator does not depend on the SDK's private bson copy.
 */
export type Doc = Record<string, unknown>;

// Type checks work across realms (Jest runs modules in a vm context; structuredClone and JSON.parse may answer
// objects of another realm), so no `instanceof` and no identity check against this realm's Object.prototype.
const tag = (v: unknown): string => Object.prototype.toString.call(v);

export function isDate(value: unknown): value is Date {
  return tag(value) === '[object Date]';
}

function isRegExp(value: unknown): value is RegExp {
  return tag(value) === '[object RegExp]';
}

export function isPlainObject(value: unknown): value is Doc {
  if (value === null || typeof value !== 'object' || tag(value) !== '[object Object]') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Deep copy of a document made of JSON values, Dates and RegExps. */
export function cloneDoc<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDoc) as T;
  if (isDate(value)) return new Date(value.getTime()) as T;
  if (isRegExp(value)) return new RegExp(value.source, value.flags) as T;
  if (value !== null && typeof value === 'object') {
    const out: Doc = {};
    for (const [k, v] of Object.entries(value)) out[k] = cloneDoc(v);
    return out as T;
  }
  return value;
}

function singleKey(obj: Doc): string | undefined {
  const keys = Object.keys(obj);
  return keys.length === 1 ? keys[0] : undefined;
}

function toNumber(text: unknown): number {
  if (typeof text !== 'string') throw new Error('EJSON number wrapper needs a string');
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`invalid EJSON number: ${text}`);
  return n;
}

function toDate(inner: unknown, now: number): Date {
  if (typeof inner === 'string') return new Date(inner);
  if (typeof inner === 'number') return new Date(inner);
  if (isPlainObject(inner) && typeof inner.$numberLong === 'string')
    return new Date(Number(inner.$numberLong));
  // The legacy protocol's server date (@cloudbase/database before 1.0): `{$date: {offset}}`.
  if (isPlainObject(inner) && typeof inner.offset === 'number') return new Date(now + inner.offset);
  throw new Error('invalid EJSON $date');
}

/**
 * Turns parsed EJSON into plain values (Date, RegExp, numbers). `now` resolves `db.serverDate()`, which the SDK
 * sends as `{$tcb_server_date: {offset}}`, so one write sees one server time.
 */
function fromEJSON(value: unknown, now: number = Date.now()): unknown {
  if (Array.isArray(value)) return value.map((v) => fromEJSON(v, now));
  if (!isPlainObject(value)) return value;
  const key = singleKey(value);
  if (key !== undefined) {
    const inner = value[key];
    switch (key) {
      case '$numberInt':
      case '$numberLong':
      case '$numberDouble':
      case '$numberDecimal':
        return toNumber(inner);
      case '$date':
        return toDate(inner, now);
      case '$oid':
        return String(inner);
      case '$regularExpression':
        if (isPlainObject(inner) && typeof inner.pattern === 'string') {
          return new RegExp(inner.pattern, typeof inner.options === 'string' ? inner.options : '');
        }
        break;
      case '$tcb_server_date': {
        const decoded = fromEJSON(inner, now);
        const offset =
          isPlainObject(decoded) && typeof decoded.offset === 'number' ? decoded.offset : 0;
        return new Date(now + offset);
      }
      default:
        break;
    }
  }
  const out: Doc = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromEJSON(v, now);
  return out;
}

export function parseEJSON(text: string, now?: number): unknown {
  return fromEJSON(parseBoundedJson(text), now);
}

/** Encodes for the SDK and for the journal: Dates keep their type, non-finite numbers survive. */
function toEJSON(value: unknown): unknown {
  if (isDate(value)) return { $date: { $numberLong: String(value.getTime()) } };
  if (isRegExp(value))
    return { $regularExpression: { pattern: value.source, options: value.flags } };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $numberDouble: String(value) };
  if (Array.isArray(value)) return value.map(toEJSON);
  if (value !== null && typeof value === 'object') {
    const out: Doc = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toEJSON(v);
    }
    return out;
  }
  return value;
}

export function stringifyEJSON(value: unknown): string {
  return JSON.stringify(toEJSON(value));
}

/**
 * How deep a JSON body or an EJSON parameter may nest. MongoDB, which CloudBase's database is, refuses
 * documents nested deeper than 100 levels; nothing the SDKs send comes near it, and bounding it keeps
 * every later step (EJSON decoding, the runtime's IPC, JSON.stringify) far from the stack's limit.
 */
const MAX_JSON_DEPTH = 100;

/**
 * Whether JSON text nests arrays and objects deeper than `max` (a linear scan that skips strings; the
 * text need not be valid JSON). `JSON.parse` itself copes with deep text, but everything after it
 * recurses (EJSON decoding, the runtime's IPC, JSON.stringify).
 */
export function jsonTooDeep(text: string | Buffer, max = MAX_JSON_DEPTH): boolean {
  const at: (i: number) => number =
    typeof text === 'string' ? (i) => text.charCodeAt(i) : (i) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The error text for a body or parameter over MAX_JSON_DEPTH. */
export const TOO_DEEP = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

/** `JSON.parse`, refusing text nested deeper than MAX_JSON_DEPTH first. */
export function parseBoundedJson(text: string): unknown {
  if (jsonTooDeep(text)) throw new Error(TOO_DEEP);
  return JSON.parse(text) as unknown;
}

/**
 * Update operators as CloudBase (MongoDB) applies them: the update's shape checked, the common plain
 * `$set`/`$unset`/`$inc`/`$push` applied directly, everything else through mingo, and what MongoDB
 * refuses but mingo skips reported as the cloud's error.
 */
import { update as mingoUpdate } from 'mingo';
import { isEqual } from 'mingo/util';
import { type Doc, cloneDoc, isPlainObject } from './ejson';
import { DbError } from './model';

const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$push',
  '$pop',
  '$pull',
  '$pullAll',
  '$addToSet',
  '$currentDate',
  '$bit',
]);

function touchesId(field: string): boolean {
  return field === '_id' || field.startsWith('_id.');
}

const NUMERIC_OPS = new Set(['$inc', '$mul']);
const ARRAY_OPS = new Set(['$push', '$addToSet', '$pop', '$pull', '$pullAll']);

/**
 * mingo silently skips updates that MongoDB (and so CloudBase) refuses; report those instead, so code that
 * would fail in the cloud fails here too.
 */
function checkUpdateTypes(doc: Doc, mod: Doc): void {
  for (const [op, fields] of Object.entries(mod)) {
    if (!isPlainObject(fields)) continue;
    for (const field of Object.keys(fields)) {
      if (field.includes('$')) continue;
      const parts = field.split('.');
      let cur: unknown = doc;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] ?? '';
        if (cur === undefined) break;
        if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
        else if (isPlainObject(cur)) cur = cur[part];
        else {
          throw new DbError(
            'DATABASE_REQUEST_FAILED',
            `Cannot create field '${part}' in element {${parts.slice(0, i).join('.')}: ${JSON.stringify(cur)}}`,
          );
        }
      }
      if (cur === undefined) continue;
      if (NUMERIC_OPS.has(op) && typeof cur !== 'number') {
        throw new DbError(
          'DATABASE_REQUEST_FAILED',
          `Cannot apply ${op} to a value of non-numeric type (field ${field})`,
        );
      }
      if (ARRAY_OPS.has(op) && !Array.isArray(cur)) {
        throw new DbError(
          'DATABASE_REQUEST_FAILED',
          `The field '${field}' must be an array (${op})`,
        );
      }
    }
  }
}

/** Checks an update's shape (operators or plain fields, never `_id`) and answers it in operator form. */
export function normalizeModifier(modifier: Doc): Doc {
  const ops = Object.keys(modifier);
  if (!ops.length) throw new DbError('INVALID_PARAM', 'update data must not be empty');
  const isOperatorUpdate = ops.every((k) => k.startsWith('$'));
  if (!isOperatorUpdate && ops.some((k) => k.startsWith('$'))) {
    throw new DbError('INVALID_PARAM', 'update data mixes operators and fields');
  }
  const mod: Doc = isOperatorUpdate ? modifier : { $set: modifier };
  for (const [op, fields] of Object.entries(mod)) {
    if (!UPDATE_OPERATORS.has(op))
      throw new DbError('INVALID_PARAM', `unknown update operator: ${op}`);
    if (!isPlainObject(fields)) throw new DbError('INVALID_PARAM', `${op} needs an object`);
    for (const f of Object.keys(fields)) {
      if (
        touchesId(f) ||
        (op === '$rename' && typeof fields[f] === 'string' && touchesId(fields[f]))
      ) {
        throw new DbError('INVALID_PARAM', '不能更新_id的值');
      }
    }
  }
  return mod;
}

const PLAIN_SEGMENT = /^(?!\d+$)[^.$][^.]*$/;
const PLAIN_OPS = new Set(['$set', '$unset', '$inc', '$push']);

type PushArgs = { each: unknown[]; slice?: number };

/** `$push` arguments the plain path handles: one value, or `$each` with an optional integer `$slice`. */
function pushArgs(value: unknown): PushArgs | undefined {
  if (!isPlainObject(value) || !Object.keys(value).some((k) => k.startsWith('$'))) {
    return { each: [value] };
  }
  const keys = Object.keys(value);
  if (!Array.isArray(value.$each) || keys.some((k) => k !== '$each' && k !== '$slice'))
    return undefined;
  if (value.$slice !== undefined && !Number.isInteger(value.$slice)) return undefined;
  return {
    each: value.$each,
    ...(value.$slice !== undefined ? { slice: value.$slice as number } : {}),
  };
}

/** One operator on one field whose parent object exists; answers whether the document changed. */
function applyPlainOp(
  op: string,
  parent: Doc,
  key: string,
  value: unknown,
  push: PushArgs | undefined,
): boolean {
  const cur = parent[key];
  switch (op) {
    case '$set':
      if (isEqual(cur, value)) return false;
      parent[key] = cloneDoc(value);
      return true;
    case '$unset':
      if (!Object.prototype.hasOwnProperty.call(parent, key)) return false;
      delete parent[key];
      return !isEqual(cur, undefined);
    case '$inc': {
      const next = ((cur as number | undefined) ?? 0) + (value as number);
      parent[key] = next;
      return next !== cur;
    }
    default: {
      // $push, MongoDB's way: a missing field becomes the array, then `$slice` keeps the first or last n.
      const { each, slice } = push!;
      const before = (cur as unknown[] | undefined) ?? [];
      let arr = [...before, ...each.map(cloneDoc)];
      if (slice !== undefined)
        arr = slice < 0 ? arr.slice(Math.max(arr.length + slice, 0)) : arr.slice(0, slice);
      parent[key] = arr;
      return cur === undefined || !isEqual(before, arr);
    }
  }
}

/**
 * `$set`, `$unset`, `$inc` and `$push` (one value, or `$each` with `$slice`) of plain field paths through
 * objects, the shape nearly every update has, applied directly: mingo builds a fresh operator context for each
 * update, which costs more than the update itself. Answers whether anything changed, or undefined when the
 * update needs mingo (other operators or arguments, array indexes, a path through a non-object, a field of the
 * wrong type, or two paths where one contains the other).
 */
function applyPlainUpdate(doc: Doc, mod: Doc): boolean | undefined {
  const steps: { op: string; parts: string[]; value: unknown; push?: PushArgs }[] = [];
  for (const [op, fields] of Object.entries(mod)) {
    if (!PLAIN_OPS.has(op) || !isPlainObject(fields)) return undefined;
    for (const [field, value] of Object.entries(fields)) {
      const parts = field.split('.');
      if (!parts.every((p) => PLAIN_SEGMENT.test(p))) return undefined;
      if (op === '$inc' && typeof value !== 'number') return undefined;
      const push = op === '$push' ? pushArgs(value) : undefined;
      if (op === '$push' && !push) return undefined;
      steps.push({ op, parts, value, ...(push ? { push } : {}) });
    }
  }
  const sorted = steps.map((st) => st.parts.join('.')).sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1] || sorted[i]!.startsWith(`${sorted[i - 1]}.`)) return undefined;
  }
  // Check every path before writing any, so a fallback starts from the untouched document.
  for (const { op, parts } of steps) {
    let cur: unknown = doc;
    for (const part of parts) {
      if (cur === undefined) break;
      if (!isPlainObject(cur)) return undefined;
      cur = cur[part];
    }
    if (cur === undefined) continue;
    if (op === '$inc' && typeof cur !== 'number') return undefined;
    if (op === '$push' && !Array.isArray(cur)) return undefined;
  }
  let changed = false;
  for (const { op, parts, value, push } of steps) {
    let parent: Doc | undefined = doc;
    for (const part of parts.slice(0, -1)) {
      let child: unknown = parent[part];
      if (child === undefined) {
        // $unset of a missing path changes nothing and creates nothing.
        if (op === '$unset') {
          parent = undefined;
          break;
        }
        child = parent[part] = {};
      }
      parent = child as Doc;
    }
    if (parent && applyPlainOp(op, parent, parts[parts.length - 1]!, value, push)) changed = true;
  }
  return changed;
}

/** The document after a normalized update, or null when nothing changed. */
export function applyModifier(before: Doc, mod: Doc): Doc | null {
  checkUpdateTypes(before, mod);
  const next = cloneDoc(before);
  const plain = applyPlainUpdate(next, mod);
  if (plain !== undefined) return plain ? next : null;
  let changed: string[];
  try {
    changed = mingoUpdate(next, mod);
  } catch (e) {
    throw new DbError('DATABASE_REQUEST_FAILED', (e as Error).message);
  }
  return changed.length ? next : null;
}

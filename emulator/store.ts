/**
 * The document store behind the database actions: one in-memory Map per collection, persisted as an append-only
 * journal (`<dir>/<collection>.jsonl`, one put or delete per line). Every operation is synchronous, so two writes
 * can never interleave: a conditional update is a true compare-and-set without any extra locking.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Query, find, update as mingoUpdate } from 'mingo';
import { isEqual } from 'mingo/util';
import { type Doc, cloneDoc, isPlainObject, parseEJSON, stringifyEJSON } from './ejson';

export type DbErrorCode =
  | 'DATABASE_COLLECTION_NOT_EXIST'
  | 'DATABASE_COLLECTION_ALREADY_EXIST'
  | 'DATABASE_REQUEST_FAILED'
  | 'DATABASE_TRANSACTION_CONFLICT'
  | 'INVALID_PARAM';

/** Carries the tcb error code string the SDK maps to a numeric errCode (e.g. -502005). */
export class DbError extends Error {
  constructor(
    readonly code: DbErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ChangeEvent {
  collection: string;
  docId: string;
  before: Doc | null;
  after: Doc | null;
  /** `replace` = doc.set over an existing document (the watch reports it as `replace`). */
  kind: 'insert' | 'update' | 'replace' | 'remove';
}

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
  projection?: Record<string, unknown>;
}

interface Collection {
  name: string;
  docs: Map<string, Doc>;
  file: string;
  fd: number;
  lines: number;
}

const COLLECTION_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
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

export function newDocId(): string {
  // CloudBase ids are 32 lowercase hex characters.
  return randomBytes(16).toString('hex');
}

function idKey(id: unknown): string {
  return typeof id === 'string' ? id : JSON.stringify(id);
}

export function withIdFirst(id: unknown, rest: Doc): Doc {
  const out: Doc = { _id: id };
  for (const [k, v] of Object.entries(rest)) if (k !== '_id') out[k] = v;
  return out;
}

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

/** One document write of a transaction commit: `after` null removes the document. */
export interface BatchWrite {
  collection: string;
  id: unknown;
  after: Doc | null;
  /** doc.set over an existing document (the watch reports `replace`). */
  replace?: boolean;
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

const heldDirs = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Store {
  private readonly cols = new Map<string, Collection>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Loads every journal (ignoring a torn last line), compacts it, and takes the directory's lock. */
  static open(dir: string, log: (line: string) => void = () => undefined): Store {
    fs.mkdirSync(dir, { recursive: true });
    const resolved = path.resolve(dir);
    const lockFile = path.join(resolved, 'LOCK');
    if (heldDirs.has(resolved))
      throw new Error(`data dir ${resolved} is already used by a running local stack`);
    try {
      const pid = Number(fs.readFileSync(lockFile, 'utf8'));
      if (pid && pid !== process.pid && pidAlive(pid)) {
        throw new Error(
          `data dir ${resolved} is already used by a running local stack (pid ${pid})`,
        );
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    fs.writeFileSync(lockFile, String(process.pid));
    heldDirs.add(resolved);
    const store = new Store(resolved, log);
    try {
      for (const entry of fs.readdirSync(resolved)) {
        if (entry.endsWith('.jsonl')) store.load(entry.slice(0, -'.jsonl'.length));
      }
      store.replayIntent();
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  private load(name: string): void {
    const file = path.join(this.dir, `${name}.jsonl`);
    const docs = new Map<string, Doc>();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let lineCount = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      lineCount++;
      try {
        const rec = parseEJSON(line);
        if (!isPlainObject(rec)) throw new Error('not an object');
        if (isPlainObject(rec.p)) docs.set(idKey(rec.p._id), rec.p);
        else if ('d' in rec) docs.delete(idKey(rec.d));
        else throw new Error('unknown record');
      } catch {
        // A crash mid-append leaves a torn last line: drop it. Anything else is worth a warning.
        if (i < lines.length - 2 || (i === lines.length - 2 && lines[lines.length - 1] !== '')) {
          this.log(`[store] ${name}: skipped unreadable journal line ${i + 1}`);
        }
      }
    });
    const col: Collection = { name, docs, file, fd: -1, lines: lineCount };
    this.cols.set(name, col);
    this.compact(col);
  }

  /** Rewrites the journal with one line per live document (write temp, fsync, rename: never a half file). */
  private compact(col: Collection): void {
    if (col.fd >= 0) {
      fs.closeSync(col.fd);
      col.fd = -1;
    }
    const tmp = `${col.file}.tmp`;
    let body = '';
    for (const doc of col.docs.values()) body += `${stringifyEJSON({ p: doc })}\n`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, col.file);
    col.lines = col.docs.size;
    col.fd = fs.openSync(col.file, 'a');
  }

  private append(col: Collection, records: unknown[]): void {
    if (!records.length) return;
    let text = '';
    for (const r of records) text += `${stringifyEJSON(r)}\n`;
    // One write(2) per operation: a process crash can tear at most the tail, which load() ignores.
    fs.writeSync(col.fd, text);
    col.lines += records.length;
    if (col.lines > 1000 && col.lines > col.docs.size * 4) this.compact(col);
  }

  private emit(events: ChangeEvent[]): void {
    for (const e of events) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch (err) {
          this.log(`[store] change listener failed: ${(err as Error).message}`);
        }
      }
    }
  }

  private col(name: string): Collection {
    if (this.closed) throw new DbError('DATABASE_REQUEST_FAILED', 'store is closed');
    const col = this.cols.get(name);
    if (!col) {
      throw new DbError(
        'DATABASE_COLLECTION_NOT_EXIST',
        `[ResourceNotFound] Db or Table not exist: ${name}. Please check your request, but if the problem cannot be solved, contact us.`,
      );
    }
    return col;
  }

  onChange(listener: (e: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  collections(): string[] {
    return [...this.cols.keys()];
  }

  has(name: string): boolean {
    return this.cols.has(name);
  }

  /** False when it already exists. */
  create(name: string): boolean {
    if (!COLLECTION_NAME.test(name))
      throw new DbError('INVALID_PARAM', `invalid collection name: ${name}`);
    if (this.cols.has(name)) return false;
    const file = path.join(this.dir, `${name}.jsonl`);
    fs.writeFileSync(file, '');
    this.cols.set(name, { name, docs: new Map(), file, fd: fs.openSync(file, 'a'), lines: 0 });
    return true;
  }

  private matcher(criteria: Doc): Query {
    try {
      return new Query(criteria);
    } catch (e) {
      throw new DbError('INVALID_PARAM', `invalid query: ${(e as Error).message}`);
    }
  }

  private matching(col: Collection, criteria: Doc): Doc[] {
    const id = criteria._id;
    const byId = typeof id === 'string' || typeof id === 'number';
    // `doc(id)` alone needs no query at all; compiling one costs more than the lookup.
    if (byId && Object.keys(criteria).length === 1) {
      const d = col.docs.get(idKey(id));
      return d ? [d] : [];
    }
    const q = this.matcher(criteria);
    // Fast path for the common `_id` lookups (compare-and-set).
    const candidates = byId
      ? [col.docs.get(idKey(id))].filter((d): d is Doc => d !== undefined)
      : [...col.docs.values()];
    try {
      return candidates.filter((d) => q.test(d));
    } catch (e) {
      throw new DbError('INVALID_PARAM', `invalid query: ${(e as Error).message}`);
    }
  }

  insert(name: string, docs: Doc[]): unknown[] {
    const col = this.col(name);
    const prepared: Doc[] = [];
    const seen = new Set<string>();
    for (const d of docs) {
      const id = d._id === undefined || d._id === null ? newDocId() : d._id;
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new DbError('INVALID_PARAM', '_id must be a string');
      const key = idKey(id);
      if (col.docs.has(key) || seen.has(key)) {
        throw new DbError(
          'DATABASE_REQUEST_FAILED',
          `[FailedOperation] E11000 duplicate key error collection: ${name} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
        );
      }
      seen.add(key);
      prepared.push(withIdFirst(id, d));
    }
    for (const d of prepared) col.docs.set(idKey(d._id), d);
    this.append(
      col,
      prepared.map((p) => ({ p })),
    );
    this.emit(
      prepared.map((d) => ({
        collection: name,
        docId: idKey(d._id),
        before: null,
        after: d,
        kind: 'insert',
      })),
    );
    return prepared.map((d) => d._id);
  }

  find(name: string, criteria: Doc, opts: FindOptions = {}): Doc[] {
    const col = this.col(name);
    const matches = this.matching(col, criteria);
    const hasProjection = opts.projection && Object.keys(opts.projection).length > 0;
    try {
      let cursor = find(matches, {}, hasProjection ? opts.projection : undefined);
      if (opts.sort && Object.keys(opts.sort).length) cursor = cursor.sort(opts.sort);
      if (opts.skip) cursor = cursor.skip(opts.skip);
      if (opts.limit !== undefined) cursor = cursor.limit(opts.limit);
      const out = cursor.all() as Doc[];
      return hasProjection ? out.map((d) => ('_id' in d ? withIdFirst(d._id, d) : d)) : out;
    } catch (e) {
      throw new DbError('INVALID_PARAM', `invalid query options: ${(e as Error).message}`);
    }
  }

  count(name: string, criteria: Doc): number {
    return this.matching(this.col(name), criteria).length;
  }

  /** `where(...).update(...)` and `doc(id).update(...)`: applies Mongo update operators; `updated` counts real changes. */
  update(
    name: string,
    criteria: Doc,
    modifier: Doc,
    multi: boolean,
  ): { matched: number; updated: number } {
    const col = this.col(name);
    const mod = normalizeModifier(modifier);
    let targets = this.matching(col, criteria);
    if (!multi) targets = targets.slice(0, 1);
    const changes: { before: Doc; after: Doc }[] = [];
    for (const before of targets) {
      const next = applyModifier(before, mod);
      if (next) changes.push({ before, after: next });
    }
    // Commit only after every target computed without error, so a multi update is all-or-nothing.
    for (const c of changes) col.docs.set(idKey(c.after._id), c.after);
    this.append(
      col,
      changes.map((c) => ({ p: c.after })),
    );
    this.emit(
      changes.map((c) => ({
        collection: name,
        docId: idKey(c.after._id),
        before: c.before,
        after: c.after,
        kind: 'update' as const,
      })),
    );
    return { matched: targets.length, updated: changes.length };
  }

  /** Throws the cloud's error when the collection does not exist. */
  assertCollection(name: string): void {
    this.col(name);
  }

  /** One document by id (a copy is not made: callers must not mutate it). */
  get(name: string, id: unknown): Doc | undefined {
    return this.col(name).docs.get(idKey(id));
  }

  /**
   * Writes a transaction's changes across collections atomically: the whole batch goes to `TXN` first (fsync), then
   * to each journal; `open()` replays a `TXN` left by a crash. Puts and deletes of whole documents replay idempotently.
   */
  applyBatch(writes: BatchWrite[]): void {
    if (!writes.length) return;
    for (const w of writes) this.col(w.collection);
    const intent = path.join(this.dir, 'TXN');
    const body = writes
      .map((w) =>
        stringifyEJSON(w.after ? { c: w.collection, p: w.after } : { c: w.collection, d: w.id }),
      )
      .join('\n');
    const fd = fs.openSync(`${intent}.tmp`, 'w');
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(`${intent}.tmp`, intent);
    const events: ChangeEvent[] = [];
    for (const w of writes) {
      const col = this.col(w.collection);
      const key = idKey(w.id);
      const before = col.docs.get(key) ?? null;
      if (w.after) {
        col.docs.set(key, w.after);
        this.append(col, [{ p: w.after }]);
      } else {
        if (!before) continue;
        col.docs.delete(key);
        this.append(col, [{ d: w.id }]);
      }
      events.push({
        collection: w.collection,
        docId: key,
        before,
        after: w.after,
        kind: !w.after ? 'remove' : !before ? 'insert' : w.replace ? 'replace' : 'update',
      });
    }
    for (const col of new Set(writes.map((w) => this.col(w.collection)))) fs.fsyncSync(col.fd);
    fs.unlinkSync(intent);
    this.emit(events);
  }

  private replayIntent(): void {
    const intent = path.join(this.dir, 'TXN');
    let text: string;
    try {
      text = fs.readFileSync(intent, 'utf8');
    } catch {
      return;
    }
    const writes: BatchWrite[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const rec = parseEJSON(line);
      if (!isPlainObject(rec) || typeof rec.c !== 'string') continue;
      if (isPlainObject(rec.p)) writes.push({ collection: rec.c, id: rec.p._id, after: rec.p });
      else writes.push({ collection: rec.c, id: rec.d, after: null });
    }
    this.log(`[store] replaying an interrupted transaction commit (${writes.length} writes)`);
    this.applyBatch(writes.filter((w) => this.cols.has(w.collection)));
    try {
      fs.unlinkSync(intent);
    } catch {
      // applyBatch already removed it
    }
  }

  /** `doc(id).set(data)`: replace or create. */
  set(name: string, id: unknown, data: Doc): { updated: number; upsertedId: unknown } {
    const col = this.col(name);
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new DbError('INVALID_PARAM', 'docId不能为空');
    if (Object.keys(data).some((k) => k.startsWith('$'))) {
      throw new DbError('INVALID_PARAM', 'set data must not contain update operators');
    }
    if ('_id' in data && data._id !== id) throw new DbError('INVALID_PARAM', '不能更新_id的值');
    const key = idKey(id);
    const before = col.docs.get(key) ?? null;
    const after = withIdFirst(id, data);
    if (before && stringifyEJSON(before) === stringifyEJSON(after))
      return { updated: 0, upsertedId: undefined };
    col.docs.set(key, after);
    this.append(col, [{ p: after }]);
    this.emit([
      { collection: name, docId: key, before, after, kind: before ? 'replace' : 'insert' },
    ]);
    return before ? { updated: 1, upsertedId: undefined } : { updated: 0, upsertedId: id };
  }

  remove(name: string, criteria: Doc, multi: boolean): number {
    const col = this.col(name);
    let targets = this.matching(col, criteria);
    if (!multi) targets = targets.slice(0, 1);
    for (const d of targets) col.docs.delete(idKey(d._id));
    this.append(
      col,
      targets.map((d) => ({ d: d._id })),
    );
    this.emit(
      targets.map((d) => ({
        collection: name,
        docId: idKey(d._id),
        before: d,
        after: null,
        kind: 'remove' as const,
      })),
    );
    return targets.length;
  }

  /** Flushes journals to disk and releases the data dir. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const col of this.cols.values()) {
      if (col.fd >= 0) {
        try {
          fs.fsyncSync(col.fd);
        } finally {
          fs.closeSync(col.fd);
          col.fd = -1;
        }
      }
    }
    this.listeners.clear();
    heldDirs.delete(this.dir);
    try {
      fs.unlinkSync(path.join(this.dir, 'LOCK'));
    } catch {
      // already gone
    }
  }
}

/**
 * The document store behind the database actions: one in-memory Map per collection, persisted by its
 * journal (journal.ts). Every operation is synchronous, so two writes can never interleave: a
 * conditional update is a true compare-and-set without any extra locking. Update operators live in
 * update.ts, what the parts share in model.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Query, find } from 'mingo';
import { type Doc, stringifyEJSON } from './ejson';
import { Journal, intent, lockDataDir, unlockDataDir } from './journal';
import {
  type BatchWrite,
  type ChangeEvent,
  DbError,
  type FindOptions,
  idKey,
  newDocId,
  withIdFirst,
} from './model';
import { applyModifier, normalizeModifier } from './update';

export { DbError, type ChangeEvent, type FindOptions } from './model';

interface Collection {
  name: string;
  docs: Map<string, Doc>;
  journal: Journal;
}

const COLLECTION_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

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
    lockDataDir(resolved);
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
    const { journal, docs } = Journal.load(file, (w) => this.log(`[store] ${name}: ${w}`));
    this.cols.set(name, { name, docs, journal });
  }

  private append(col: Collection, records: ({ p: Doc } | { d: unknown })[]): void {
    col.journal.append(records, col.docs);
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
    const journal = Journal.create(path.join(this.dir, `${name}.jsonl`));
    this.cols.set(name, { name, docs: new Map(), journal });
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
    intent.write(this.dir, writes);
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
    for (const col of new Set(writes.map((w) => this.col(w.collection)))) col.journal.sync();
    intent.clear(this.dir);
    this.emit(events);
  }

  private replayIntent(): void {
    const writes = intent.read(this.dir);
    if (!writes) return;
    this.log(`[store] replaying an interrupted transaction commit (${writes.length} writes)`);
    this.applyBatch(writes.filter((w) => this.cols.has(w.collection)));
    intent.clear(this.dir);
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
    for (const col of this.cols.values()) col.journal.close();
    this.listeners.clear();
    unlockDataDir(this.dir);
  }
}

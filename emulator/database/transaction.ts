/**
 * Database transactions as CloudBase documents them (快照隔离): reads inside a transaction see the documents as they
 * were when it started (plus its own writes); a write locks the document, so another transaction's write to it fails
 * at once with DATABASE_TRANSACTION_CONFLICT and an ordinary write waits until the lock is released; commit writes
 * the whole write set atomically (Store.applyBatch). Only single-document operations (doc / add) take part, as in
 * the cloud. node-sdk sends them as the ordinary database actions plus `transactionId`.
 */
import { randomBytes } from 'node:crypto';
import { find } from 'mingo';
import { type Doc, stringifyEJSON } from './ejson';
import { type BatchWrite, type ChangeEvent, DbError, newDocId, withIdFirst } from './model';
import type { Store } from './store';
import { applyModifier, normalizeModifier } from './update';

/** How long an uncommitted transaction lives before it is rolled back and its locks released. */
const TRANSACTION_LIFETIME_MS = 30_000;

interface Write {
  collection: string;
  id: unknown;
  after: Doc | null;
  replace: boolean;
}

interface Tx {
  id: string;
  /** Documents as they were at start, captured when someone else changes them afterwards. */
  snapshot: Map<string, Doc | null>;
  writes: Map<string, Write>;
  timer: NodeJS.Timeout;
  done: Promise<void>;
  finish: () => void;
}

const keyOf = (collection: string, id: unknown): string =>
  `${collection}\u0000${typeof id === 'string' ? id : JSON.stringify(id)}`;

export class TransactionManager {
  private readonly txs = new Map<string, Tx>();
  /** document key → id of the transaction holding its lock. */
  private readonly locks = new Map<string, string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly lifetimeMs = TRANSACTION_LIFETIME_MS,
  ) {
    this.unsubscribe = store.onChange((e) => this.capture(e));
  }

  private capture(e: ChangeEvent): void {
    const key = keyOf(e.collection, e.before?._id ?? e.after?._id ?? e.docId);
    for (const tx of this.txs.values()) {
      if (!tx.snapshot.has(key) && !tx.writes.has(key)) tx.snapshot.set(key, e.before);
    }
  }

  start(): string {
    const id = randomBytes(12).toString('hex');
    let finish = (): void => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(() => {
      this.log(`transaction ${id} rolled back: not committed within ${this.lifetimeMs} ms`);
      this.end(id);
    }, this.lifetimeMs);
    timer.unref();
    this.txs.set(id, { id, snapshot: new Map(), writes: new Map(), timer, done, finish });
    return id;
  }

  private tx(id: unknown): Tx {
    const tx = typeof id === 'string' ? this.txs.get(id) : undefined;
    if (!tx) {
      throw new DbError(
        'DATABASE_REQUEST_FAILED',
        `transaction ${String(id)} does not exist (committed, rolled back, or expired after ${this.lifetimeMs / 1000} s)`,
      );
    }
    return tx;
  }

  private end(id: string): Tx | undefined {
    const tx = this.txs.get(id);
    if (!tx) return undefined;
    clearTimeout(tx.timer);
    this.txs.delete(id);
    for (const key of tx.writes.keys()) if (this.locks.get(key) === id) this.locks.delete(key);
    tx.finish();
    return tx;
  }

  /** The document as this transaction sees it (null = absent). */
  private read(tx: Tx, collection: string, id: unknown): Doc | null {
    const key = keyOf(collection, id);
    const own = tx.writes.get(key);
    if (own) return own.after;
    if (tx.snapshot.has(key)) return tx.snapshot.get(key) ?? null;
    return this.store.get(collection, id) ?? null;
  }

  private write(tx: Tx, collection: string, id: unknown, after: Doc | null, replace = false): void {
    const key = keyOf(collection, id);
    const holder = this.locks.get(key);
    // Locked by another transaction, or changed by someone else since this one started: a write-write conflict.
    const changedSinceStart = tx.snapshot.has(key) && !tx.writes.has(key);
    if ((holder && holder !== tx.id) || changedSinceStart) {
      throw new DbError(
        'DATABASE_TRANSACTION_CONFLICT',
        `database transaction conflict: document ${String(id)} of ${collection} is being written by another transaction`,
      );
    }
    this.locks.set(key, tx.id);
    tx.writes.set(key, { collection, id, after, replace });
  }

  get(txId: unknown, collection: string, query: Doc, projection?: Doc): Doc[] {
    const tx = this.tx(txId);
    this.store.assertCollection(collection);
    const id = query._id;
    if ((typeof id !== 'string' && typeof id !== 'number') || Object.keys(query).length !== 1) {
      throw new DbError(
        'INVALID_PARAM',
        'a transaction supports single-document operations only (collection.doc / collection.add), not where()',
      );
    }
    const doc = this.read(tx, collection, id);
    if (!doc) return [];
    if (!projection || !Object.keys(projection).length) return [doc];
    return find([doc], {}, projection).all() as Doc[];
  }

  insert(txId: unknown, collection: string, docs: Doc[]): unknown[] {
    const tx = this.tx(txId);
    this.store.assertCollection(collection);
    return docs.map((d) => {
      const id = d._id === undefined || d._id === null ? newDocId() : d._id;
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new DbError('INVALID_PARAM', '_id must be a string');
      if (this.read(tx, collection, id)) {
        throw new DbError(
          'DATABASE_REQUEST_FAILED',
          `[FailedOperation] E11000 duplicate key error collection: ${collection} index: _id_ dup key: { _id: ${JSON.stringify(id)} }`,
        );
      }
      this.write(tx, collection, id, withIdFirst(id, d));
      return id;
    });
  }

  update(txId: unknown, collection: string, id: unknown, modifier: Doc): number {
    const tx = this.tx(txId);
    this.store.assertCollection(collection);
    const mod = normalizeModifier(modifier);
    const before = this.read(tx, collection, id);
    if (!before) return 0;
    const after = applyModifier(before, mod);
    if (!after) return 0;
    this.write(tx, collection, id, after);
    return 1;
  }

  set(
    txId: unknown,
    collection: string,
    id: unknown,
    data: Doc,
  ): { updated: number; upsertedId?: unknown } {
    const tx = this.tx(txId);
    this.store.assertCollection(collection);
    if (Object.keys(data).some((k) => k.startsWith('$')))
      throw new DbError('INVALID_PARAM', 'set data must not contain update operators');
    const before = this.read(tx, collection, id);
    const after = withIdFirst(id, data);
    if (before && stringifyEJSON(before) === stringifyEJSON(after)) return { updated: 0 };
    this.write(tx, collection, id, after, Boolean(before));
    return before ? { updated: 1 } : { updated: 0, upsertedId: id };
  }

  remove(txId: unknown, collection: string, id: unknown): number {
    const tx = this.tx(txId);
    this.store.assertCollection(collection);
    if (!this.read(tx, collection, id)) return 0;
    this.write(tx, collection, id, null);
    return 1;
  }

  commit(txId: unknown): void {
    const tx = this.tx(txId);
    const writes: BatchWrite[] = [...tx.writes.values()].map((w) => ({
      collection: w.collection,
      id: w.id,
      after: w.after,
      replace: w.replace,
    }));
    this.end(tx.id);
    this.store.applyBatch(writes);
  }

  abort(txId: unknown): void {
    this.end(this.tx(txId).id);
  }

  /**
   * Runs `act` once none of the documents `targets()` names is locked by a transaction (ordinary writes wait for the
   * lock, as in the cloud). Check and act run in one synchronous step, so no lock can slip in between.
   */
  async whenUnlocked<T>(collection: string, targets: () => unknown[], act: () => T): Promise<T> {
    for (;;) {
      // No lock anywhere (the usual case): finding the targets would only cost a query.
      if (this.locks.size === 0) return act();
      const holder = targets()
        .map((id) => this.locks.get(keyOf(collection, id)))
        .find((h): h is string => h !== undefined);
      const tx = holder ? this.txs.get(holder) : undefined;
      if (!tx) return act();
      await tx.done;
    }
  }

  active(): number {
    return this.txs.size;
  }

  close(): void {
    for (const id of [...this.txs.keys()]) this.end(id);
    this.unsubscribe();
  }
}

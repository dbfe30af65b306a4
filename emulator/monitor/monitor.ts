/**
 * What the local stack does, as it happens: function invocations, the database actions each one made,
 * the functions' output lines and subscription-message sends. One generic observation interface for tools
 * (the product's console, the benchmark): subscribe with `on`, read the recent past with `recent`, and the
 * per-invocation database counts with `invocation`. Knows nothing of any product.
 */
import { EventEmitter } from 'node:events';
import type { InvokeSource } from '../functions/pool';

/** How a database action counts: reads and writes are told apart explicitly (the bench relies on it). */
export type DbOpKind = 'read' | 'write' | 'admin';

const DB_OP_KINDS: Record<string, DbOpKind> = {
  'database.getDocument': 'read',
  'database.queryDocument': 'read',
  'database.calculateDocument': 'read',
  'database.countDocument': 'read',
  'database.insertDocument': 'write',
  'database.addDocument': 'write',
  'database.modifyDocument': 'write',
  'database.updateDocument': 'write',
  'database.setDocument': 'write',
  'database.modifyAndReturnDoc': 'write',
  'database.removeDocument': 'write',
  'database.deleteDocument': 'write',
  'database.aggregateDocuments': 'read',
  'database.aggregate': 'read',
  // A transaction's own reads and writes go through the actions above; these only open and close it.
  'database.startTransaction': 'admin',
  'database.commitTransaction': 'admin',
  'database.abortTransaction': 'admin',
  'database.addCollection': 'admin',
  'database.createCollection': 'admin',
};

/** The kind of a `database.*` admin action; undefined for anything that is not a database action. */
export function dbOpKind(action: string): DbOpKind | undefined {
  return DB_OP_KINDS[action] ?? (action.startsWith('database.') ? 'admin' : undefined);
}

export interface InvocationStarted {
  type: 'invocation.started';
  seq: number;
  at: number;
  invocationId: string;
  fn: string;
  source: InvokeSource;
  openid?: string;
}

/** The same invocation at its end: who it was (as at its start), plus how it went. */
export interface InvocationFinished extends Omit<InvocationStarted, 'type'> {
  type: 'invocation.finished';
  /** From the invocation's arrival to its answer, a wait for a free instance or a cold start included. */
  durationMs: number;
  /** Inside the instance only: what the cloud bills. */
  runMs: number;
  ok: boolean;
  /** 0 on success, else the cloud's callFunction error code (-504002 error, -504003 timeout, ...). */
  code: number;
  /** ok, error, timeout, crash, not-found, closed */
  outcome: string;
  reads: number;
  writes: number;
}

export interface DbAction {
  type: 'db';
  seq: number;
  at: number;
  /** The invocation whose SDK made the call; null for callers outside a function (scripts, tests). */
  invocationId: string | null;
  fn: string | null;
  action: string;
  op: DbOpKind;
  collection: string;
  durationMs: number;
  /** 'OK' or the tcb error code answered (e.g. DATABASE_REQUEST_FAILED). */
  code: string;
}

export interface FunctionLogLine {
  type: 'log';
  seq: number;
  at: number;
  fn: string;
  /** The invocation the instance served last (output may trail the result slightly). */
  invocationId: string | null;
  line: string;
}

export interface MessageSent {
  type: 'message';
  seq: number;
  at: number;
  invocationId: string | null;
  fn: string | null;
  api: string;
  touser: string;
  templateId: string;
  /** WeChat's answer code: 0 = sent. */
  errcode: number;
  errmsg: string;
}

export type MonitorEvent =
  InvocationStarted | InvocationFinished | DbAction | FunctionLogLine | MessageSent;

type Omitted<E> = E extends MonitorEvent ? Omit<E, 'seq' | 'at'> & { at?: number } : never;

/** Per-invocation record: who, how long, and how many database reads and writes it made. */
export interface InvocationRecord {
  invocationId: string;
  fn: string;
  source: InvokeSource;
  openid?: string;
  startedAt: number;
  durationMs: number | null;
  ok: boolean | null;
  code: number | null;
  reads: number;
  writes: number;
  admin: number;
}

export interface MonitorOptions {
  /** Events kept for `recent()` (at least this many, up to a quarter more); default 5000. */
  keep?: number;
  /** Invocation records kept; default 5000. */
  keepInvocations?: number;
}

export class Monitor {
  private readonly emitter = new EventEmitter();
  private readonly events: MonitorEvent[] = [];
  private readonly records = new Map<string, InvocationRecord>();
  private readonly keep: number;
  private readonly keepInvocations: number;
  private seq = 0;

  constructor(opts: MonitorOptions = {}) {
    this.keep = opts.keep ?? 5000;
    this.keepInvocations = opts.keepInvocations ?? 5000;
    // Any number of tools may listen.
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to every event; answers the unsubscribe. A throwing listener never breaks the stack. */
  on(listener: (e: MonitorEvent) => void): () => void {
    const safe = (e: MonitorEvent) => {
      try {
        listener(e);
      } catch {
        // observers must not break what they observe
      }
    };
    this.emitter.on('event', safe);
    return () => this.emitter.off('event', safe);
  }

  /** Events still kept, oldest first (only those after `afterSeq` when given). */
  recent(afterSeq = 0): MonitorEvent[] {
    return afterSeq ? this.events.filter((e) => e.seq > afterSeq) : [...this.events];
  }

  invocation(id: string): InvocationRecord | undefined {
    const r = this.records.get(id);
    return r ? { ...r } : undefined;
  }

  /** Invocation records still kept, oldest first. */
  invocations(): InvocationRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  record(input: Omitted<MonitorEvent>): MonitorEvent {
    const e = { ...input, seq: ++this.seq, at: input.at ?? Date.now() } as MonitorEvent;
    this.track(e);
    this.events.push(e);
    // Trimmed in batches: a splice at the head of a full buffer on every event moves it all each time.
    if (this.events.length > this.keep + (this.keep >> 2)) {
      this.events.splice(0, this.events.length - this.keep);
    }
    this.emitter.emit('event', e);
    return e;
  }

  private track(e: MonitorEvent): void {
    if (e.type === 'invocation.started') {
      this.records.set(e.invocationId, {
        invocationId: e.invocationId,
        fn: e.fn,
        source: e.source,
        ...(e.openid ? { openid: e.openid } : {}),
        startedAt: e.at,
        durationMs: null,
        ok: null,
        code: null,
        reads: 0,
        writes: 0,
        admin: 0,
      });
      for (const id of this.records.keys()) {
        if (this.records.size <= this.keepInvocations) break;
        this.records.delete(id);
      }
      return;
    }
    const r = 'invocationId' in e && e.invocationId ? this.records.get(e.invocationId) : undefined;
    if (!r) return;
    if (e.type === 'db') {
      if (e.op === 'read') r.reads++;
      else if (e.op === 'write') r.writes++;
      else r.admin++;
      e.fn = r.fn;
    } else if (e.type === 'message') {
      e.fn = r.fn;
    } else if (e.type === 'invocation.finished') {
      r.durationMs = e.durationMs;
      r.ok = e.ok;
      r.code = e.code;
      e.reads = r.reads;
      e.writes = r.writes;
    }
  }

  invocationStarted(f: Omit<InvocationStarted, 'type' | 'seq' | 'at'>): void {
    this.record({ type: 'invocation.started', ...f });
  }

  /** Fills in the invocation's database counts. */
  invocationFinished(
    f: Omit<InvocationFinished, 'type' | 'seq' | 'at' | 'reads' | 'writes'>,
  ): void {
    this.record({ type: 'invocation.finished', ...f, reads: 0, writes: 0 });
  }

  /** The invocation an SDK request belongs to, from its `seqId` (`<TCB_SEQID>-<eventId>`). */
  invocationOfSeqId(seqId: string | null | undefined): string | null {
    // node-sdk sends the invocation's TCB_SEQID and a suffix; tcb-admin-node appends a timestamp.
    const id = /^[0-9a-f]{16}/.exec(seqId ?? '')?.[0] ?? '';
    return this.records.has(id) ? id : null;
  }
}

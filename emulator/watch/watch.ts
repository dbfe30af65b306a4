/**
 * Live document watch for the local client (`/_watch?openid=...` over WebSocket), answering snapshots shaped like
 * wx.cloud's `watch` (`{id, type?, docChanges, docs}`). Each collection's client read rule is applied
 * (`ClientReadRules`): by default `doc._openid == auth.openid`, every query ANDed with the
 * connection's openid; a collection whose rule lets any signed-in user read (`auth.openid != null`,
 * a document of no one's, such as a shared progress document) is watched as asked.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Query } from 'mingo';
import { WebSocketServer, type WebSocket } from 'ws';
import { type Doc, isPlainObject, stringifyEJSON } from '../database/ejson';
import type { ChangeEvent, Store } from '../database/store';
import { isOpenid } from '../openid';
import type { DocChange, WatchErrorCode, WatchServerMessage, WatchSnapshot } from './protocol';

export type { DocChange, WatchSnapshot } from './protocol';

const ALLOWED_OPS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);

/**
 * CloudBase's realtime limits (README.md, "Watch limits"). Defaults are the documented figures:
 * 50,000 connections per environment, 5,000 documents per watch; CloudBase documents no limit on
 * watches per client, so none by default.
 */
export interface WatchLimits {
  /** WebSocket connections (clients) at once, per environment. */
  maxConnections: number;
  /** Watches at once on one client connection. */
  maxWatchesPerConnection: number;
  /** Documents one watch may match; past it the watch errs and stops. */
  maxDocsPerWatch: number;
}

export const DOCUMENTED_WATCH_LIMITS: WatchLimits = {
  maxConnections: 50_000,
  maxWatchesPerConnection: Number.POSITIVE_INFINITY,
  maxDocsPerWatch: 5_000,
};

/** WebSocket close code for a refused connection: 1013 Try Again Later (RFC 6455 registry). */
const TRY_AGAIN_LATER = 1013;

class WatchQueryError extends Error {
  constructor(
    readonly code: WatchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Primitive = string | number | boolean | null;

function primitive(v: unknown, openid: string): Primitive {
  if (v === '{openid}') return openid;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    return v;
  throw new WatchQueryError(
    'INVALID_QUERY',
    'where values must be strings, numbers, booleans, null or operators',
  );
}

/** Plain JSON equality plus a few comparison operators; nothing that could run code. */
/**
 * Who may read a collection from the client, as its security rule says: `owner` (the rule
 * `doc._openid == auth.openid`, CloudBase's default for a user's data) or `signed-in` (`auth.openid
 * != null`). Collections not named are `owner`.
 */
export type ClientReadRules = Record<string, 'owner' | 'signed-in'>;

function buildWatchQuery(where: unknown, openid: string, rule: 'owner' | 'signed-in'): Doc {
  if (where !== undefined && !isPlainObject(where))
    throw new WatchQueryError('INVALID_QUERY', 'where must be an object');
  const out: Doc = {};
  for (const [field, value] of Object.entries(where ?? {})) {
    if (field.startsWith('$') || field === '')
      throw new WatchQueryError('INVALID_QUERY', `unsupported field ${field}`);
    if (isPlainObject(value)) {
      const ops: Doc = {};
      for (const [op, operand] of Object.entries(value)) {
        if (!ALLOWED_OPS.has(op))
          throw new WatchQueryError('INVALID_QUERY', `unsupported operator ${op}`);
        ops[op] = Array.isArray(operand)
          ? operand.map((o) => primitive(o, openid))
          : primitive(operand, openid);
      }
      out[field] = ops;
    } else {
      out[field] = primitive(value, openid);
    }
  }
  if (rule === 'signed-in') return out;
  const owner = out._openid;
  if (owner !== undefined && owner !== openid) {
    throw new WatchQueryError(
      'PERMISSION_DENIED',
      'the query does not match the security rule doc._openid == auth.openid',
    );
  }
  out._openid = openid;
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return stringifyEJSON(a) === stringifyEJSON(b);
}

/** Dotted paths changed or added, and paths removed, between two versions of a document. */
function diffDocs(before: Doc, after: Doc): { updatedFields: Doc; removedFields: string[] } {
  const updatedFields: Doc = {};
  const removedFields: string[] = [];
  const walk = (a: Doc, b: Doc, prefix: string): void => {
    for (const [k, v] of Object.entries(b)) {
      const p = prefix + k;
      const old = a[k];
      if (!(k in a)) updatedFields[p] = v;
      else if (isPlainObject(old) && isPlainObject(v)) walk(old, v, `${p}.`);
      else if (!same(old, v)) updatedFields[p] = v;
    }
    for (const k of Object.keys(a)) if (!(k in b)) removedFields.push(prefix + k);
  };
  walk(before, after, '');
  return { updatedFields, removedFields };
}

/** One client's WebSocket and its watches. */
interface Connection {
  socket: WebSocket;
  openid: string;
  mine: Map<string, Watch>;
}

interface Watch {
  watchId: string;
  /** Its connection's own watches (a watch over its document limit is removed from them). */
  mine: Map<string, Watch>;
  collection: string;
  criteria: Doc;
  query: Query;
  nextId: number;
  socket: WebSocket;
  openid: string;
}

/** Snapshots sent to one openid's watches: `init` answers a subscription, `change` is pushed on a write. */
export interface WatchPushes {
  init: number;
  change: number;
}

export class WatchServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly byCollection = new Map<string, Set<Watch>>();
  private readonly unsubscribe: () => void;
  private readonly sent = new Map<string, WatchPushes>();
  /** Open connections and their user. */
  private readonly sockets = new Map<WebSocket, string>();
  private readonly limits: WatchLimits;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    limits: Partial<WatchLimits> = {},
    private readonly readRules: ClientReadRules = {},
  ) {
    this.limits = { ...DOCUMENTED_WATCH_LIMITS, ...limits };
    this.unsubscribe = store.onChange((e) => this.onChange(e));
    this.wss.on('connection', (socket: WebSocket, openid: string) =>
      this.onConnection(socket, openid),
    );
  }

  /** Takes over an HTTP upgrade for `/_watch?openid=...`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const openid = url.searchParams.get('openid') ?? '';
    if (!isOpenid(openid)) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"openid required"}',
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, openid));
  }

  private send(socket: WebSocket, msg: WatchServerMessage): void {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  }

  private push(w: Watch, snapshot: WatchSnapshot): void {
    if (w.socket.readyState !== w.socket.OPEN) return;
    const counts = this.sent.get(w.openid) ?? { init: 0, change: 0 };
    if (snapshot.type === 'init') counts.init++;
    else counts.change++;
    this.sent.set(w.openid, counts);
    this.send(w.socket, { op: 'snapshot', watchId: w.watchId, snapshot });
  }

  /** Snapshots sent so far, per openid (what a tool counts as the watch's pushes). */
  pushes(): Record<string, WatchPushes> {
    return Object.fromEntries([...this.sent].map(([openid, c]) => [openid, { ...c }]));
  }

  /** Connections and watches open now. */
  count(): { connections: number; watches: number } {
    let watches = 0;
    for (const set of this.byCollection.values()) watches += set.size;
    return { connections: this.sockets.size, watches };
  }

  /**
   * Cuts the connections of `openid` (every user's when omitted) as a lost network would: no close
   * frame, the client sees the socket end (tests of a client's fallback). Answers how many were cut.
   */
  drop(openid?: string): number {
    let n = 0;
    for (const [socket, owner] of this.sockets) {
      if (openid !== undefined && owner !== openid) continue;
      socket.terminate();
      n++;
    }
    return n;
  }

  private stop(w: Watch): void {
    w.mine.delete(w.watchId);
    this.byCollection.get(w.collection)?.delete(w);
  }

  /** Ends a watch with an error the client reads (its other watches go on). */
  private fail(w: Watch, code: WatchErrorCode, message: string): void {
    this.stop(w);
    this.send(w.socket, { op: 'error', watchId: w.watchId, error: { code, message } });
  }

  private onConnection(socket: WebSocket, openid: string): void {
    if (this.sockets.size >= this.limits.maxConnections) {
      const message = `realtime connections limit reached (${this.limits.maxConnections} per environment)`;
      this.log(`[watch] connection of ${openid} refused: ${message}`);
      this.send(socket, {
        op: 'error',
        watchId: null,
        error: { code: 'TOO_MANY_CONNECTIONS', message },
      });
      socket.close(TRY_AGAIN_LATER, 'too many realtime connections');
      return;
    }
    this.sockets.set(socket, openid);
    const conn: Connection = { socket, openid, mine: new Map() };
    socket.on('message', (data) => this.onMessage(conn, String(data)));
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const w of [...conn.mine.values()]) this.stop(w);
    });
    socket.on('error', (e) => this.log(`[watch] socket error: ${e.message}`));
  }

  /** One client message: start a watch or close one. */
  private onMessage(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text) as unknown;
    } catch {
      const error = { code: 'INVALID_MESSAGE' as const, message: 'not JSON' };
      this.send(conn.socket, { op: 'error', watchId: null, error });
      return;
    }
    if (!isPlainObject(msg)) return;
    const watchId = typeof msg.watchId === 'string' ? msg.watchId : '';
    if (msg.op === 'close') {
      const w = conn.mine.get(watchId);
      if (w) this.stop(w);
      return;
    }
    try {
      if (msg.op !== 'watch') throw new WatchQueryError('INVALID_MESSAGE', 'unknown op');
      this.start(conn, watchId, msg.collection, msg.where);
    } catch (e) {
      const code: WatchErrorCode = e instanceof WatchQueryError ? e.code : 'INTERNAL';
      const error = { code, message: (e as Error).message };
      this.send(conn.socket, { op: 'error', watchId, error });
    }
  }

  /** Starts a watch (within the connection's limit) and sends its first snapshot. */
  private start(conn: Connection, watchId: string, collection: unknown, where: unknown): void {
    const { mine, socket, openid } = conn;
    if (!watchId)
      throw new WatchQueryError('INVALID_MESSAGE', 'watchId must be a non-empty string');
    if (mine.has(watchId))
      throw new WatchQueryError('INVALID_MESSAGE', `watchId ${watchId} is already in use`);
    if (mine.size >= this.limits.maxWatchesPerConnection) {
      throw new WatchQueryError(
        'TOO_MANY_WATCHES',
        `realtime watches limit reached (${this.limits.maxWatchesPerConnection} per client connection)`,
      );
    }
    if (typeof collection !== 'string' || !this.store.has(collection)) {
      throw new WatchQueryError(
        'COLLECTION_NOT_EXIST',
        `collection ${String(collection)} does not exist`,
      );
    }
    const criteria = buildWatchQuery(where, openid, this.readRules[collection] ?? 'owner');
    const w: Watch = {
      watchId,
      mine,
      collection,
      criteria,
      query: new Query(criteria),
      nextId: 0,
      socket,
      openid,
    };
    mine.set(watchId, w);
    let set = this.byCollection.get(collection);
    if (!set) this.byCollection.set(collection, (set = new Set()));
    set.add(w);
    const docs = this.current(w);
    if (!docs) return;
    const docChanges = docs.map((doc): DocChange => ({
      id: 0,
      dataType: 'init',
      queueType: 'init',
      docId: String(doc._id),
      doc,
    }));
    this.push(w, { id: 0, type: 'init', docChanges, docs });
  }

  /** The watch's documents, or null when they are over its limit (the watch has then failed). */
  private current(w: Watch): Doc[] | null {
    const max = this.limits.maxDocsPerWatch;
    const docs = this.store.find(w.collection, w.criteria, { limit: max + 1 });
    if (docs.length <= max) return docs;
    // As CloudBase: 一次监听的记录数上限为 5000，若超出上限会抛错并停止监听.
    this.fail(w, 'TOO_MANY_DOCS', `a watch may match at most ${max} documents`);
    return null;
  }

  private onChange(e: ChangeEvent): void {
    const watches = this.byCollection.get(e.collection);
    if (!watches?.size) return;
    for (const w of watches) {
      const was = e.before !== null && w.query.test(e.before);
      const is = e.after !== null && w.query.test(e.after);
      if (!was && !is) continue;
      let change: Omit<DocChange, 'id'>;
      if (e.before && e.after) {
        const diff = diffDocs(e.before, e.after);
        change = {
          dataType: e.kind === 'replace' ? 'replace' : 'update',
          queueType: was && is ? 'update' : is ? 'enqueue' : 'dequeue',
          docId: e.docId,
          doc: e.after,
          updatedFields: diff.updatedFields,
          removedFields: diff.removedFields,
        };
      } else if (e.after) {
        change = { dataType: 'add', queueType: 'enqueue', docId: e.docId, doc: e.after };
      } else {
        change = { dataType: 'remove', queueType: 'dequeue', docId: e.docId, doc: e.before ?? {} };
      }
      const docs = this.current(w);
      if (!docs) continue;
      const id = ++w.nextId;
      const snapshot: WatchSnapshot = {
        id,
        docChanges: [{ id, ...change }],
        docs,
      };
      this.push(w, snapshot);
    }
  }

  close(): void {
    this.unsubscribe();
    this.sockets.clear();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.byCollection.clear();
  }
}

/**
 * The live watch's messages over `ws://<stack>/_watch?openid=<user>`, one JSON text per WebSocket
 * message, many watches multiplexed on one socket by `watchId`. Types only (no code, no imports), so
 * the server (watch.ts), the Node client (client.ts) and the mini-program's local service
 * (miniprogram/services/local.ts) can all import it with `import type`.
 */

/** A document as JSON (dates as ISO text). */
export type WatchDoc = Record<string, unknown>;

export type DataType = 'init' | 'update' | 'replace' | 'add' | 'remove';
export type QueueType = 'init' | 'update' | 'enqueue' | 'dequeue';

/** One change of a watched document (wx.cloud's `ISingleDBEvent`). */
export interface DocChange {
  id: number;
  dataType: DataType;
  queueType: QueueType;
  docId: string;
  doc: WatchDoc;
  /** dotted paths changed or added (updates only) */
  updatedFields?: WatchDoc;
  /** dotted paths removed (updates only) */
  removedFields?: string[];
}

/** What a watch delivers (wx.cloud's `ISnapshot`): `type: 'init'` first, then one per change. */
export interface WatchSnapshot {
  id: number;
  type?: 'init';
  docChanges: DocChange[];
  /** every matching document, after the change */
  docs: WatchDoc[];
}

// ---------------------------------------------------------------------------------------------
// client → server

/**
 * Starts a watch. `where`: field equality or `{$eq,$ne,$in,$nin,$gt,$gte,$lt,$lte,$exists}`;
 * `'{openid}'` stands for the connection's user. Always ANDed with `_openid == <user>`.
 */
export interface WatchRequest {
  op: 'watch';
  watchId: string;
  collection: string;
  where?: Record<string, unknown>;
}

export interface CloseRequest {
  op: 'close';
  watchId: string;
}

export type WatchClientMessage = WatchRequest | CloseRequest;

// ---------------------------------------------------------------------------------------------
// server → client

export interface SnapshotMessage {
  op: 'snapshot';
  watchId: string;
  snapshot: WatchSnapshot;
}

/**
 * Why a watch ended. The last three are CloudBase's realtime limits (emulator/README.md, "Watch
 * limits"): connections per environment, watches per client connection, documents per watch.
 */
export type WatchErrorCode =
  | 'INVALID_MESSAGE'
  | 'INVALID_QUERY'
  | 'PERMISSION_DENIED'
  | 'COLLECTION_NOT_EXIST'
  | 'INTERNAL'
  | 'TOO_MANY_CONNECTIONS'
  | 'TOO_MANY_WATCHES'
  | 'TOO_MANY_DOCS';

/** The watch is over. `watchId` is null when the message could not be read at all. */
export interface ErrorMessage {
  op: 'error';
  watchId: string | null;
  error: { code: WatchErrorCode; message: string };
}

export type WatchServerMessage = SnapshotMessage | ErrorMessage;

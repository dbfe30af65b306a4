/**
 * What the database's parts share: the tcb error the SDK maps to a numeric errCode, a change as the
 * watch and transactions see it, find options, a commit's writes, and document ids.
 */
import { randomBytes } from 'node:crypto';
import type { Doc } from './ejson';

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

/** One document write of a transaction commit: `after` null removes the document. */
export interface BatchWrite {
  collection: string;
  id: unknown;
  after: Doc | null;
  /** doc.set over an existing document (the watch reports `replace`). */
  replace?: boolean;
}

export function newDocId(): string {
  // CloudBase ids are 32 lowercase hex characters.
  return randomBytes(16).toString('hex');
}

export function idKey(id: unknown): string {
  return typeof id === 'string' ? id : JSON.stringify(id);
}

export function withIdFirst(id: unknown, rest: Doc): Doc {
  const out: Doc = { _id: id };
  for (const [k, v] of Object.entries(rest)) if (k !== '_id') out[k] = v;
  return out;
}

/**
 * The database's admin actions (`database.*`): documents, transactions and aggregate, as node-sdk
 * sends them (EJSON strings for query, data, projection and order).
 */
import { type Doc, isDate, isPlainObject, parseEJSON, stringifyEJSON } from './ejson';
import type { FindOptions, Store } from './store';
import { aggregateDocuments } from './aggregate';
import { type AdminAction, type AdminParams, AdminError, invalid } from '../admin/action';

function collectionName(p: AdminParams): string {
  const name = p.collectionName;
  if (typeof name !== 'string' || !name) throw invalid('collectionName must be a non-empty string');
  return name;
}

/** Decodes an EJSON parameter (the SDK sends strings; tolerate objects), resolving serverDate to `now`. */
function ejsonParam(value: unknown, what: string, now: number): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  try {
    if (typeof value === 'string') return parseEJSON(value, now);
    return parseEJSON(JSON.stringify(value), now);
  } catch (e) {
    throw invalid(`${what} is not valid EJSON: ${(e as Error).message}`);
  }
}

function queryParam(p: AdminParams, now: number): Doc {
  const q = ejsonParam(p.query, 'query', now);
  if (q === undefined) return {};
  if (!isPlainObject(q)) throw invalid('query must be an object');
  return q;
}

function dataObject(p: AdminParams, now: number): Doc {
  const d = ejsonParam(p.data, 'data', now);
  if (!isPlainObject(d)) throw invalid('data must be a non-empty object');
  return d;
}

function bool(v: unknown, fallback: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fallback;
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

function sortParam(p: AdminParams): Record<string, 1 | -1> | undefined {
  const raw = ejsonParam(p.order, 'order', Date.now());
  if (raw === undefined) return undefined;
  const sort: Record<string, 1 | -1> = {};
  // Current SDK: {field: 1|-1}; older ones sent [{field, direction: 'asc'|'desc'}].
  if (Array.isArray(raw)) {
    for (const o of raw) {
      if (isPlainObject(o) && typeof o.field === 'string')
        sort[o.field] = o.direction === 'desc' ? -1 : 1;
    }
  } else if (isPlainObject(raw)) {
    for (const [k, v] of Object.entries(raw)) sort[k] = v === -1 || v === 'desc' ? -1 : 1;
  } else {
    throw invalid('order must be an object');
  }
  return sort;
}

const addCollection: AdminAction = (p, { store }) => {
  const name = collectionName(p);
  if (!store.create(name))
    throw new AdminError(
      'DATABASE_COLLECTION_ALREADY_EXIST',
      `[ResourceExist] Table exist: ${name}`,
    );
  return {};
};

const insertDocument: AdminAction = (p, { store, transactions }) => {
  const now = Date.now();
  const name = collectionName(p);
  const items = Array.isArray(p.data) ? p.data : [p.data];
  const docs = items.map((item) => {
    const d = ejsonParam(item, 'data', now);
    if (!isPlainObject(d)) throw invalid('each document must be an object');
    return d;
  });
  if (!docs.length) throw invalid('data must not be empty');
  if (p.transactionId)
    return { data: { insertedIds: transactions.insert(p.transactionId, name, docs) } };
  return transactions.whenUnlocked(
    name,
    () => docs.map((d) => d._id).filter((id) => id !== undefined),
    () => ({ data: { insertedIds: store.insert(name, docs) } }),
  );
};

/** Ids of the documents a write would touch, for waiting on transaction locks. */
function targetIds(store: Store, name: string, query: Doc, multi: boolean): unknown[] {
  if (!store.has(name)) return [];
  const opts: FindOptions = { projection: { _id: 1 } };
  if (!multi) opts.limit = 1;
  return store.find(name, query, opts).map((d) => d._id);
}

const getDocument: AdminAction = (p, { store, transactions }) => {
  const now = Date.now();
  const name = collectionName(p);
  if (p.transactionId) {
    const projection = ejsonParam(p.projection, 'projection', now);
    const docs = transactions.get(
      p.transactionId,
      name,
      queryParam(p, now),
      isPlainObject(projection) ? projection : undefined,
    );
    return { data: { list: docs.map((d) => stringifyEJSON(d)) } };
  }
  const requested = int(p.limit);
  // Cloud default 100, hard cap 1000.
  const limit = requested && requested > 0 ? Math.min(requested, 1000) : 100;
  const offset = Math.max(int(p.offset) ?? 0, 0);
  const projection = ejsonParam(p.projection, 'projection', now);
  const opts: FindOptions = { limit, skip: offset };
  const sort = sortParam(p);
  if (sort) opts.sort = sort;
  if (isPlainObject(projection)) opts.projection = projection;
  const docs = store.find(name, queryParam(p, now), opts);
  return { data: { list: docs.map((d) => stringifyEJSON(d)), limit, offset } };
};

const calculateDocument: AdminAction = (p, { store }) => ({
  data: { total: store.count(collectionName(p), queryParam(p, Date.now())) },
});

const modifyDocument: AdminAction = (p, { store, transactions }) => {
  const now = Date.now();
  const name = collectionName(p);
  const query = queryParam(p, now);
  const data = dataObject(p, now);
  const isDoc = p.queryType === 'DOC';
  const multi = bool(p.multi, !isDoc);
  if (p.merge === false || p.action === 'database.setDocument') {
    // doc.set(): replace or create by _id.
    const id = query._id;
    if (typeof id !== 'string' && typeof id !== 'number') throw invalid('set needs a document id');
    if (p.transactionId) {
      const r = transactions.set(p.transactionId, name, id, data);
      return { data: { updated: r.updated, upsert_id: r.upsertedId } };
    }
    return transactions.whenUnlocked(
      name,
      () => [id],
      () => {
        const r = store.set(name, id, data);
        return { data: { updated: r.updated, upsert_id: r.upsertedId } };
      },
    );
  }
  if (p.transactionId) {
    if (!isDoc || Object.keys(query).length !== 1) throw invalid(TX_SINGLE_DOC);
    return { data: { updated: transactions.update(p.transactionId, name, query._id, data) } };
  }
  return transactions.whenUnlocked(
    name,
    () => targetIds(store, name, query, multi),
    () => ({ data: { updated: store.update(name, query, data, multi).updated } }),
  );
};

const TX_SINGLE_DOC =
  'a transaction supports single-document operations only (collection.doc / collection.add), not where()';

const modifyAndReturnDoc: AdminAction = (p, { store, transactions }) => {
  const now = Date.now();
  const name = collectionName(p);
  if (p.transactionId) throw invalid(TX_SINGLE_DOC);
  const query = queryParam(p, now);
  const data = dataObject(p, now);
  return transactions.whenUnlocked(
    name,
    () => targetIds(store, name, query, false),
    () => {
      const first = store.find(name, query, { limit: 1, projection: { _id: 1 } })[0];
      if (!first) return { data: { updated: 0, doc: null } };
      const r = store.update(name, { _id: first._id }, data, false);
      const doc = store.get(name, first._id);
      return { data: { updated: r.updated, doc: doc ? stringifyEJSON(doc) : null } };
    },
  );
};

const removeDocument: AdminAction = (p, { store, transactions }) => {
  const name = collectionName(p);
  const isDoc = p.queryType === 'DOC';
  const query = queryParam(p, Date.now());
  const multi = bool(p.multi, !isDoc);
  if (p.transactionId) {
    if (!isDoc || Object.keys(query).length !== 1) throw invalid(TX_SINGLE_DOC);
    return { data: { deleted: transactions.remove(p.transactionId, name, query._id) } };
  }
  return transactions.whenUnlocked(
    name,
    () => targetIds(store, name, query, multi),
    () => ({ data: { deleted: store.remove(name, query, multi) } }),
  );
};

const startTransaction: AdminAction = (_p, { transactions }) => ({
  transactionId: transactions.start(),
});

const commitTransaction: AdminAction = (p, { transactions }) => {
  transactions.commit(p.transactionId);
  return {};
};

const abortTransaction: AdminAction = (p, { transactions }) => {
  transactions.abort(p.transactionId);
  return {};
};

const aggregate: AdminAction = (p, { store }) => ({
  data: { list: aggregateDocuments(store, collectionName(p), p.stages) },
});

/**
 * The legacy protocol: @cloudbase/database before 1.0 (tcb-admin-node, so wx-server-sdk 0.x, 1.x and
 * 2.0.x's database) names its actions `addDocument`, `queryDocument`, ... sends plain objects (a Date
 * as `{$date: ms}`, a server date as `{$date: {offset}}`) and reads plain objects back (`data._id` of
 * an add, documents in `data.list`, `upserted_id`): the same handlers, answered in its shape.
 */
function toLegacy(value: unknown): unknown {
  if (isDate(value)) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(toLegacy);
  if (isPlainObject(value)) {
    const out: Doc = {};
    for (const [k, v] of Object.entries(value)) out[k] = toLegacy(v);
    return out;
  }
  return value;
}

function legacy(action: AdminAction, answer: (data: Doc) => Doc): AdminAction {
  return async (p, ctx) => {
    const result = (await action(p, ctx)) as Doc;
    return { ...result, data: answer(isPlainObject(result.data) ? result.data : {}) };
  };
}

const legacyActions: Record<string, AdminAction> = {
  'database.addDocument': legacy(insertDocument, (d) => ({
    ...d,
    _id: Array.isArray(d.insertedIds) ? d.insertedIds[0] : undefined,
  })),
  'database.queryDocument': legacy(getDocument, (d) => ({
    ...d,
    list: (Array.isArray(d.list) ? d.list : []).map((text) => toLegacy(parseEJSON(String(text)))),
  })),
  'database.updateDocument': legacy(modifyDocument, (d) => ({
    ...d,
    upserted_id: d.upsert_id,
  })),
  'database.deleteDocument': removeDocument,
  'database.countDocument': calculateDocument,
};

/** Current node-sdk names, then the legacy ones. */
export const databaseActions: Record<string, AdminAction> = {
  'database.addCollection': addCollection,
  'database.createCollection': addCollection,
  'database.insertDocument': insertDocument,
  'database.getDocument': getDocument,
  'database.calculateDocument': calculateDocument,
  'database.modifyDocument': modifyDocument,
  'database.setDocument': modifyDocument,
  'database.modifyAndReturnDoc': modifyAndReturnDoc,
  'database.removeDocument': removeDocument,
  'database.startTransaction': startTransaction,
  'database.commitTransaction': commitTransaction,
  'database.abortTransaction': abortTransaction,
  'database.aggregateDocuments': aggregate,
  'database.aggregate': aggregate,
  ...legacyActions,
};

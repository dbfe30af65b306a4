/**
 * `database.aggregateDocuments`: node-sdk sends `stages: [{stageKey: '$match', stageValue: '<EJSON>'}]` (the
 * @cloudbase/database Aggregation class) and reads `data.list` as EJSON strings. The pipeline runs on mingo, with
 * `$lookup` resolving other collections of the store; only the stages CloudBase documents are accepted.
 */
import { Aggregator } from 'mingo';
import { type Doc, cloneDoc, isPlainObject, parseEJSON, stringifyEJSON } from './ejson';
import { DbError, type Store } from './store';

/** The aggregate stages of the CloudBase database API (Aggregate.* in the SDK). */
const AGGREGATE_STAGES = new Set([
  '$addFields',
  '$bucket',
  '$bucketAuto',
  '$count',
  '$geoNear',
  '$group',
  '$limit',
  '$match',
  '$project',
  '$lookup',
  '$replaceRoot',
  '$sample',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unwind',
]);

function decodeStages(raw: unknown, now: number): Doc[] {
  if (!Array.isArray(raw)) throw new DbError('INVALID_PARAM', 'stages must be an array');
  return raw.map((stage, i) => {
    if (!isPlainObject(stage) || typeof stage.stageKey !== 'string')
      throw new DbError('INVALID_PARAM', `stages[${i}] must be {stageKey, stageValue}`);
    const key = stage.stageKey.startsWith('$') ? stage.stageKey : `$${stage.stageKey}`;
    if (!AGGREGATE_STAGES.has(key))
      throw new DbError('INVALID_PARAM', `aggregate stage ${key} is not supported by CloudBase`);
    if (key === '$geoNear')
      throw new DbError('INVALID_PARAM', '$geoNear is not supported by the local stack');
    let value: unknown;
    try {
      value =
        typeof stage.stageValue === 'string'
          ? parseEJSON(stage.stageValue, now)
          : parseEJSON(JSON.stringify(stage.stageValue ?? null), now);
    } catch (e) {
      throw new DbError(
        'INVALID_PARAM',
        `stages[${i}] is not valid EJSON: ${(e as Error).message}`,
      );
    }
    return { [key]: value };
  });
}

export function aggregateDocuments(store: Store, collection: string, rawStages: unknown): string[] {
  const now = Date.now();
  const pipeline = decodeStages(rawStages, now);
  const docs = store.find(collection, {}).map((d) => cloneDoc(d));
  try {
    const out = new Aggregator(pipeline, {
      // $lookup's `from`: another collection (a missing one joins nothing, as in MongoDB).
      collectionResolver: (name) =>
        store.has(name) ? store.find(name, {}).map((d) => cloneDoc(d)) : [],
      // CloudBase compares values by type like MongoDB.
      useStrictMode: true,
    }).run(docs) as Doc[];
    return out.map((d) => stringifyEJSON(d));
  } catch (e) {
    throw new DbError('DATABASE_REQUEST_FAILED', `aggregate failed: ${(e as Error).message}`);
  }
}

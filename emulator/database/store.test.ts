import * as fs from 'node:fs';
import * as path from 'node:path';
import { update as mingoUpdate } from 'mingo';
import { isEqual } from 'mingo/util';
import { type ChangeEvent, DbError, Store } from './store';
import { applyModifier } from './update';
import { type Doc, cloneDoc, isPlainObject, parseEJSON, stringifyEJSON } from './ejson';
import { removeDir, tempDataDir } from '../testing';

let dir: string;
beforeEach(() => {
  dir = tempDataDir('store-test-');
});
afterEach(() => removeDir(dir));

describe('EJSON', () => {
  it('round-trips Dates, non-finite numbers and RegExps, and reads the SDK canonical form', () => {
    const value = { d: new Date(1700000000123), n: NaN, r: /ab+/i, nested: [{ x: 1.5 }] };
    expect(parseEJSON(stringifyEJSON(value))).toEqual(value);
    const sdk =
      '{"a":{"$numberInt":"1"},"b":{"$numberDouble":"1.5"},"c":{"$date":{"$numberLong":"0"}},"e":{"$numberLong":"1099511627776"}}';
    expect(parseEJSON(sdk)).toEqual({ a: 1, b: 1.5, c: new Date(0), e: 1099511627776 });
    expect(parseEJSON('{"t":{"$tcb_server_date":{"offset":{"$numberInt":"1000"}}}}', 5000)).toEqual(
      { t: new Date(6000) },
    );
  });
});

describe('Store', () => {
  it('persists across reopen, compacting the journal', () => {
    const s = Store.open(dir);
    s.create('tasks');
    s.insert('tasks', [{ _id: 'a', v: 1, at: new Date(5) }]);
    for (let i = 0; i < 10; i++) s.update('tasks', { _id: 'a' }, { $inc: { v: 1 } }, false);
    s.insert('tasks', [{ _id: 'b' }]);
    s.remove('tasks', { _id: 'b' }, false);
    s.close();
    const file = path.join(dir, 'tasks.jsonl');
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(13);
    const again = Store.open(dir);
    expect(again.find('tasks', {})).toEqual([{ _id: 'a', v: 11, at: new Date(5) }]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    again.close();
  });

  it('ignores a torn last journal line', () => {
    const s = Store.open(dir);
    s.create('tasks');
    s.insert('tasks', [{ _id: 'a', v: 1 }]);
    s.update('tasks', { _id: 'a' }, { $set: { v: 2 } }, false);
    s.close();
    fs.appendFileSync(path.join(dir, 'tasks.jsonl'), '{"p":{"_id":"a","v":{"$numberInt":"3"');
    const logs: string[] = [];
    const again = Store.open(dir, (l) => logs.push(l));
    expect(again.find('tasks', {})).toEqual([{ _id: 'a', v: 2 }]);
    expect(logs).toEqual([]);
    again.insert('tasks', [{ _id: 'c' }]);
    again.close();
    const third = Store.open(dir);
    expect(third.count('tasks', {})).toBe(2);
    third.close();
  });

  it('refuses a data dir already in use', () => {
    const s = Store.open(dir);
    expect(() => Store.open(dir)).toThrow(/already used/);
    s.close();
    Store.open(dir).close();
  });

  it('emits one change event per written document, with before and after', () => {
    const s = Store.open(dir);
    s.create('c');
    const events: ChangeEvent[] = [];
    s.onChange((e) => events.push(e));
    s.insert('c', [{ _id: 'x', v: 1 }]);
    s.update('c', { _id: 'x' }, { $set: { v: 1 } }, false); // no change, no event
    s.update('c', { _id: 'x' }, { $set: { v: 2 } }, false);
    s.set('c', 'x', { w: 1 });
    s.remove('c', {}, true);
    expect(
      events.map((e) => [
        e.kind,
        e.before?.v ?? e.before?.w ?? null,
        e.after?.v ?? e.after?.w ?? null,
      ]),
    ).toEqual([
      ['insert', null, 1],
      ['update', 1, 2],
      ['replace', 2, 1],
      ['remove', 1, null],
    ]);
    s.close();
  });

  it('rejects _id changes, unknown operators and missing collections with tcb codes', () => {
    const s = Store.open(dir);
    s.create('c');
    s.insert('c', [{ _id: 'x', v: 1 }]);
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as DbError).code;
      }
      return 'none';
    };
    expect(code(() => s.update('c', {}, { $set: { _id: 'y' } }, true))).toBe('INVALID_PARAM');
    expect(code(() => s.update('c', {}, { $where: {} }, true))).toBe('INVALID_PARAM');
    expect(code(() => s.find('missing', {}))).toBe('DATABASE_COLLECTION_NOT_EXIST');
    expect(code(() => s.insert('c', [{ _id: 'x' }]))).toBe('DATABASE_REQUEST_FAILED');
    expect(s.find('c', {})).toEqual([{ _id: 'x', v: 1 }]);
    s.close();
  });

  it('keeps a multi update all-or-nothing', () => {
    const s = Store.open(dir);
    s.create('c');
    s.insert('c', [
      { _id: 'a', v: 1 },
      { _id: 'b', v: 'text' },
    ]);
    expect(() => s.update('c', {}, { $inc: { v: 1 } }, true)).toThrow(DbError);
    expect(s.find('c', {}, { sort: { _id: 1 } }).map((d) => d.v)).toEqual([1, 'text']);
    s.close();
  });
});

describe('applyModifier: the plain-update path agrees with mingo', () => {
  // A small seeded generator, so a failure names a case that replays.
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }
  const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const FIELDS = ['a', 'b', 'c.d', 'c.e', 'f.g.h', 'list'] as const;
  const VALUES = [0, 1, 2.5, -3, 'x', '', true, null, new Date(7), { k: 1 }, [1, 2]] as const;

  function randomDoc(r: () => number): Doc {
    const doc: Doc = { _id: 'd' };
    if (r() < 0.7) doc.a = pick(r, [1, 5, 'a', null]);
    if (r() < 0.5) doc.c = r() < 0.8 ? { d: pick(r, [1, 'z']), e: 2 } : {};
    if (r() < 0.5) doc.list = [1, 2, 3].slice(0, Math.floor(r() * 4));
    return doc;
  }

  function randomModifier(r: () => number): Doc {
    const mod: Doc = {};
    const used = new Set<string>();
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
      const field = pick(r, FIELDS);
      const root = field.split('.')[0]!;
      if ([...used].some((u) => u.split('.')[0] === root)) continue;
      used.add(field);
      const op = pick(r, ['$set', '$unset', '$inc', '$push'] as const);
      const arg =
        op === '$inc'
          ? pick(r, [0, 1, -2])
          : op === '$unset'
            ? ''
            : op === '$push'
              ? r() < 0.5
                ? pick(r, VALUES)
                : { $each: [pick(r, VALUES), pick(r, VALUES)], $slice: pick(r, [-2, -1, 2, 5]) }
              : pick(r, VALUES);
      ((mod[op] ??= {}) as Doc)[field] = arg;
    }
    return Object.keys(mod).length ? mod : { $set: { a: 1 } };
  }

  /** mingo's answer, or its refusal; `$push` with `$slice` onto a missing field is left out (see below). */
  function byMingo(before: Doc, mod: Doc): Doc | null | 'refused' {
    const next = cloneDoc(before);
    try {
      // mingo calls a `$push` whose `$slice` gives back the same array a change; the document says otherwise.
      return mingoUpdate(next, mod).length && !isEqual(next, before) ? next : null;
    } catch {
      return 'refused';
    }
  }

  function byStore(before: Doc, mod: Doc): Doc | null | 'refused' {
    try {
      return applyModifier(before, mod);
    } catch {
      return 'refused';
    }
  }

  const missingSlicedPush = (before: Doc, mod: Doc): boolean =>
    Object.entries((mod.$push ?? {}) as Doc).some(
      ([field, arg]) =>
        isPlainObject(arg) &&
        '$slice' in arg &&
        field
          .split('.')
          .reduce<unknown>((cur, p) => (isPlainObject(cur) ? cur[p] : undefined), before) ===
          undefined,
    );

  it('gives the same document and the same "changed" answer on 1500 random cases', () => {
    const r = rng(20261202);
    let compared = 0;
    for (let i = 0; i < 1500; i++) {
      const before = randomDoc(r);
      const mod = randomModifier(r);
      if (missingSlicedPush(before, mod)) continue;
      const want = byMingo(before, mod);
      // Refusals come from checkUpdateTypes (MongoDB's rules), which mingo does not apply.
      const got = byStore(before, mod);
      if (got === 'refused') continue;
      expect({ i, before, mod, got }).toEqual({ i, before, mod, got: want });
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('applies $slice when $push creates the array, as MongoDB does (mingo does not)', () => {
    expect(applyModifier({ _id: 'd' }, { $push: { l: { $each: [1, 2, 3], $slice: -2 } } })).toEqual(
      {
        _id: 'd',
        l: [2, 3],
      },
    );
  });

  it('leaves the stored document untouched and reports no change when nothing differs', () => {
    const before = { _id: 'd', a: 1, c: { d: new Date(5) } };
    expect(
      applyModifier(before, { $set: { a: 1, 'c.d': new Date(5) }, $unset: { zz: '' } }),
    ).toBeNull();
    expect(before).toEqual({ _id: 'd', a: 1, c: { d: new Date(5) } });
  });
});

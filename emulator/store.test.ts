import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ChangeEvent, DbError, Store } from './store';
import { parseEJSON, stringifyEJSON } from './ejson';
import { removeDir, tempDataDir } from './testing';

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

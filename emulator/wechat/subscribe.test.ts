import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SubscriptionService, isValidKeywordValue, keywordType } from './subscribe';

describe('subscription keyword value rules', () => {
  const ok = (k: string, v: string): boolean => isValidKeywordValue(k, v);

  it('derives the type from the keyword name', () => {
    expect(keywordType('character_string12')).toBe('character_string');
    expect(keywordType('thing1')).toBe('thing');
  });

  it('thing: up to 20 characters, no newline', () => {
    expect(ok('thing1', '一二三四五六七八九十一二三四五六七八九十')).toBe(true);
    expect(ok('thing1', '一二三四五六七八九十一二三四五六七八九十一')).toBe(false);
    expect(ok('thing1', '')).toBe(false);
    expect(ok('thing1', 'a\nb')).toBe(false);
  });

  it('phrase: up to 5 Chinese characters', () => {
    expect(ok('phrase2', '已完成')).toBe(true);
    expect(ok('phrase2', '提取已经完成')).toBe(false);
    expect(ok('phrase2', 'done')).toBe(false);
  });

  it('character_string, number, letter, symbol', () => {
    expect(ok('character_string3', 'ERR_42-x/y')).toBe(true);
    expect(ok('character_string3', '中文')).toBe(false);
    expect(ok('character_string3', 'a'.repeat(33))).toBe(false);
    expect(ok('number4', '3.5')).toBe(true);
    expect(ok('number4', '1e5')).toBe(false);
    expect(ok('letter5', 'abc')).toBe(true);
    expect(ok('letter5', 'ab1')).toBe(false);
    expect(ok('symbol6', '%')).toBe(true);
    expect(ok('symbol6', 'a')).toBe(false);
  });

  it('time and date: 24h time, a date (Chinese, dashes or slashes), or both, optionally a range', () => {
    for (const v of [
      '15:01',
      '2019年10月1日 15:01',
      '2019年10月1日',
      '2019年10月1日 15:01 ~ 2019年10月1日 16:01',
      // WeChat DevTools' own openapi template, and toLocaleString('zh-CN') (issue 26).
      '2020-01-01 00:00',
      '2019-10-01',
      '2026/12/6 19:13:14',
      '2026/12/6 19:13 ~ 2026/12/7 08:00',
    ]) {
      expect(ok('time1', v)).toBe(true);
      expect(ok('date1', v)).toBe(true);
    }
    for (const v of ['3pm', '2019年10月1日\n15:01', '2019.10.01', '19-10-01', '2019-10/01'])
      expect(ok('time1', v)).toBe(false);
  });

  it('amount, name, phone_number, car_number', () => {
    expect(ok('amount1', '¥12.50元')).toBe(true);
    expect(ok('amount1', 'twelve')).toBe(false);
    expect(ok('name1', '张三')).toBe(true);
    expect(ok('name1', '一二三四五六七八九十一')).toBe(false);
    expect(ok('phone_number1', '+86 (10) 1234-567')).toBe(true);
    expect(ok('car_number1', '粤A12345')).toBe(true);
    expect(ok('car_number1', '粤A123456789')).toBe(false);
  });
});

describe('grant counts on disk', () => {
  const templates = [{ id: 'tpl', keywords: ['thing1'] }];
  const message = { touser: 'u1', template_id: 'tpl', data: { thing1: { value: '好了' } } };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grants-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('survive a restart after grants and sends, and a torn last line', () => {
    const first = new SubscriptionService(dir, templates, () => {});
    first.grant('u1', ['tpl']);
    first.grant('u1', ['tpl']);
    first.grant('u2', ['tpl']);
    expect(first.send(message).errcode).toBe(0);
    fs.appendFileSync(path.join(dir, 'grants.jsonl'), '{"o":"u2","t":"tp');
    const second = new SubscriptionService(dir, templates, () => {});
    expect(second.grantsAll()).toEqual({ u1: { tpl: 1 }, u2: { tpl: 1 } });
    // Compacted on open: the journal is folded into the snapshot.
    expect(fs.readFileSync(path.join(dir, 'grants.jsonl'), 'utf8')).toBe('');
    expect(second.send(message).errcode).toBe(0);
    expect(second.send(message).errcode).toBe(43101);
    expect(new SubscriptionService(dir, templates, () => {}).grantsOf('u1')).toEqual({ tpl: 0 });
  });
});

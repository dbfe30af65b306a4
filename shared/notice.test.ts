import {
  DEFAULT_FAILURE_REASON,
  DEFAULT_NOTICE_TITLE,
  FAILURE_NOTE,
  NOTICE_PAGE,
  NOTICE_REASONS,
  SUCCESS_NOTE,
  buildNotice,
  fitKeywordValue,
  formatShanghaiTime,
  parseTemplateKeys,
  type NoticeInput,
  type NoticeTemplate,
} from './notice';
import { FAILURE_CODES } from './errors';

const codePoints = (s: string) => Array.from(s).length;

const SUCCESS_TEMPLATE: NoticeTemplate = {
  id: 'tmpl_success_0001',
  keys: { title: 'thing1', status: 'phrase2', time: 'time3', note: 'thing4' },
};
const FAILURE_TEMPLATE: NoticeTemplate = {
  id: 'tmpl_failure_0002',
  keys: { title: 'thing1', status: 'phrase2', time: 'time3', reason: 'thing5' },
};

const input = (overrides: Partial<NoticeInput> = {}): NoticeInput => ({
  kind: 'success',
  taskId: '0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10',
  openid: 'oUser_abc123',
  title: '小猫的作品',
  finishedAt: new Date('2026-11-28T07:01:30Z'),
  ...overrides,
});

describe('formatShanghaiTime', () => {
  it.each([
    ['2026-11-28T07:01:30Z', '2026年11月28日 15:01'],
    // Across midnight UTC: already the next day in Shanghai.
    ['2026-11-28T16:30:00Z', '2026年11月29日 00:30'],
    ['2026-12-31T16:00:00Z', '2027年1月1日 00:00'],
    ['2026-12-31T15:59:59.999Z', '2026年12月31日 23:59'],
    ['2028-02-28T16:05:00Z', '2028年2月29日 00:05'],
    ['2019-10-01T07:01:00Z', '2019年10月1日 15:01'],
  ])('%s → %s', (iso, expected) => {
    expect(formatShanghaiTime(new Date(iso))).toBe(expected);
  });

  it('does not move with daylight saving elsewhere (same offset in July and January)', () => {
    expect(formatShanghaiTime(new Date('2026-07-01T00:00:00Z'))).toBe('2026年7月1日 08:00');
    expect(formatShanghaiTime(new Date('2026-01-01T00:00:00Z'))).toBe('2026年1月1日 08:00');
  });

  it('throws on an invalid date', () => {
    expect(() => formatShanghaiTime(new Date('not a date'))).toThrow(RangeError);
  });
});

describe('fitKeywordValue', () => {
  it('drops bidi controls from every value (a U+202E would reverse the notice on the phone)', () => {
    expect(fitKeywordValue('thing1', '\u202e4pm.exe\u202c 小猫')).toBe('4pm.exe 小猫');
    expect(fitKeywordValue('phrase2', '已\u2066完成')).toBe('已完成');
  });

  describe('thing (≤ 20 characters)', () => {
    it('keeps a value of exactly 20 characters', () => {
      const v = '一二三四五六七八九十一二三四五六七八九十';
      expect(codePoints(v)).toBe(20);
      expect(fitKeywordValue('thing1', v)).toBe(v);
    });

    it('cuts a longer one to 19 characters and an ellipsis', () => {
      const v = '一二三四五六七八九十一二三四五六七八九十一';
      const fitted = fitKeywordValue('thing1', v);
      expect(fitted).toBe('一二三四五六七八九十一二三四五六七八九…');
      expect(codePoints(fitted)).toBe(20);
    });

    it('counts an emoji as one character and never splits it at the cut', () => {
      const v = '一二三四五六七八九十一二三四五六七八😀😀😀';
      expect(codePoints(v)).toBe(21);
      const fitted = fitKeywordValue('thing1', v);
      expect(fitted).toBe('一二三四五六七八九十一二三四五六七八😀…');
      expect(codePoints(fitted)).toBe(20);
      expect(fitted).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      // 20 emoji fit as they are, though they are 40 UTF-16 units.
      expect(fitKeywordValue('thing1', '😀'.repeat(20))).toBe('😀'.repeat(20));
    });

    it('leaves no dangling joiner when a ZWJ sequence is cut', () => {
      const family = '👨\u200d👩\u200d👧';
      const v = 'a'.repeat(17) + family; // the 19th code point is a joiner
      const fitted = fitKeywordValue('thing1', v);
      expect(fitted).toBe('a'.repeat(17) + '👨…');
    });

    it('replaces newlines and control characters and collapses whitespace', () => {
      expect(fitKeywordValue('thing4', ' 第一行\n第二行\r\n\t第三行\u0000结束\u2028! ')).toBe(
        '第一行 第二行 第三行 结束 !',
      );
    });

    it('never answers empty', () => {
      expect(fitKeywordValue('thing1', '')).toBe('无');
      expect(fitKeywordValue('thing1', ' \n\t ')).toBe('无');
    });
  });

  describe('phrase (≤ 5 Chinese characters)', () => {
    it.each([
      ['已完成', '已完成'],
      ['失败', '失败'],
      ['处理中请稍候', '处理中请稍'],
      ['OK 完成!', '完成'],
      ['done', '无'],
    ])('%j → %j', (value, expected) => {
      expect(fitKeywordValue('phrase2', value)).toBe(expected);
    });
  });

  describe('character_string (≤ 32 letters, digits, symbols)', () => {
    it('cuts plainly at 32 and drops what is not ASCII', () => {
      const uuid = '0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10';
      expect(fitKeywordValue('character_string6', uuid)).toBe(uuid.slice(0, 32));
      expect(fitKeywordValue('character_string6', 'AB-12 编号')).toBe('AB-12');
      expect(fitKeywordValue('character_string6', '编号')).toBe('-');
    });
  });

  describe('number (≤ 32 digits)', () => {
    it('keeps digits only, at most 32', () => {
      expect(fitKeywordValue('number7', '共 1,234.5 字')).toBe('1234.5');
      expect(fitKeywordValue('number7', '9'.repeat(40))).toBe('9'.repeat(32));
      expect(fitKeywordValue('number7', '无')).toBe('0');
    });
  });

  describe('time and date', () => {
    it('passes a formatted time through, sanitized', () => {
      expect(fitKeywordValue('time3', '2026年11月28日 15:01')).toBe('2026年11月28日 15:01');
      expect(fitKeywordValue('date3', '2026年11月28日\n15:01')).toBe('2026年11月28日 15:01');
    });

    it('refuses an empty time: there is no sensible default', () => {
      expect(() => fitKeywordValue('time3', ' ')).toThrow(/time3/);
    });
  });

  describe('other keyword types', () => {
    it.each([
      ['short_thing9', '五个字以上的内容', '五个字以…'],
      ['name8', '一二三四五六七八九十十一', '一二三四五六七八九十'],
      ['letter10', 'abc 123 DEF', 'abcDEF'],
      ['symbol11', '!!@@##', '!!@@#'],
      ['phone_number12', '电话 +86-138 0013 8000', '+86-13800138000'],
      ['car_number13', '粤B12345X9', '粤B12345X'],
      ['amount14', '¥12.50', '¥12.50'],
    ])('%s: %j → %j', (keyword, value, expected) => {
      expect(fitKeywordValue(keyword, value)).toBe(expected);
    });

    it.each([['foo1'], ['thing'], ['Thing1'], ['1thing'], ['']])(
      'throws on an unknown keyword %j',
      (keyword) => {
        expect(() => fitKeywordValue(keyword, 'x')).toThrow(/keyword/);
      },
    );
  });
});

describe('parseTemplateKeys', () => {
  it('parses the full spec', () => {
    expect(parseTemplateKeys('title:thing1,status:phrase2,time:time3,note:thing4')).toEqual({
      title: 'thing1',
      status: 'phrase2',
      time: 'time3',
      note: 'thing4',
    });
  });

  it('tolerates spaces and any order, and omits absent optional fields', () => {
    const keys = parseTemplateKeys(' time : date3 , reason:thing5,title:thing1, status:phrase2 ');
    expect(keys).toEqual({ title: 'thing1', status: 'phrase2', time: 'date3', reason: 'thing5' });
    expect(keys).not.toHaveProperty('note');
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['title:thing1,status:phrase2,time:time3,', /entry "" is not field:keyword/],
    ['title=thing1,status:phrase2,time:time3', /entry "title=thing1" is not field:keyword/],
    ['title:thing1:x,status:phrase2,time:time3', /entry "title:thing1:x"/],
    ['title:,status:phrase2,time:time3', /entry "title:"/],
    ['titel:thing1,status:phrase2,time:time3', /unknown field "titel"/],
    ['title:thing1,title:thing4,status:phrase2,time:time3', /field "title" appears twice/],
    ['title:thing,status:phrase2,time:time3', /"thing" is not a keyword name/],
    ['title:Thing1,status:phrase2,time:time3', /"Thing1" is not a keyword name/],
    ['title:foo1,status:phrase2,time:time3', /keyword "foo1" has an unknown type/],
    [
      'title:thing1,status:thing1,time:time3',
      /keyword "thing1" is used by both "title" and "status"/,
    ],
    ['title:thing1,time:time3', /field "status" is missing/],
    ['status:phrase2,time:time3,note:thing4', /field "title" is missing/],
  ])('%j throws %s', (spec, message) => {
    expect(() => parseTemplateKeys(spec)).toThrow(message);
  });
});

describe('buildNotice', () => {
  it('builds a success notice', () => {
    expect(buildNotice(SUCCESS_TEMPLATE, input())).toEqual({
      touser: 'oUser_abc123',
      templateId: 'tmpl_success_0001',
      page: 'pages/index/index?taskId=0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10',
      data: {
        thing1: { value: '小猫的作品' },
        phrase2: { value: '已完成' },
        time3: { value: '2026年11月28日 15:01' },
        thing4: { value: '点击查看完整文案' },
      },
      miniprogramState: 'formal',
      lang: 'zh_CN',
    });
  });

  it('builds a failure notice with the reason, cut to fit', () => {
    const notice = buildNotice(
      FAILURE_TEMPLATE,
      input({
        kind: 'failure',
        reason: '视频为私密或已删除，无法提取文案，请换一个公开的视频再试',
        finishedAt: new Date('2026-11-28T16:30:00Z'),
        miniprogramState: 'trial',
      }),
    );
    expect(notice.data).toEqual({
      thing1: { value: '小猫的作品' },
      phrase2: { value: '失败' },
      time3: { value: '2026年11月29日 00:30' },
      thing5: { value: '视频为私密或已删除，无法提取文案，请换…' },
    });
    expect(codePoints(notice.data.thing5!.value)).toBe(20);
    expect(notice.miniprogramState).toBe('trial');
  });

  it('says every failure code in whole words that fit: 20 characters, or 5 Han for a phrase', () => {
    for (const code of FAILURE_CODES) {
      const { text, short } = NOTICE_REASONS[code];
      // Written to fit: fitting changes nothing, so no word is ever cut.
      expect(fitKeywordValue('thing5', text)).toBe(text);
      expect(fitKeywordValue('phrase5', short)).toBe(short);
      expect(fitKeywordValue('short_thing5', short)).toBe(short);
      expect(text).not.toContain('…');
      // Different from the page's longer words, which would be cut (the old notice's fault).
      expect(codePoints(text)).toBeLessThanOrEqual(20);
    }
    const withCode = (keys: NoticeTemplate['keys'], code: string) =>
      buildNotice({ id: 't', keys }, input({ kind: 'failure', reason: code })).data;
    expect(withCode(FAILURE_TEMPLATE.keys, 'VIDEO_UNAVAILABLE').thing5).toEqual({
      value: NOTICE_REASONS.VIDEO_UNAVAILABLE.text,
    });
    // A phrase keyword gets the short words; a template without a reason puts them in the note.
    expect(withCode({ ...FAILURE_TEMPLATE.keys, reason: 'phrase5' }, 'NO_SPEECH').phrase5).toEqual({
      value: '没有人声',
    });
    expect(withCode(SUCCESS_TEMPLATE.keys, 'TOO_LONG').thing4).toEqual({
      value: NOTICE_REASONS.TOO_LONG.text,
    });
  });

  it('fills every keyword of a template that has both note and reason', () => {
    const template: NoticeTemplate = {
      id: 't',
      keys: { ...SUCCESS_TEMPLATE.keys, reason: 'thing5' },
    };
    const failure = buildNotice(template, input({ kind: 'failure', reason: '视频没有语音' }));
    expect(failure.data.thing5).toEqual({ value: '视频没有语音' });
    expect(failure.data.thing4).toEqual({ value: FAILURE_NOTE });
    const success = buildNotice(template, input());
    expect(success.data.thing4).toEqual({ value: SUCCESS_NOTE });
    expect(success.data.thing5).toEqual({ value: '无' });
  });

  it('puts the reason in the note when the failure template has no reason keyword', () => {
    const notice = buildNotice(SUCCESS_TEMPLATE, input({ kind: 'failure', reason: '链接已失效' }));
    expect(notice.data.phrase2).toEqual({ value: '失败' });
    expect(notice.data.thing4).toEqual({ value: '链接已失效' });
  });

  it('uses a default failure reason when none is given', () => {
    const notice = buildNotice(FAILURE_TEMPLATE, input({ kind: 'failure', reason: ' \n ' }));
    expect(notice.data.thing5).toEqual({ value: DEFAULT_FAILURE_REASON });
  });

  it.each([[''], ['  '], ['\n\r\t']])('uses the default title for an empty title %j', (title) => {
    expect(buildNotice(SUCCESS_TEMPLATE, input({ title })).data.thing1).toEqual({
      value: DEFAULT_NOTICE_TITLE,
    });
  });

  it('cleans a long multi-line title with emoji', () => {
    const title = '今天教大家\n做一道超级好吃的红烧肉🍖🍖\r\n关注我每天更新';
    const value = buildNotice(SUCCESS_TEMPLATE, input({ title })).data.thing1!.value;
    expect(value).toBe('今天教大家 做一道超级好吃的红烧肉🍖🍖…');
    expect(value).not.toMatch(/[\r\n]/);
    expect(codePoints(value)).toBe(20);
  });

  it('no value of any notice contains a newline or control character', () => {
    const template: NoticeTemplate = {
      id: 't',
      keys: { ...SUCCESS_TEMPLATE.keys, reason: 'thing5' },
    };
    for (const kind of ['success', 'failure'] as const) {
      const notice = buildNotice(
        template,
        input({ kind, title: 'a\nb\u0007c', reason: 'x\r\ny\u001bz' }),
      );
      for (const { value } of Object.values(notice.data)) {
        // eslint-disable-next-line no-control-regex
        expect(value).not.toMatch(/[\u0000-\u001f\u007f]/);
        expect(value).not.toBe('');
      }
    }
  });

  it('opens the task page, without a leading slash, with the task id encoded', () => {
    expect(NOTICE_PAGE).toBe('pages/index/index');
    expect(buildNotice(SUCCESS_TEMPLATE, input({ taskId: 'a b&c=d' })).page).toBe(
      'pages/index/index?taskId=a%20b%26c%3Dd',
    );
  });

  it.each([
    ['template id', { ...SUCCESS_TEMPLATE, id: '' }, input()],
    ['openid', SUCCESS_TEMPLATE, input({ openid: '' })],
    ['taskId', SUCCESS_TEMPLATE, input({ taskId: '' })],
  ])('throws when the %s is empty', (label, template, notice) => {
    expect(() => buildNotice(template, notice)).toThrow(label);
  });

  it('refuses a template keyword of an unknown type', () => {
    const template: NoticeTemplate = {
      id: 't',
      keys: { ...SUCCESS_TEMPLATE.keys, note: 'bogus4' },
    };
    expect(() => buildNotice(template, input())).toThrow(/bogus4/);
  });
});

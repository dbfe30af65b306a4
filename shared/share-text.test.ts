import fixtures from './fixtures/share-texts.json';
import {
  MAX_CAPTION_LENGTH,
  MAX_SHARE_TEXT_LENGTH,
  PLATFORMS,
  PLATFORM_LABELS,
  captionOf,
  cleanShareText,
  isSupportedUrl,
  parseShareText,
  type ParsedShareText,
} from './share-text';

type FixtureCase = { text: string; platform?: string; link?: string; error?: string };

function expectOk(result: ParsedShareText): { platform: string; url: string } {
  if (!result.ok) throw new Error(`expected a link, got ${result.code}`);
  return result;
}

describe('fixtures (shared/fixtures/share-texts.json)', () => {
  // Imported (not read with fs, which shared/ may not import); provenance in shared/fixtures/README.md.
  const cases = fixtures.cases as FixtureCase[];

  it('holds both link and error cases', () => {
    expect(cases.filter((c) => c.link !== undefined).length).toBeGreaterThanOrEqual(11);
    expect(cases.filter((c) => c.error !== undefined).length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const result = parseShareText(c.text);
    if (c.error !== undefined) {
      expect(result).toEqual({ ok: false, code: c.error });
      return;
    }
    const ok = expectOk(result);
    expect(ok.platform).toBe(c.platform);
    expect(ok.url.startsWith('https://')).toBe(true);
    // The fixture's link is host + path; tolerate a trailing slash on either side.
    const bare = ok.url.replace(/^https:\/\//, '');
    expect(bare.replace(/\/$/, '')).toContain(c.link!.replace(/\/$/, ''));
    expect(isSupportedUrl(ok.url)).toBe(c.platform);
  });
});

describe('parseShareText: normalization', () => {
  it.each([
    ['https://v.douyin.com/iRNBho6u/', 'douyin', 'https://v.douyin.com/iRNBho6u/'],
    ['http://xhslink.com/a/tyU2rTEncSiW', 'xiaohongshu', 'https://xhslink.com/a/tyU2rTEncSiW'],
    ['http://www.gifshow.com/s/yvEcB84Z', 'kuaishou', 'https://www.gifshow.com/s/yvEcB84Z'],
    ['HTTPS://V.DOUYIN.COM/iRNBho6u/', 'douyin', 'https://v.douyin.com/iRNBho6u/'],
    ['HtTp://B23.TV/AbCd123', 'bilibili', 'https://b23.tv/AbCd123'],
    ['https://v.douyin.com:443/abc/', 'douyin', 'https://v.douyin.com/abc/'],
    ['http://v.douyin.com:80/abc/', 'douyin', 'https://v.douyin.com/abc/'],
    ['https://v.douyin.com/abc/#comments', 'douyin', 'https://v.douyin.com/abc/'],
    [
      'https://v.kuaishou.com/n7VXyJZ1?utm_source=wx&cc=share',
      'kuaishou',
      'https://v.kuaishou.com/n7VXyJZ1',
    ],
    [
      'https://www.douyin.com/video/7301234567890123456?modeFrom=userPost&secUid=x',
      'douyin',
      'https://www.douyin.com/video/7301234567890123456',
    ],
    [
      'https://www.bilibili.com/video/BV1xx411c7mD/?spm_id_from=333.1007&p=2&vd_source=abc',
      'bilibili',
      'https://www.bilibili.com/video/BV1xx411c7mD/?p=2',
    ],
    [
      'https://m.bilibili.com/video/BV1xx411c7mD?p=0',
      'bilibili',
      'https://m.bilibili.com/video/BV1xx411c7mD',
    ],
    [
      'https://www.xiaohongshu.com/explore/64f1a2b3c4d5e6f7a8b9c0d1?xsec_token=ABcd%3D&xsec_source=pc_share&utm=1',
      'xiaohongshu',
      'https://www.xiaohongshu.com/explore/64f1a2b3c4d5e6f7a8b9c0d1?xsec_token=ABcd%3D&xsec_source=pc_share',
    ],
    [
      'https://www.xiaohongshu.com/discovery/item/64f1a2b3c4d5e6f7a8b9c0d1',
      'xiaohongshu',
      'https://www.xiaohongshu.com/discovery/item/64f1a2b3c4d5e6f7a8b9c0d1',
    ],
    [
      'https://www.kuaishou.com/short-video/3xabc123',
      'kuaishou',
      'https://www.kuaishou.com/short-video/3xabc123',
    ],
    ['https://www.kuaishou.com/f/X-7aBc12', 'kuaishou', 'https://www.kuaishou.com/f/X-7aBc12'],
    [
      'https://v.m.chenzhongtech.com/fw/photo/3xabc?fid=1',
      'kuaishou',
      'https://v.m.chenzhongtech.com/fw/photo/3xabc',
    ],
    [
      'https://www.iesdouyin.com/share/video/7301234567890123456/?region=CN',
      'douyin',
      'https://www.iesdouyin.com/share/video/7301234567890123456/',
    ],
    [
      'https://m.douyin.com/share/video/7301234567890123456',
      'douyin',
      'https://m.douyin.com/share/video/7301234567890123456',
    ],
  ])('%s → %s %s', (text, platform, url) => {
    expect(parseShareText(text)).toEqual({ ok: true, platform, url });
  });

  it('keeps the path exactly as given (short codes are case-sensitive)', () => {
    expect(expectOk(parseShareText('https://V.Douyin.Com/AbCdEf/')).url).toBe(
      'https://v.douyin.com/AbCdEf/',
    );
  });

  it('supports Douyin photo notes (/note/): the workflow reports them later', () => {
    expect(parseShareText('看看这篇图文 https://www.douyin.com/note/7301234567890123456')).toEqual({
      ok: true,
      platform: 'douyin',
      url: 'https://www.douyin.com/note/7301234567890123456',
    });
  });

  it('keeps only the first of a repeated kept parameter', () => {
    expect(
      expectOk(parseShareText('https://www.bilibili.com/video/BV1xx411c7mD?p=3&p=4')).url,
    ).toBe('https://www.bilibili.com/video/BV1xx411c7mD?p=3');
  });
});

describe('parseShareText: finding the link in the text', () => {
  it('ends the link at a glued full-width comma', () => {
    expect(
      parseShareText('快来看 http://xhslink.com/a/tyU2rTEncSiW，复制本条信息，打开【小红书】'),
    ).toEqual({ ok: true, platform: 'xiaohongshu', url: 'https://xhslink.com/a/tyU2rTEncSiW' });
  });

  it.each([
    ['（https://v.douyin.com/abc12/）', 'https://v.douyin.com/abc12/'],
    ['【https://b23.tv/AbCd123】', 'https://b23.tv/AbCd123'],
    ['https://v.kuaishou.com/n7VXyJZ1。', 'https://v.kuaishou.com/n7VXyJZ1'],
    ['see (https://v.douyin.com/abc12/).', 'https://v.douyin.com/abc12/'],
    ['link: https://b23.tv/AbCd123!', 'https://b23.tv/AbCd123'],
    ['"https://b23.tv/AbCd123"', 'https://b23.tv/AbCd123'],
    ["'https://b23.tv/AbCd123',", 'https://b23.tv/AbCd123'],
    ['链接:https://b23.tv/AbCd123', 'https://b23.tv/AbCd123'],
    ['7.94https://v.douyin.com/abc12/', 'https://v.douyin.com/abc12/'],
  ])('trims punctuation around %s', (text, url) => {
    expect(expectOk(parseShareText(text)).url).toBe(url);
  });

  it('finds a URL in the middle of Chinese text with nothing around it', () => {
    expect(parseShareText('我发现了https://b23.tv/AbCd123这个视频很好看')).toEqual({
      ok: true,
      platform: 'bilibili',
      url: 'https://b23.tv/AbCd123',
    });
  });

  it('finds a scheme-less link glued to Chinese text', () => {
    expect(parseShareText('看看v.douyin.com/AbC12xY/超好笑')).toEqual({
      ok: true,
      platform: 'douyin',
      url: 'https://v.douyin.com/AbC12xY/',
    });
  });

  it('is not fooled by the Douyin share password (g@B.tE) or by Dou音', () => {
    const text =
      '6.15 03/10 goD:/ g@B.tE 三分钟学会做红烧肉 https://v.douyin.com/fEAkiIPyAd4/ 复制此链接，打开Dou音搜索，直接观看视频！';
    expect(parseShareText(text)).toEqual({
      ok: true,
      platform: 'douyin',
      url: 'https://v.douyin.com/fEAkiIPyAd4/',
    });
    expect(parseShareText('goD:/ g@B.tE 复制此链接，打开Dou音搜索，直接观看视频！')).toEqual({
      ok: false,
      code: 'NO_LINK',
    });
  });

  it('does not count an e-mail address or a dotted number as a link', () => {
    expect(parseShareText('联系 foo@example.com，播放过1,685.1万次')).toEqual({
      ok: false,
      code: 'NO_LINK',
    });
  });

  it('takes the first supported link when an unsupported one comes first', () => {
    expect(
      parseShareText(
        '先看 https://www.youtube.com/watch?v=x 再看 https://b23.tv/AbCd123 和 https://v.douyin.com/abc12/',
      ),
    ).toEqual({ ok: true, platform: 'bilibili', url: 'https://b23.tv/AbCd123' });
  });

  it('takes the first of two supported links', () => {
    expect(
      expectOk(parseShareText('https://v.kuaishou.com/n7VXyJZ1 https://v.douyin.com/abc12/'))
        .platform,
    ).toBe('kuaishou');
  });

  it('reads a line break as the end of a link', () => {
    expect(
      expectOk(parseShareText('周末露营清单 http://xhslink.com/o/1fRz2qqwhkI\n复制')).url,
    ).toBe('https://xhslink.com/o/1fRz2qqwhkI');
  });
});

describe('parseShareText: unsupported links', () => {
  it.each([
    ['https://www.douyin.com/user/MS4wLjABAAAA'], // a profile page, not a video
    ['https://www.douyin.com/'],
    ['https://v.douyin.com/'],
    ['v.douyin.com'],
    ['https://www.bilibili.com/read/cv123'],
    ['https://www.bilibili.com/video/av170001'],
    ['https://www.xiaohongshu.com/user/profile/5f00'],
    ['https://www.kuaishou.com/profile/3xabc'],
    ['https://v.douyin.com.evil.example/abc/'],
    ['https://evil.example.com/v.douyin.com/abc'],
    ['evil.example.com/v.douyin.com/abc'],
    ['https://xhslink.com@evil.example/a/abc'],
    ['xhslink.com@evil.example/a/abc'],
    ['https://user:pass@v.douyin.com/abc/'],
    ['https://@v.douyin.com/abc/'],
    ['https://v.douyin.com:8443/abc/'],
    ['http://v.douyin.com:443/abc/'],
    ['https://v.douyin.com:80/abc/'],
    ['v.douyin.com:8080/abc/'],
    ['https://evilgifshow.com/s/abc'],
    ['https://gifshow.com.evil.example/s/abc'],
    ['https://xhslink.com.cn/a/abc'],
    ['https://vv.douyin.com/abc/'],
    ['https://v.douyin.com/abc%2F..%2F/'],
    ['https://evil.example/r?u=https://v.douyin.com/abc/'],
    ['evil.example/r?u=https://v.douyin.com/abc/'],
    ['https://1.2.3.4/v.douyin.com/abc'],
    ['www.youtube.com'],
  ])('%s → UNSUPPORTED_PLATFORM', (text) => {
    expect(parseShareText(text)).toEqual({ ok: false, code: 'UNSUPPORTED_PLATFORM' });
  });

  it('accepts gifshow.com itself and any true subdomain of it', () => {
    expect(expectOk(parseShareText('https://gifshow.com/s/yvEcB84Z')).url).toBe(
      'https://gifshow.com/s/yvEcB84Z',
    );
    expect(expectOk(parseShareText('https://m.gifshow.com/fw/photo/3xabc')).platform).toBe(
      'kuaishou',
    );
  });
});

describe('parseShareText: invalid input and no link', () => {
  it.each([
    [undefined],
    [null],
    [42],
    [{ text: 'https://b23.tv/AbCd123' }],
    [['https://b23.tv/x']],
  ])('refuses a non-string (%p)', (value) => {
    expect(parseShareText(value)).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it.each([[''], ['   '], ['\n\t \u3000']])('refuses empty or blank text %j', (text) => {
    expect(parseShareText(text)).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it('accepts exactly MAX_SHARE_TEXT_LENGTH characters and refuses one more', () => {
    const link = 'https://b23.tv/AbCd123 ';
    const exact = link + '字'.repeat(MAX_SHARE_TEXT_LENGTH - link.length);
    expect(exact.length).toBe(2000);
    expect(parseShareText(exact).ok).toBe(true);
    expect(parseShareText(exact + '字')).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it('counts an emoji as one character', () => {
    const link = 'https://b23.tv/AbCd123 ';
    const text = link + '😀'.repeat(MAX_SHARE_TEXT_LENGTH - link.length);
    expect(text.length).toBeGreaterThan(MAX_SHARE_TEXT_LENGTH);
    expect(parseShareText(text).ok).toBe(true);
    expect(parseShareText(text + '😀')).toEqual({ ok: false, code: 'INVALID_INPUT' });
  });

  it('answers NO_LINK for text without any link', () => {
    expect(parseShareText('这个视频太好看了，快去看')).toEqual({ ok: false, code: 'NO_LINK' });
    expect(parseShareText('ftp://v.douyin.com/abc')).toEqual({ ok: false, code: 'NO_LINK' });
    expect(parseShareText('https://')).toEqual({ ok: false, code: 'NO_LINK' });
  });
});

describe('isSupportedUrl', () => {
  it('returns the platform of a stored normalized URL', () => {
    expect(isSupportedUrl('https://v.douyin.com/iRNBho6u/')).toBe('douyin');
    expect(isSupportedUrl('https://www.bilibili.com/video/BV1xx411c7mD/?p=2')).toBe('bilibili');
    expect(isSupportedUrl('  https://xhslink.com/a/abc  ')).toBe('xiaohongshu');
  });

  it.each([
    ['看看 https://v.douyin.com/iRNBho6u/'],
    ['https://v.douyin.com/iRNBho6u/，'],
    ['v.douyin.com/iRNBho6u/'],
    ['https://v.douyin.com.evil.example/abc/'],
    ['https://www.douyin.com/user/abc'],
    ['javascript:alert(1)'],
    [''],
  ])('refuses %j', (url) => {
    expect(isSupportedUrl(url)).toBeNull();
  });
});

describe('platform constants', () => {
  it('lists every platform with its Chinese label', () => {
    expect([...PLATFORMS].sort()).toEqual(['bilibili', 'douyin', 'kuaishou', 'xiaohongshu']);
    expect(PLATFORM_LABELS).toEqual({
      douyin: '抖音',
      kuaishou: '快手',
      xiaohongshu: '小红书',
      bilibili: '哔哩哔哩',
    });
  });
});

describe('invisible characters inside a link', () => {
  const FULL = 'https://v.douyin.com/iRNBho6u/';
  it.each([
    ['a zero-width space', '\u200b'],
    ['a zero-width joiner', '\u200d'],
    ['a byte-order mark', '\ufeff'],
    ['a right-to-left mark', '\u200f'],
    ['a soft hyphen', '\u00ad'],
    ['a word joiner', '\u2060'],
    ['NUL', '\u0000'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u009b'],
    ['a tag character (astral)', '\u{E0041}'],
  ])('%s is removed, never cutting the link short', (_name, ch) => {
    const text = `看看【小猫的作品】 https://v.douyin.com/iRN${ch}Bho6u/ 好可爱`;
    expect(expectOk(parseShareText(text)).url).toBe(FULL);
  });

  it('a link split by several of them, and one at each end, is still whole', () => {
    const text = `\ufeff\u200bhttps://v.\u200cdouyin.com/iRN\u0000Bho\u200b6u/\u2060`;
    expect(expectOk(parseShareText(text)).url).toBe(FULL);
  });

  it('line breaks and tabs still separate the link from the words around it', () => {
    expect(expectOk(parseShareText(`好看\n${FULL}\t真的`)).url).toBe(FULL);
    expect(cleanShareText('a\tb\nc\r\nd')).toBe('a\tb\nc\r\nd');
  });

  it('removes exactly the format and control characters (checked over all of Unicode)', () => {
    const keep = new Set(['\t', '\n', '\v', '\f', '\r', '\u0085']);
    const all: string[] = [];
    const visible: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      all.push(ch);
      if (keep.has(ch) || !/[\p{Cc}\p{Cf}]/u.test(ch)) visible.push(ch);
    }
    // One string of every code point: cleaned at once, it must equal the visible ones in order.
    expect(cleanShareText(all.join('')) === visible.join('')).toBe(true);
  });
});

describe('captionOf', () => {
  it.each([
    [
      'douyin',
      '7.94 复制打开抖音，看看【小猫的作品】好可爱 # 猫 #日常 https://v.douyin.com/iRNBho6u/ g@B.tE 03/12 :7pm',
      '小猫的作品 · 好可爱',
    ],
    [
      'douyin',
      '7.94 复制打开抖音，看看【小猫的作品】 https://v.douyin.com/iRNBho6u/ :9pm',
      '小猫的作品',
    ],
    [
      'douyin',
      '看看【阿明的图文作品】 https://www.douyin.com/note/7301234567890123456',
      '阿明的图文作品',
    ],
    ['douyin', 'https://v.douyin.com/iRNBho6u/', null],
    ['bilibili', '【三分钟学会做红烧肉-哔哩哔哩】 https://b23.tv/AbCdEf', '三分钟学会做红烧肉'],
    ['bilibili', 'https://b23.tv/AbCdEf', null],
    [
      'xiaohongshu',
      '【红烧肉教程 - 小明 | 小红书 - 你的生活指南】 😆 aBcDeF 😆 https://www.xiaohongshu.com/explore/64a1b2c3d4e5f6',
      '红烧肉教程',
    ],
    [
      'xiaohongshu',
      '64 小明发布了一篇小红书笔记，快来看吧！ 😆 aBcDeF 😆 http://xhslink.com/a/AbCdEf，复制本条信息，打开【小红书】App查看精彩内容！',
      null,
    ],
    [
      'xiaohongshu',
      '红烧肉教程 http://xhslink.com/a/AbCdEf，复制本条信息，打开【小红书】App查看精彩内容！',
      '红烧肉教程',
    ],
    [
      'kuaishou',
      'https://v.kuaishou.com/AbCdE 红烧肉的做法 #美食 "该作品在快手被播放过1.2万次，复制此消息，打开【快手】直接观看！',
      '红烧肉的做法',
    ],
    ['kuaishou', 'https://v.kuaishou.com/AbCdE 复制此消息，打开【快手】直接观看！', null],
  ] as const)('%s: %s → %s', (platform, text, caption) => {
    expect(captionOf(text, platform)).toBe(caption);
  });

  it('is bounded, folds whitespace and ignores invisible characters', () => {
    const long = `看看【小猫的作品】${'好'.repeat(500)} https://v.douyin.com/iRNBho6u/`;
    const caption = captionOf(long, 'douyin')!;
    expect(Array.from(caption)).toHaveLength(MAX_CAPTION_LENGTH + 1);
    expect(caption.startsWith('小猫的作品 · 好好')).toBe(true);
    expect(caption.endsWith('…')).toBe(true);
    expect(
      captionOf('看看【小猫的作品】好\u200b可爱\n\n  真的 https://v.douyin.com/x/', 'douyin'),
    ).toBe('小猫的作品 · 好可爱 真的');
  });
});

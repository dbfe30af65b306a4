import { boundResult, isPublicHost, mediaUrlOrEmpty, withoutBidi } from './result';

describe('media links: http(s) on a public host only', () => {
  it.each([
    'https://p3-sign.douyinpic.com/tos-cn-p-0015/abc~tplv-dy-resize.jpeg?x=1',
    'https://v26-web.douyinvod.com/video/tos/cn/abc/?a=6383',
    'http://sns-video-bd.xhscdn.com/stream/110/258/01e5.mp4',
    'https://upos-sz-mirrorali.bilivideo.com/upgcxcode/83/57/1.mp4#t=1',
    'https://example.com:8443/a.jpg',
    'https://93.184.216.34/a.jpg',
    'https://[2606:2800:220:1:248:1893:25c8:1946]/a.jpg',
    'https://xn--fiqs8s.xn--fiqs8s/a.jpg',
  ])('keeps %s', (url) => {
    expect(mediaUrlOrEmpty(url)).toBe(url);
  });

  it.each([
    ['loopback by name', 'http://localhost/a.jpg'],
    ['loopback by name, with port', 'http://localhost:3000/a.jpg'],
    ['a name under localhost', 'http://cdn.localhost/a.jpg'],
    ['loopback address', 'http://127.0.0.1/a.jpg'],
    ['loopback, other address', 'http://127.8.8.8:80/a.jpg'],
    ['loopback as one hex number', 'http://0x7f000001/a.jpg'],
    ['loopback as one decimal number', 'http://2130706433/a.jpg'],
    ['loopback, short form', 'http://127.1/a.jpg'],
    ['loopback, octal', 'http://0177.0.0.1/a.jpg'],
    ['IPv6 loopback', 'http://[::1]/a.jpg'],
    ['IPv6 mapped IPv4', 'http://[::ffff:127.0.0.1]/a.jpg'],
    ['IPv6 link-local', 'http://[fe80::1]/a.jpg'],
    ['IPv6 unique-local', 'http://[fd00::1]/a.jpg'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['private 10/8', 'http://10.1.2.3/a.jpg'],
    ['private 172.16/12', 'http://172.20.0.1/a.jpg'],
    ['private 192.168/16', 'http://192.168.1.1/a.jpg'],
    ['carrier-grade NAT', 'http://100.64.0.1/a.jpg'],
    ['unspecified', 'http://0.0.0.0/a.jpg'],
    ['multicast', 'http://224.0.0.1/a.jpg'],
    ['mDNS name', 'http://printer.local/a.jpg'],
    ['a bare name', 'http://intranet/a.jpg'],
    ['a numeric top-level label', 'http://a.123/a.jpg'],
    ['a right-to-left override inside the host', 'https://exa\u202emple.com/a.jpg'],
    ['a non-ASCII host', 'https://例子.com/a.jpg'],
    ['userinfo', 'https://user@example.com/a.jpg'],
    ['another scheme', 'javascript:alert(1)'],
    ['a data URL', 'data:image/png;base64,AAAA'],
    ['a relative path', '/a.jpg'],
    ['an out-of-range address', 'http://256.1.1.1/a.jpg'],
  ])('drops %s', (_why, url) => {
    expect(mediaUrlOrEmpty(url)).toBe('');
  });

  it('reads a host with a trailing dot as the name', () => {
    expect(isPublicHost('example.com.')).toBe(true);
    expect(isPublicHost('localhost.')).toBe(false);
  });
});

describe('bidi controls', () => {
  it('are removed from the title and the transcript, line breaks kept', () => {
    const bounded = boundResult({
      title: '\u202e4pm.exe\u202c 小猫',
      content: '第一行\u2067隔离\u2069\n第二行\u200f',
      cover: '',
      video_url: '',
    });
    expect(bounded.title).toBe('4pm.exe 小猫');
    expect(bounded.content).toBe('第一行隔离\n第二行');
  });

  it('withoutBidi leaves every other character alone (emoji joiners included)', () => {
    expect(withoutBidi('👨\u200d👩\u200d👧 a\u202eb')).toBe('👨\u200d👩\u200d👧 ab');
  });
});

import { downloadAnswering, installWxMocks, settle, type WxMocks } from '../test/setup';
import { failureMessage, hostOf, saveToAlbum, secureUrl } from './album';

let wx: WxMocks;
beforeEach(() => {
  jest.useFakeTimers();
  wx = installWxMocks();
});
afterEach(() => jest.useRealTimers());

it('links: https for the download, the host for the message', () => {
  expect(secureUrl('http://sns-webpic-qc.xhscdn.com/a.jpg')).toBe(
    'https://sns-webpic-qc.xhscdn.com/a.jpg',
  );
  expect(secureUrl('https://x.test/a')).toBe('https://x.test/a');
  expect(hostOf('https://V26-Web.douyinvod.com/x/?a=1')).toBe('v26-web.douyinvod.com');
  expect(hostOf('not a link')).toBe('');
});

it('every failure has a message that says what to do', () => {
  for (const kind of ['video', 'cover'] as const) {
    for (const reason of [
      'denied',
      'domain',
      'expired',
      'refused',
      'too_big',
      'format',
      'network',
    ] as const) {
      const text = failureMessage(kind, reason, 'cdn.test');
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toMatch(/[a-z]+:fail/); // never WeChat's own errMsg
    }
  }
  expect(failureMessage('video', 'domain', 'cdn.test')).toContain('（cdn.test）');
});

it('a save the album refuses as a format is said as such; the user folder is cleaned up', async () => {
  wx.saveVideoToPhotosAlbum.mockImplementation((o: { fail(e: object): void }) =>
    setTimeout(() => o.fail({ errMsg: 'saveVideoToPhotosAlbum:fail invalid video' }), 0),
  );
  const out = saveToAlbum('video', 'https://cdn.test/v');
  await settle();
  await expect(out).resolves.toMatchObject({ ok: false, reason: 'format' });
  expect(wx.unlinked).toEqual(['wxfile://usr/save-video.mp4']);
});

it('the user cancelling the system sheet is not an error worth words', async () => {
  wx.saveImageToPhotosAlbum.mockImplementation((o: { fail(e: object): void }) =>
    setTimeout(() => o.fail({ errMsg: 'saveImageToPhotosAlbum:fail cancel' }), 0),
  );
  const out = saveToAlbum('cover', 'https://cdn.test/c.jpg');
  await settle();
  await expect(out).resolves.toMatchObject({ ok: false, reason: 'cancelled' });
});

it('a download that never reaches the host is a network failure', async () => {
  wx.downloadFile.mockImplementation((o: { fail(e: object): void }) => {
    setTimeout(() => o.fail({ errMsg: 'downloadFile:fail timeout' }), 0);
    return { onProgressUpdate: jest.fn(), abort: jest.fn() };
  });
  const out = saveToAlbum('cover', 'https://cdn.test/c.jpg');
  await settle();
  await expect(out).resolves.toMatchObject({ ok: false, reason: 'network' });
  expect(wx.album).toHaveLength(0);
});

it("a 403 from Bilibili's video CDN is its Referer check, not an expired link", async () => {
  wx.downloadFile.mockImplementation(downloadAnswering(403));
  const bili = saveToAlbum('video', 'https://upos-sz-mirrorcos.bilivideo.com/upgcxcode/x.mp4');
  await settle();
  await expect(bili).resolves.toMatchObject({ ok: false, reason: 'refused' });
  const douyin = saveToAlbum('video', 'https://v26-web.douyinvod.com/x/?x-expires=1');
  await settle();
  await expect(douyin).resolves.toMatchObject({ ok: false, reason: 'expired' });
});

import { settle } from '../../test/setup';
import { ERROR_MESSAGES } from '../../../shared/errors';
import { TaskStatus } from '../../../shared/status';
import type { FakeServer } from '../../test/fake-server';
import { RESULT, wire } from '../../test/fixtures';
import { loadPage, type PageDriver } from '../../test/harness';
import type { WxMocks } from '../../test/setup';
import type { SharedData } from './shared';

let server: FakeServer;
let wx: WxMocks;
let page: PageDriver<SharedData>;

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2024-05-20T06:00:00.000Z') });
  ({ server, wx } = wire());
});
afterEach(() => {
  jest.useRealTimers();
});

/** A completed task of the owner, shared (with a correction when given): the card's query. */
function sharedTask(text?: string): { task: string; s: string } {
  const doc = server.seed({ status: TaskStatus.Completed, progress: 100, result: RESULT });
  const answer = server.handle({ action: 'share', taskId: doc._id, ...(text ? { text } : {}) });
  if (!answer.ok || !('share' in answer)) throw new Error('not shared');
  return { task: doc._id, s: answer.share.token };
}

async function open(query: Record<string, string>): Promise<void> {
  page = loadPage<SharedData>('shared');
  page.call('onLoad', query);
  await settle();
}

it('shows the shared result read-only: title, cover, text, when it was shared and until when', async () => {
  const query = sharedTask();
  await open(query);
  expect(server.calls('shared')).toEqual([
    { action: 'shared', taskId: query.task, token: query.s },
  ]);
  expect(page.text('#from')).toBe('好友分享给你的视频文案');
  expect(page.text('#title')).toBe(RESULT.title);
  expect(page.exists('#cover')).toBe(true);
  expect(page.text('#content-label')).toBe('文案');
  expect(page.text('#content')).toBe(RESULT.content);
  expect(page.exists('#edited-mark')).toBe(false);
  expect(page.text('#times')).toBe('分享于 5月20日 14:00 · 5月27日 14:00 前可以查看');
  // Nothing to change: no edit, no delete, no retry; copy and the way to one's own extraction.
  for (const id of ['#edit', '#remove', '#retry', '#share']) expect(page.exists(id)).toBe(false);
  await page.tap('#copy');
  expect(wx.setClipboardData).toHaveBeenLastCalledWith(
    expect.objectContaining({ data: RESULT.content }),
  );
  await page.tap('#extract-mine');
  expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
  // Forwarded, it stays the same link.
  expect(page.call('onShareAppMessage')).toEqual({
    title: `「${RESULT.title}」的文案`,
    path: `/pages/shared/shared?task=${query.task}&s=${query.s}`,
  });
});

it("the owner's correction is what the friend reads, marked as corrected", async () => {
  await open(sharedTask('大家好，今天教大家做红烧排骨。'));
  expect(page.text('#content')).toBe('大家好，今天教大家做红烧排骨。');
  expect(page.text('#edited-mark')).toBe('分享的人校对过');
});

it.each([
  ['expired', 'SHARE_EXPIRED', '分享已过期'],
  ['stopped', 'SHARE_REVOKED', '已停止分享'],
  ['deleted', 'SHARE_GONE', '分享不在了'],
] as const)(
  '%s: says so plainly, with the way to extract one’s own',
  async (_name, code, title) => {
    const query = sharedTask();
    if (code === 'SHARE_EXPIRED') jest.setSystemTime(new Date('2024-05-28T06:00:00.000Z'));
    if (code === 'SHARE_REVOKED') server.handle({ action: 'unshare', taskId: query.task });
    if (code === 'SHARE_GONE') server.removeDoc(query.task);
    await open(query);
    expect(page.text('#ended-title')).toBe(title);
    expect(page.text('#message')).toBe(ERROR_MESSAGES[code]);
    expect(page.exists('#retry')).toBe(false);
    expect(page.exists('#content')).toBe(false);
    await page.tap('#extract-mine');
    expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
  },
);

it('a link cut short asks nothing of the server', async () => {
  await open({ task: 'abc' });
  expect(server.calls()).toHaveLength(0);
  expect(page.text('#ended-title')).toBe('分享不在了');
});

it('a call that did not get through offers to open it again', async () => {
  const query = sharedTask();
  server.offline = true;
  await open(query);
  expect(page.exists('#failed')).toBe(true);
  server.offline = false;
  await page.tap('#retry');
  await settle();
  expect(page.text('#content')).toBe(RESULT.content);
});

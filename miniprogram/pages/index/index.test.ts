import { downloadAnswering, settle } from '../../test/setup';
import { ERROR_MESSAGES, FAILURE_MESSAGES } from '../../../shared/errors';
import {
  CANCELLED_TEXT,
  NETWORK_ERROR_MESSAGE,
  VIDEO_LINK_NOTE,
} from '../../../shared/presentation';
import type { TaskResult } from '../../../shared/result';
import { TaskStatus } from '../../../shared/status';
import { QUEUE_WATCH, type FakeServer } from '../../test/fake-server';
import { DOUYIN_TEXT, RESULT, wire } from '../../test/fixtures';
import { TEMPLATES, loadPage, type PageDriver } from '../../test/harness';
import { miniprogramRoot } from '../../test/node-bridge';
import type { WxMocks } from '../../test/setup';
import type { IndexData } from './index';

let server: FakeServer;
let wx: WxMocks;
let page: PageDriver<IndexData>;

function open(query: Record<string, string> = {}): PageDriver<IndexData> {
  page = loadPage<IndexData>('index');
  page.call('onLoad', query);
  page.call('onShow');
  return page;
}

async function submit(text = DOUYIN_TEXT): Promise<string> {
  await page.input('#share-text', text);
  await page.tap('#submit');
  await settle();
  const card = page.data.card;
  if (!card) throw new Error('no task card after submit');
  return card.id;
}

/** Opens the page, submits, and has the task complete with RESULT (changed by `result`). */
async function completed(result: Partial<TaskResult> = {}): Promise<string> {
  open();
  const id = await submit();
  server.update(id, {
    status: TaskStatus.Completed,
    progress: 100,
    result: { ...RESULT, ...result },
    completed_at: new Date(),
  });
  return id;
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2024-05-20T06:00:00.000Z') });
  ({ server, wx } = wire({ success: 'accept', failure: 'reject' }));
});

afterEach(() => {
  page?.call('onUnload');
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('the form', () => {
  it('empty: states the platforms, and an empty submit asks for a link without calling', async () => {
    open();
    expect(page.text('#platforms')).toContain('抖音、快手、小红书、哔哩哔哩');
    expect(page.exists('#task')).toBe(false);
    await page.tap('#submit');
    await settle();
    expect(page.text('#input-error')).toBe(ERROR_MESSAGES.INVALID_INPUT);
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
    expect(server.requests.filter((r) => r.action !== 'list')).toHaveLength(0);
  });

  it('invalid link: rejected at once with the specific reason, nothing sent', async () => {
    open();
    await page.input('#share-text', '这个视频太好笑了哈哈哈');
    await page.tap('#submit');
    expect(page.text('#input-error')).toBe(ERROR_MESSAGES.NO_LINK);
    await page.input('#share-text', '看看 https://www.youtube.com/watch?v=abc');
    expect(page.exists('#input-error')).toBe(false); // typing clears the error
    await page.tap('#submit');
    expect(page.text('#input-error')).toBe(ERROR_MESSAGES.UNSUPPORTED_PLATFORM);
    await settle();
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
    expect(server.requests.filter((r) => r.action !== 'list')).toHaveLength(0);
  });

  it('paste fills the text from the clipboard and recognises the platform', async () => {
    open();
    wx.getClipboardData.mockImplementationOnce((o: { success(r: object): void }) =>
      setTimeout(() => o.success({ data: `  ${DOUYIN_TEXT}\n` }), 0),
    );
    await page.tap('#paste');
    await settle();
    expect(page.data.text).toBe(DOUYIN_TEXT);
    expect(page.text('#detected')).toBe('✓ 已识别抖音链接');
    expect(page.exists('#input-error')).toBe(false);
  });
});

describe('the clipboard and the error slot', () => {
  const agreed = () =>
    wx.getPrivacySetting.mockImplementation((o: { success(r: object): void }) =>
      setTimeout(() => o.success({ needAuthorization: false }), 0),
    );
  const clipboardHas = (data: string) =>
    wx.getClipboardData.mockImplementation((o: { success(r: object): void }) =>
      setTimeout(() => o.success({ data }), 0),
    );

  it('on show, offers a supported link from the clipboard once; 填入 fills it in', async () => {
    agreed();
    clipboardHas(DOUYIN_TEXT);
    open();
    await settle();
    expect(page.text('#clip')).toContain('剪切板里有一个抖音链接');
    expect(page.text('#clip-link')).toBe('v.douyin.com/iRNBho6u');
    await page.tap('#clip-use');
    expect(page.data.text).toBe(DOUYIN_TEXT);
    expect(page.text('#detected')).toBe('✓ 已识别抖音链接');
    expect(page.exists('#clip')).toBe(false);

    // Shown again (back from another page, or another launch): the same link is not offered twice.
    await page.tap('#clear');
    page.call('onHide');
    page.call('onShow');
    await settle();
    expect(page.exists('#clip')).toBe(false);
    expect(wx.getClipboardData).toHaveBeenCalledTimes(2);
    // A new link is.
    clipboardHas('看看 https://b23.tv/AbCdEf1');
    page.call('onShow');
    await settle();
    expect(page.text('#clip')).toContain('哔哩哔哩');
    await page.tap('#clip-close');
    expect(page.exists('#clip')).toBe(false);
    expect(page.data.text).toBe('');
  });

  it('never reads the clipboard on its own before the privacy guide was agreed to', async () => {
    clipboardHas(DOUYIN_TEXT);
    open(); // getPrivacySetting answers needAuthorization: true by default
    await settle();
    expect(wx.getPrivacySetting).toHaveBeenCalled();
    expect(wx.getClipboardData).not.toHaveBeenCalled();
    expect(page.exists('#clip')).toBe(false);
  });

  it('offers nothing for text without a supported link', async () => {
    agreed();
    clipboardHas('晚上吃什么');
    open();
    await settle();
    expect(page.exists('#clip')).toBe(false);
  });

  it('hint, recognised platform and errors share one slot', async () => {
    open();
    const slot = () => page.all('.slot').length;
    expect(slot()).toBe(1);
    expect(page.text('.slot')).toContain('会自动找出链接');
    await page.input('#share-text', '没有链接');
    await page.tap('#submit');
    expect(page.text('.slot')).toBe(ERROR_MESSAGES.NO_LINK);
    await page.input('#share-text', DOUYIN_TEXT);
    expect(page.text('.slot')).toBe('✓ 已识别抖音链接');
    expect(slot()).toBe(1);
  });
});

describe('submitting', () => {
  it('asks for the subscription first, inside the tap, then creates with the accepted templates', async () => {
    open();
    await page.input('#share-text', DOUYIN_TEXT);
    page.call('onSubmit'); // the tap handler itself, run synchronously
    // Before the handler returned: the prompt is up, nothing has been sent yet.
    expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    expect(wx.requestSubscribeMessage.mock.calls[0]?.[0]).toMatchObject({
      tmplIds: [TEMPLATES.success, TEMPLATES.failure],
    });
    expect(server.requests).toHaveLength(0);
    // Immediate feedback while waiting.
    expect(page.data.submitting).toBe(true);
    expect(page.text('#submit')).toBe('正在提交…');

    await settle();
    // (The page's own first call, `list` for the wait estimate, was made at load.)
    expect(server.log.filter((l) => l !== 'call:list').slice(0, 2)).toEqual([
      'subscribe',
      'call:create',
    ]);
    const create = server.calls('create')[0];
    expect(create).toMatchObject({
      shareText: DOUYIN_TEXT,
      subscribed: { success: true, failure: false },
    });
    expect(create && 'requestId' in create ? create.requestId : '').toMatch(
      /^[A-Za-z0-9_.:-]{8,64}$/,
    );
    expect(page.data.submitting).toBe(false);
    expect(page.text('#headline')).toBe('排队中');
    expect(page.text('#notify-note')).toContain('会通过微信服务通知告诉你');
    expect(wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已提交' }));
  });

  it('a double tap makes one prompt and one task', async () => {
    open();
    await page.input('#share-text', DOUYIN_TEXT);
    await page.tap('#submit');
    await page.tap('#submit');
    await settle();
    page.call('onSubmit'); // the form is gone; a stray late event must not resubmit either
    await settle();
    expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    expect(server.calls('create')).toHaveLength(1);
    expect(server.tasks.size).toBe(1);
  });

  it('a refused prompt still submits, without notices', async () => {
    ({ server, wx } = wire({ success: 'reject', failure: 'reject' }));
    open();
    await submit();
    expect(server.calls('create')[0]).toMatchObject({
      subscribed: { success: false, failure: false },
    });
    expect(page.text('#notify-note')).toContain('「历史」');
  });

  it('a failed create shows its reason; a resend after a network error reuses the request id', async () => {
    open();
    server.overrides.set('create', () => ({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'x' },
    }));
    await page.input('#share-text', DOUYIN_TEXT);
    await page.tap('#submit');
    await settle();
    expect(page.text('#submit-error')).toContain(ERROR_MESSAGES.RATE_LIMITED);
    // The same button resends; no inline link that could break across lines.
    expect(page.text('#submit')).toBe('重新提交');

    server.offline = true;
    await page.tap('#submit');
    await settle();
    expect(page.text('#submit-error')).toContain(NETWORK_ERROR_MESSAGE);

    server.offline = false;
    await page.tap('#submit');
    await settle();
    const ids = server.tried('create').map((r) => ('requestId' in r ? r.requestId : ''));
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(page.data.card?.status).toBe(TaskStatus.Pending);
  });
});

describe("today's uses", () => {
  it('said under the button from the answers the page already gets, no call of its own', async () => {
    server.usedToday = 3;
    open();
    await settle();
    // The first history page (the wait estimate's) said it.
    expect(page.text('#quota')).toBe('今天还可以提取 17 次（每天 0 点重置）');
    expect(server.calls().map((r) => r.action)).toEqual(['list']);
    await submit();
    await page.tap('#next');
    // The create's answer said the new count.
    expect(page.text('#quota')).toBe('今天还可以提取 16 次（每天 0 点重置）');
    // (The tracker's `get` follows the task; nothing was called for the quota.)
    expect(server.calls('list')).toHaveLength(1);
    expect(server.calls('create')).toHaveLength(1);
  });

  it('used up: says so and when more come, and offers no resend', async () => {
    server.usedToday = 19;
    open();
    await submit();
    await page.tap('#next');
    expect(page.text('#quota')).toBe('今天的 20 次已用完，0 点后可以再提取，还有约 10 小时');
    await page.input('#share-text', DOUYIN_TEXT.replace('iRNBho6u', 'other123'));
    await page.tap('#submit');
    await settle();
    expect(page.text('#submit-error')).toBe(ERROR_MESSAGES.QUOTA_EXCEEDED);
    expect(page.text('#submit')).toBe('提取文案');
    // The next Shanghai day reads as fresh, with no call.
    jest.setSystemTime(new Date('2024-05-20T16:00:01.000Z'));
    page.call('onHide');
    page.call('onShow');
    expect(page.text('#quota')).toBe('今天还可以提取 20 次（每天 0 点重置）');
  });

  it('a submit the queue refused (TOO_BUSY) says nothing was charged and when to try again', async () => {
    open();
    server.overrides.set('create', () => ({
      ok: false,
      error: { code: 'TOO_BUSY', message: ERROR_MESSAGES.TOO_BUSY, retryAfterS: 180 },
    }));
    await page.input('#share-text', DOUYIN_TEXT);
    await page.tap('#submit');
    await settle();
    // 14:00 in Shanghai now: three minutes on.
    expect(page.text('#submit-error')).toBe(
      '现在提取的人太多了，排不上队，这次没有扣次数。请 3 分钟后（14:03 左右）再试',
    );
    // Sending again at once would be refused the same way: no 重新提交.
    expect(page.text('#submit')).toBe('提取文案');
    expect(page.data.view).toBe('form');
  });
});

describe('following a task', () => {
  it('queued, then processing through the watch: the state said once, the caption as title', async () => {
    open();
    const id = await submit();
    expect(page.text('#headline')).toBe('排队中');
    expect(page.text('#progress-text')).toBe('马上开始');
    expect(page.text('#wait')).toBe('通常约 1 分钟'); // no finished task to go by
    // The video's words from the share text head the card (as the history names the task);
    // the link is the small print.
    expect(page.text('#subject')).toBe('小猫的作品 · 好可爱');
    expect(page.text('#source')).toBe('抖音小猫的作品 · 好可爱');
    expect(page.text('#source-link')).toBe('v.douyin.com/iRNBho6u');
    server.update(id, { status: TaskStatus.Processing, progress: 40, started_at: new Date() });
    expect(page.text('#headline')).toBe('正在提取文案');
    expect(page.text('#progress-text')).toBe('40%');
    // The watch's document has no caption; the card keeps the one the function answered.
    expect(page.text('#source')).toBe('抖音小猫的作品 · 好可爱');
    // No badge, no stage row: the headline is the only place the state is said.
    expect(page.exists('#status')).toBe(false);
    expect(page.exists('#stages')).toBe(false);
    expect(page.text('#cancel')).toBe('取消提取');
    // Secondary: a plain text button, not a primary or a wide one.
    expect(page.find('#cancel')?.dom?.getAttribute('class') ?? '').toContain('text-btn');
  });

  it('the wait is estimated from recent finished tasks', async () => {
    [30, 40, 50].forEach((sec, i) => {
      const created = new Date(Date.now() - (i + 1) * 3600_000);
      server.seed({
        _id: `old-${i}`,
        status: TaskStatus.Completed,
        progress: 100,
        result: RESULT,
        created_at: created,
        completed_at: new Date(created.getTime() + sec * 1000),
      });
    });
    open();
    await settle();
    await submit();
    expect(server.calls('list')).toHaveLength(1);
    expect(page.text('#wait')).toBe('最近的提取一般约 40 秒完成');
  });

  it('completed: the result card with title, cover, word count, text, copy, video link and share', async () => {
    await completed();
    expect(page.text('#headline')).toBe('提取完成');
    expect(page.text('#result-title')).toBe(RESULT.title);
    expect(page.exists('#cover')).toBe(true);
    expect(page.text('#word-count')).toBe('共 25 字');
    expect(page.text('#content')).toBe(RESULT.content);
    // The link is one short line; the whole link is what gets copied.
    expect(page.text('#video-link')).toBe('v3.example.com/…');
    expect(page.text('#video-note')).toBe(VIDEO_LINK_NOTE);
    expect(page.exists('#share')).toBe(true);

    await page.tap('#copy-content');
    expect(wx.setClipboardData).toHaveBeenLastCalledWith(
      expect.objectContaining({ data: RESULT.content }),
    );
    await page.tap('#copy-link');
    expect(wx.setClipboardData).toHaveBeenLastCalledWith(
      expect.objectContaining({ data: RESULT.video_url }),
    );

    // Terminal: the watch is closed and nothing polls any more.
    expect(server.openWatches()).toHaveLength(0);
    const calls = server.requests.length;
    await settle(120_000);
    expect(server.requests).toHaveLength(calls);
  });

  it('分享 shares what the card promises: a link to the result, with the correction; 停止分享 ends it', async () => {
    const id = await completed();
    await page.tap('#edit');
    await page.input('#edit-text', '大家好，今天教大家做红烧排骨。');
    await page.tap('#edit-save');
    expect(page.exists('#share-state')).toBe(false);
    const card = page.call('onShareAppMessage') as {
      title: string;
      path: string;
      promise: Promise<{ title: string; path: string }>;
    };
    // Until the link is made (WeChat waits up to 3 s), the card promises nothing it cannot show.
    expect(card).toMatchObject({ path: '/pages/index/index' });
    await settle();
    const made = await card.promise;
    const token = server.shares.get(id)!.token;
    expect(made).toEqual({
      title: `「${RESULT.title}」的文案提取好了`,
      path: `/pages/shared/shared?task=${id}&s=${token}`,
    });
    // The correction is what the friend reads.
    expect(server.calls('share')).toEqual([
      { action: 'share', taskId: id, text: '大家好，今天教大家做红烧排骨。' },
    ]);
    expect(page.text('#share-state')).toContain('已分享，5月27日 14:00 前好友可查看');

    await page.tap('#stop-sharing');
    await settle();
    expect(server.calls('unshare')).toEqual([{ action: 'unshare', taskId: id }]);
    expect(page.exists('#share-state')).toBe(false);
    expect(server.handle({ action: 'shared', taskId: id, token })).toMatchObject({
      error: { code: 'SHARE_REVOKED' },
    });
  });

  it('a share link that could not be made leaves the plain card and says why', async () => {
    await completed();
    server.offline = true;
    const card = page.call('onShareAppMessage') as { promise: Promise<object> };
    await settle();
    expect(await card.promise).toEqual({
      title: '粘贴短视频分享链接，一键提取视频文案',
      path: '/pages/index/index',
    });
    expect(wx.showToast).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: expect.stringContaining('没能生成分享链接') }),
    );
    expect(page.exists('#share-state')).toBe(false);
  });

  it("a photo note: its own text, labelled as the note's (not a transcript), no video to save", async () => {
    await completed({
      title: '杭州小众咖啡店合集',
      content: '第一家在巷子里',
      video_url: '',
      kind: 'note',
    });
    expect(page.text('#headline')).toBe('已取出笔记的文字');
    expect(page.text('#content-label')).toBe('笔记正文');
    expect(page.text('#note-kind')).toContain('这是图文笔记');
    expect(page.text('#content')).toBe('第一家在巷子里');
    expect(page.exists('#save-video')).toBe(false);
    expect(page.exists('#save-cover')).toBe(true);
    // A transcript says 文案 and nothing about notes.
    page.call('onUnload');
    await completed();
    expect(page.text('#content-label')).toBe('文案');
    expect(page.exists('#note-kind')).toBe(false);
  });

  it.each(['PHOTO_NOTE', 'NO_SPEECH', 'TOO_LONG', 'VIDEO_UNAVAILABLE'] as const)(
    'failed for good (%s): the reason, and 换个链接 as the only action',
    async (code) => {
      open();
      const id = await submit();
      server.update(id, {
        status: TaskStatus.Failed,
        error_code: code,
        error_message: code,
        started_at: new Date(),
        completed_at: new Date(),
      });
      expect(page.text('#headline')).toBe('提取失败');
      expect(page.text('#reason')).toBe(FAILURE_MESSAGES[code]);
      expect(page.exists('#retry')).toBe(false);
      expect(page.text('#new-link')).toBe('换个链接');
      expect(page.find('#new-link')?.dom?.getAttribute('class') ?? '').toContain('wide-btn');
      await page.tap('#new-link');
      expect(page.data.view).toBe('form');
      expect(page.data.text).toBe('');
      expect(server.calls('retry')).toHaveLength(0);
    },
  );

  it.each(['PROVIDER_ERROR', 'UPSTREAM_UNAVAILABLE'] as const)(
    'failed for now (%s): 重试 first, 换个链接 second',
    async (code) => {
      open();
      const id = await submit();
      server.update(id, { status: TaskStatus.Failed, error_code: code, completed_at: new Date() });
      expect(page.text('#reason')).toBe(FAILURE_MESSAGES[code]);
      expect(page.text('#retry')).toBe('重试');
      expect(page.text('#new-link')).toBe('换个链接');
      const buttons = page.all('.wide-btn').map((b) => String(b.dom?.textContent ?? '').trim());
      expect(buttons).toEqual(['重试', '换个链接']);
    },
  );

  it('failed for now: a retry that prompts first and follows the new task', async () => {
    open();
    const id = await submit();
    server.update(id, {
      status: TaskStatus.Failed,
      error_code: 'PROVIDER_ERROR',
      error_message: 'x',
      started_at: new Date(),
      completed_at: new Date(),
    });
    expect(page.text('#headline')).toBe('提取失败');

    await page.tap('#retry');
    expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(2);
    expect(server.calls('retry')).toHaveLength(0); // not before the prompt is answered
    await settle();
    expect(server.calls('retry')[0]).toMatchObject({ taskId: id, subscribed: { success: true } });
    expect(page.data.card?.id).toBe(`retry-${id}`);
    expect(page.text('#headline')).toBe('排队中');
    expect(server.openWatches(`retry-${id}`)).toHaveLength(1);
  });

  it('cancel while running: confirmed, then shown as cancelled with a retry', async () => {
    open();
    const id = await submit();
    await page.tap('#cancel');
    expect(wx.showModal).toHaveBeenCalledTimes(1);
    await settle();
    expect(server.calls('cancel')[0]).toEqual({ action: 'cancel', taskId: id });
    expect(page.text('#headline')).toBe('已取消');
    expect(page.text('#reason')).toBe(CANCELLED_TEXT);
    expect(page.text('#retry')).toBe('重新提取');
    expect(server.openWatches()).toHaveLength(0);
  });

  it('timed out: a task silent past its expiry shows as timed out, never a spinner forever', async () => {
    open();
    const id = await submit();
    server.update(id, { status: TaskStatus.Processing, progress: 30, started_at: new Date() });
    // The task expires in 300 s; the client waits 30 s more, then stops waiting.
    await settle(300_000);
    expect(page.text('#headline')).toBe('正在提取文案');
    await settle(31_000);
    expect(page.text('#headline')).toBe('处理超时');
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.TIMEOUT);
    expect(server.openWatches()).toHaveLength(0);
    const calls = server.requests.length;
    await settle(60_000);
    expect(server.requests).toHaveLength(calls);

    // Retrying a task the server still holds as active: end it first, then retry.
    await page.tap('#retry');
    await settle();
    const prompt = server.log.lastIndexOf('subscribe');
    expect(server.log.slice(prompt, prompt + 3)).toEqual([
      'subscribe',
      'call:cancel',
      'call:retry',
    ]);
    expect(page.data.card?.id).toBe(`retry-${id}`);
  });

  it('watch error → polling with backoff → back to watching', async () => {
    // The longest wait of each backoff step (jitter drawn at its top), so times are exact.
    jest.spyOn(Math, 'random').mockReturnValue(0.9999999);
    open();
    const id = await submit();
    server.breakWatches();
    expect(page.text('#reconnecting')).toContain('正在重连');
    const gets = () => server.tried('get').length;
    const before = gets();
    // While the watch is down, `get` keeps the page current.
    server.tasks.set(id, { ...server.tasks.get(id)!, status: TaskStatus.Processing, progress: 60 });
    await settle(500);
    expect(gets()).toBe(before + 1); // an immediate read on the error
    expect(page.text('#progress-text')).toBe('60%');
    // Re-watch after the first backoff step (1 s); its init snapshot means the link is back.
    await settle(600);
    expect(server.openWatches(id)).toHaveLength(1);
    expect(page.exists('#reconnecting')).toBe(false);

    // A longer outage: every re-watch is refused too (a listener limit, say).
    server.watchDown = true;
    const brokeAt = Date.now();
    const getTimes: number[] = [];
    const cloud = (globalThis as unknown as { wx: { cloud: { callFunction: jest.Mock } } }).wx
      .cloud;
    cloud.callFunction.mockImplementation(
      ((original) => async (param: { data: { action: string } }) => {
        if (param.data.action === 'get') getTimes.push(Date.now() - brokeAt);
        return original(param);
      })(cloud.callFunction.getMockImplementation()!),
    );
    server.breakWatches();
    const opened = server.watchOpenedAt.length;
    const polled = server.attempts.length;
    server.offline = true; // polls through network errors as well
    await settle(30_000);
    server.offline = false;
    await settle(60_000);
    // `get` on a growing interval, 3 s doubling to at most 30 s (the read at the break first).
    const gaps = getTimes.slice(1).map((t, i) => t - getTimes[i]!);
    // (Each `get` takes the fake's millisecond before the next wait starts.)
    expect(gaps.map((g) => Math.round(g / 100) * 100)).toEqual([
      3000, 6000, 12_000, 24_000, 30_000,
    ]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(30_001);
    expect(server.attempts.length - polled).toBe(getTimes.length);
    // Re-watches 1 s, 2 s, 4 s … after each refusal (reported 5 ms after opening), capped at 60 s.
    const at = server.watchOpenedAt.slice(opened).map((t) => t - brokeAt);
    expect(at.slice(0, 5)).toEqual([1000, 3005, 7010, 15015, 31020]);
    const rewatchGaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.max(...rewatchGaps)).toBeLessThanOrEqual(60_005);
    expect(page.exists('#reconnecting')).toBe(true);
    // The service is back: the next re-watch succeeds and the page watches again.
    server.watchDown = false;
    await settle(60_000);
    expect(page.exists('#reconnecting')).toBe(false);
    expect(server.openWatches(id)).toHaveLength(1);
    // Watching again: only the slow safety `get` (20 s), no backoff polling.
    const calm = getTimes.length;
    await settle(40_000);
    expect(getTimes.length - calm).toBe(2);
    server.update(id, { status: TaskStatus.Completed, progress: 100, result: RESULT });
    await settle(100);
    expect(page.text('#headline')).toBe('提取完成');
    expect(server.openWatches()).toHaveLength(0);
  });

  it('without jitter pinned, phones whose watches dropped together poll at different times', async () => {
    const { backoffDelay } = jest.requireActual<typeof import('../../services/backoff')>(
      `${miniprogramRoot}/services/backoff`,
    );
    const waits = new Set(
      Array.from({ length: 50 }, () => backoffDelay(2, { baseMs: 3000, capMs: 30_000 })),
    );
    expect(waits.size).toBeGreaterThan(10);
  });

  it('onHide closes the watch and stops polling; onShow re-reads and re-watches', async () => {
    open();
    const id = await submit();
    page.call('onHide');
    expect(server.openWatches()).toHaveLength(0);
    const calls = server.requests.length;
    server.tasks.set(id, {
      ...server.tasks.get(id)!,
      status: TaskStatus.Processing,
      progress: 80,
      started_at: new Date(),
    });
    await settle(120_000);
    expect(server.requests).toHaveLength(calls);
    expect(page.data.card?.status).toBe(TaskStatus.Pending);

    page.call('onShow');
    await settle();
    expect(server.calls('get').length).toBeGreaterThan(0);
    expect(server.openWatches(id)).toHaveLength(1);
    expect(page.text('#progress-text')).toBe('80%');
  });
});

describe('waiting in the queue (issue 23 item 5)', () => {
  it('排队中 with its place and the wait, live from the queue’s one shared document', async () => {
    server.queueAhead = 12; // the queue's rate: 0.5 a second
    open();
    await submit();
    expect(page.text('#headline')).toBe('排队中');
    expect(page.text('#progress-text')).toBe('前面还有 12 个');
    expect(page.text('#wait')).toBe('现在提取的人多，预计约 25 秒后开始');
    // One watch on the queue's document, besides the task's own.
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(1);
    // The dispatcher starts five: the page moves up with no call.
    const calls = server.requests.length;
    server.publishQueue({ started_total: 105 });
    expect(page.text('#progress-text')).toBe('前面还有 7 个');
    expect(page.text('#wait')).toBe('现在提取的人多，预计约 15 秒后开始');
    server.publishQueue({ started_total: 112 });
    expect(page.text('#progress-text')).toBe('马上开始');
    expect(server.requests.length).toBe(calls);
    // Started: the queue no longer speaks, and its watch is closed.
    const id = page.data.card!.id;
    server.update(id, { status: TaskStatus.Processing, progress: 30, started_at: new Date() });
    expect(page.text('#progress-text')).toBe('30%');
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(0);
  });

  it('the other waiting tasks under the card say their places too, from the same one watch', async () => {
    server.queueAhead = 4;
    open();
    await submit();
    await page.tap('#next');
    server.queueAhead = 9;
    await submit(DOUYIN_TEXT.replace('iRNBho6u', 'second12'));
    expect(page.text('#rows >>> #row-0')).toContain('前面还有 4 个');
    server.publishQueue({ started_total: 102 });
    expect(page.text('#progress-text')).toBe('前面还有 7 个');
    expect(page.text('#rows >>> #row-0')).toContain('前面还有 2 个');
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(1);
  });

  it('where the queue’s document is not served, `get` keeps the place current, with backoff', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.9999999);
    server.queueServed = false; // the local stack's watch serves only the caller's documents
    server.queueAhead = 20;
    open();
    await submit();
    expect(page.text('#progress-text')).toBe('前面还有 20 个');
    const gets = server.calls('get').length;
    server.publishQueue({ started_total: 108 }); // nobody hears it: no watch carries it
    expect(page.text('#progress-text')).toBe('前面还有 20 个');
    await settle(3100); // the function answers the place on the poll
    expect(server.calls('get').length).toBeGreaterThan(gets);
    expect(page.text('#progress-text')).toBe('前面还有 12 个');
    // The queue's watch is tried again, on its own backoff, for as long as the task waits.
    await settle(60_000);
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(0);
    const tries = server.watchOpenedAt.length;
    expect(tries).toBeGreaterThan(4);
    // Served again (the lead's emulator, or the cloud): back to the live feed.
    server.queueServed = true;
    await settle(60_000);
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(1);
    server.publishQueue({ started_total: 115 });
    expect(page.text('#progress-text')).toBe('前面还有 5 个');
  });

  it('a dropped queue watch falls back the same way and comes back', async () => {
    server.queueAhead = 6;
    open();
    await submit();
    server.breakWatches(); // the task's and the queue's, as a dropped connection does
    server.queueState = { ...server.queueState, started_total: 103 };
    await settle(4000);
    expect(page.text('#progress-text')).toBe('前面还有 3 个');
    await settle(5000);
    expect(server.openWatches(QUEUE_WATCH)).toHaveLength(1);
    server.publishQueue({ started_total: 105 });
    expect(page.text('#progress-text')).toBe('前面还有 1 个');
  });

  it('waiting is never a failure: no timeout before its bound; past it, 排队太久 (never 处理超时)', async () => {
    server.queueAhead = 50;
    open();
    const id = await submit();
    // Its bound is its expiry (QUEUE_MAX_WAIT_S; 300 s here): well inside it, still waiting.
    await settle(240_000);
    expect(page.text('#headline')).toBe('排队中');
    // The sweeper ends it TOO_BUSY (no notice is sent for waiting): the page says so plainly.
    server.update(id, {
      status: TaskStatus.Failed,
      error_code: 'TOO_BUSY',
      error_message: FAILURE_MESSAGES.TOO_BUSY,
      completed_at: new Date(),
    });
    expect(page.text('#headline')).toBe('排队太久，没能开始');
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.TOO_BUSY);
    expect(page.text('#retry')).toBe('重试');
  });

  it('silent past its bound on the phone’s clock, a waiting task reads as not started, not timed out', async () => {
    server.queueAhead = 50;
    open();
    await submit();
    server.offline = true; // nothing more is heard
    await settle(300_000 + 31_000);
    expect(page.text('#headline')).toBe('排队太久，没能开始');
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.TOO_BUSY);
  });
});

describe('a deleted task', () => {
  it('the watch sees it removed: the page says so and offers a new extraction', async () => {
    open();
    const id = await submit();
    server.removeDoc(id);
    expect(page.text('#lost-message')).toBe('这条记录已删除');
    expect(page.data.removed).toBe(true);
    expect(server.openWatches()).toHaveLength(0);
    const calls = server.requests.length;
    await settle(60_000);
    expect(server.requests).toHaveLength(calls); // nothing polls a deleted task
    await page.tap('#lost-new');
    expect(page.data.view).toBe('form');
  });
});

describe('deep link from a notice', () => {
  it('?taskId= opens that task directly', async () => {
    const doc = server.seed({
      status: TaskStatus.Completed,
      progress: 100,
      result: RESULT,
      completed_at: new Date(),
    });
    page = loadPage<IndexData>('index');
    page.call('onLoad', { taskId: doc._id });
    expect(page.exists('#loading')).toBe(true);
    page.call('onShow');
    await settle();
    expect(page.text('#result-title')).toBe(RESULT.title);
    expect(wx.requestSubscribeMessage).not.toHaveBeenCalled();
  });

  it('a task the server timed out shows the timeout reason and a retry', async () => {
    const doc = server.seed({
      status: TaskStatus.Timeout,
      error_code: 'TIMEOUT',
      started_at: new Date(),
      completed_at: new Date(),
    });
    open({ taskId: doc._id });
    await settle();
    expect(page.text('#headline')).toBe('处理超时');
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.TIMEOUT);
    expect(page.exists('#retry')).toBe(true);
    expect(server.openWatches()).toHaveLength(0);
  });

  it('an unknown task says so and offers a new extraction', async () => {
    open({ taskId: 'no-such-task' });
    await settle();
    expect(page.text('#lost-message')).toBe(ERROR_MESSAGES.NOT_FOUND);
    expect(server.openWatches()).toHaveLength(0);
  });
});

describe('several tasks at once', () => {
  const XHS =
    '周末去哪儿 | 杭州小众咖啡店合集 http://xhslink.com/a/AbCdEfG 复制本条信息，打开【小红书】App查看精彩内容！';

  it('paste the next link while one runs: the running ones are listed, each opens, and an end shows once', async () => {
    open();
    const first = await submit();
    // The task goes on; the form is back, empty, with the task listed under it.
    await page.tap('#next');
    expect(page.data.view).toBe('form');
    expect(page.data.text).toBe('');
    expect(page.text('#rows >>> #row-0')).toContain('好可爱');
    expect(page.text('#rows >>> #row-0')).toContain('排队中');
    expect(page.text('#rows >>> #running-count')).toBe('1 个进行中');
    expect(server.openWatches(first)).toHaveLength(1);

    const second = await submit(XHS);
    expect(page.text('#subject')).toBe('周末去哪儿 | 杭州小众咖啡店合集');
    // On the second card, the first one is listed as another task; a tap opens it.
    expect(page.all('#rows >>> .row')).toHaveLength(1);
    server.update(first, { status: TaskStatus.Processing, progress: 40, started_at: new Date() });
    expect(page.text('#rows >>> #row-0')).toContain('正在提取文案 · 40%');
    await page.tap('#rows >>> #row-0');
    expect(page.data.card?.id).toBe(first);
    expect(page.text('#progress-text')).toBe('40%');
    expect(page.text('#rows >>> #row-0')).toContain('周末去哪儿');

    // Back to the form: both run; the first ends while nobody looks at it.
    await page.tap('#next');
    expect(page.text('#rows >>> #running-count')).toBe('2 个进行中');
    server.update(first, {
      status: TaskStatus.Completed,
      progress: 100,
      result: RESULT,
      completed_at: new Date(),
    });
    expect(page.text('#rows >>> #running-count')).toBe('1 个进行中');
    const done = page
      .all('#rows >>> .row')
      .find((r) => String(r.dom?.textContent).includes('提取完成'));
    expect(String(done?.dom?.textContent)).toContain(`共 25 字，点开查看`);
    // Opened, it is seen: back on the form it is no longer listed; the other still is.
    await page.tap(`#rows >>> #row-${page.data.rows.findIndex((r) => r.id === first)}`);
    expect(page.text('#result-title')).toBe(RESULT.title);
    await page.tap('#again');
    expect(page.data.rows.map((r) => r.id)).toEqual([second]);
    expect(server.openWatches(first)).toHaveLength(0);
  });

  it('the tasks still running since last time are listed under the form at load', async () => {
    server.seed(
      { _id: 'earlier', status: TaskStatus.Processing, progress: 60, started_at: new Date() },
      DOUYIN_TEXT,
    );
    server.seed({ _id: 'finished', status: TaskStatus.Completed, progress: 100, result: RESULT });
    open();
    await settle();
    expect(page.data.rows.map((r) => r.id)).toEqual(['earlier']);
    expect(page.text('#rows >>> #row-0')).toContain('正在提取文案 · 60%');
    expect(server.calls('list')).toHaveLength(1); // the one list call the wait estimate makes
    await page.tap('#rows >>> #row-0');
    expect(page.text('#headline')).toBe('正在提取文案');
  });

  it('too many running: says how many and lists them instead of offering a resend that fails the same way', async () => {
    // Three tasks run already, started on another device.
    for (const i of [1, 2, 3]) {
      server.seed(
        {
          _id: `busy-${i}`,
          status: TaskStatus.Processing,
          progress: 10 * i,
          created_at: new Date(Date.now() - i * 1000),
        },
        DOUYIN_TEXT,
      );
    }
    server.seed({}, DOUYIN_TEXT); // (not running: finished below)
    server.update('task-1', { status: TaskStatus.Failed, error_code: 'PROVIDER_ERROR' });
    open();
    await page.input('#share-text', XHS);
    await page.tap('#submit');
    await settle();
    expect(server.calls('create')).toHaveLength(1);
    expect(page.text('#submit-error')).toContain('已有 3 个任务正在提取，等其中一个完成再提交');
    expect(page.text('#submit')).toBe('提取文案'); // not 重新提交
    expect(page.all('#rows >>> .row')).toHaveLength(3);
    expect(page.text('#rows >>> #running-count')).toBe('3 个进行中');
    await page.tap('#rows >>> #row-0');
    expect(page.data.card?.id).toBe('busy-1');
    await page.tap('#next');

    // One ends: the error goes, and the same text goes through.
    server.update('busy-2', { status: TaskStatus.Completed, progress: 100, result: RESULT });
    expect(page.exists('#submit-error')).toBe(false);
    expect(page.data.text).toBe(XHS);
    await page.tap('#submit');
    await settle();
    expect(page.text('#subject')).toBe('周末去哪儿 | 杭州小众咖啡店合集');
  });

  it('a task tapped in the history opens on this tab (switchTab carries no query)', async () => {
    const doc = server.seed({ status: TaskStatus.Completed, progress: 100, result: RESULT });
    open();
    await settle();
    expect(page.data.view).toBe('form');
    const nav = jest.requireActual<typeof import('../../utils/nav')>(
      `${miniprogramRoot}/utils/nav`,
    );
    page.call('onHide');
    nav.openTask(doc._id);
    expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
    page.call('onShow');
    await settle();
    expect(page.text('#result-title')).toBe(RESULT.title);
    expect(nav.takeTaskToOpen()).toBeNull(); // taken once
  });
});

describe('the result bar and editing', () => {
  it('the fixed bar holds 再提取一个, 分享 and 复制全文; 再提取一个 goes back to an empty form', async () => {
    await completed();
    const bar = page.find('#actionbar');
    expect(bar).toBeDefined();
    expect(['#again', '#share', '#copy-content'].map((id) => page.text(id))).toEqual([
      '再提取一个',
      '分享',
      '复制全文',
    ]);
    await page.tap('#again');
    expect(page.data.view).toBe('form');
    expect(page.exists('#rows')).toBe(false); // the finished task was seen: not listed
  });

  it('correct the text, copy the corrected version, keep the original; the edit survives a reload', async () => {
    const id = await completed();
    await page.tap('#edit');
    expect(page.data.editing).toBe(true);
    expect(page.data.draft).toBe(RESULT.content);
    expect(['#edit-cancel', '#edit-save'].map((id) => page.text(id))).toEqual(['取消', '保存修改']);
    expect(page.exists('#again')).toBe(false);
    const fixed = RESULT.content.replace('红烧肉', '红烧排骨');
    await page.input('#edit-text', fixed);
    await page.tap('#edit-save');
    expect(page.data.editing).toBe(false);
    expect(page.text('#content')).toBe(fixed);
    expect(page.text('#edited-mark')).toBe('已修改');
    expect(page.text('#word-count')).toBe('共 26 字');
    await page.tap('#copy-content');
    await settle();
    expect(wx.setClipboardData).toHaveBeenLastCalledWith(expect.objectContaining({ data: fixed }));
    expect(wx.showToast).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: '已复制修改后的文案' }),
    );
    // The original on the server is untouched; the edit is on this phone, keyed by the task.
    expect(server.tasks.get(id)?.result?.content).toBe(RESULT.content);
    expect(wx.storage.get(`edits.${id}`)).toBe(fixed);

    // Another visit (a notice, the history) shows the corrected text too.
    page.call('onUnload');
    open({ taskId: id });
    await settle();
    expect(page.text('#content')).toBe(fixed);

    // 恢复原文: confirmed, the original is back and the edit is gone.
    await page.tap('#restore');
    await settle();
    expect(wx.showModal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '恢复原文？' }));
    expect(page.text('#content')).toBe(RESULT.content);
    expect(page.exists('#edited-mark')).toBe(false);
    expect(wx.storage.has(`edits.${id}`)).toBe(false);
  });

  it('cancel keeps the text; an empty text is refused; the same text as the original keeps no edit', async () => {
    const id = await completed();
    await page.tap('#edit');
    await page.input('#edit-text', '随便改改');
    await page.tap('#edit-cancel');
    expect(page.text('#content')).toBe(RESULT.content);
    await page.tap('#edit');
    await page.input('#edit-text', '   ');
    await page.tap('#edit-save');
    expect(page.data.editing).toBe(true);
    expect(wx.showToast).toHaveBeenLastCalledWith(
      expect.objectContaining({ title: '文案不能是空的' }),
    );
    await page.input('#edit-text', RESULT.content);
    await page.tap('#edit-save');
    expect(page.data.editing).toBe(false);
    expect(page.exists('#edited-mark')).toBe(false);
    expect(wx.storage.has(`edits.${id}`)).toBe(false);
  });
});

describe('saving the video and the cover', () => {
  it('保存视频: asks for the album from the tap, downloads with progress, saves the MP4, cleans up', async () => {
    await completed();
    page.call('onSaveVideo');
    // The permission comes first, before any download.
    expect(page.text('#save-video')).toBe('下载中 0%');
    await settle(2);
    expect(wx.authorize).toHaveBeenCalledWith(
      expect.objectContaining({ scope: 'scope.writePhotosAlbum' }),
    );
    await settle();
    expect(wx.downloadFile).toHaveBeenCalledWith(
      expect.objectContaining({ url: RESULT.video_url, filePath: 'wxfile://usr/save-video.mp4' }),
    );
    expect(wx.album).toEqual(['wxfile://usr/save-video.mp4']);
    expect(wx.unlinked).toEqual(['wxfile://usr/save-video.mp4']);
    expect(page.text('#save-message')).toBe('视频已保存到相册');
    expect(page.text('#save-video')).toBe('保存视频');
  });

  it('保存封面: an http cover is fetched over https and saved as the image it is; a tap opens it full size', async () => {
    await completed({ cover: 'http://i0.hdslb.com/bfs/archive/cover.jpg' });
    await page.tap('#cover');
    expect(wx.previewImage).toHaveBeenCalledWith({
      urls: ['https://i0.hdslb.com/bfs/archive/cover.jpg'],
      current: 'https://i0.hdslb.com/bfs/archive/cover.jpg',
    });
    await page.tap('#save-cover');
    await settle();
    expect(wx.downloadFile.mock.calls[0]?.[0]).toMatchObject({
      url: 'https://i0.hdslb.com/bfs/archive/cover.jpg',
    });
    expect(wx.downloadFile.mock.calls[0]?.[0].filePath).toBeUndefined();
    expect(wx.album).toEqual(['wxfile://tmp/download.jpg']);
    expect(page.text('#save-message')).toBe('封面已保存到相册');
  });

  it('album refused before: says so with 去设置; granted there, the save goes on by itself', async () => {
    wx.getSetting.mockImplementation((o: { success(r: object): void }) =>
      setTimeout(() => o.success({ authSetting: { 'scope.writePhotosAlbum': false } }), 0),
    );
    await completed();
    await page.tap('#save-video');
    await settle();
    expect(wx.authorize).not.toHaveBeenCalled(); // WeChat would refuse without asking
    expect(wx.downloadFile).not.toHaveBeenCalled();
    expect(page.text('#save-message')).toContain('没有相册权限');
    expect(page.text('#open-setting')).toBe('去设置');
    expect(page.find('#open-setting')?.dom?.getAttribute('class') ?? '').toContain(
      'save-note__btn',
    );

    // Back from the settings page without switching it on: still not saved, still offered.
    page.call('onSettingDone', { detail: { authSetting: { 'scope.writePhotosAlbum': false } } });
    expect(page.text('#save-message')).toContain('还没有打开');
    // Switched on: the save continues without another tap.
    wx.getSetting.mockImplementation((o: { success(r: object): void }) =>
      setTimeout(() => o.success({ authSetting: { 'scope.writePhotosAlbum': true } }), 0),
    );
    page.call('onSettingDone', { detail: { authSetting: { 'scope.writePhotosAlbum': true } } });
    await settle();
    expect(wx.album).toHaveLength(1);
    expect(page.text('#save-message')).toBe('视频已保存到相册');
  });

  it('album refused at the prompt: nothing is downloaded and the message says how to allow it', async () => {
    wx.authorize.mockImplementation((o: { fail(e: object): void }) =>
      setTimeout(() => o.fail({ errMsg: 'authorize:fail auth deny' }), 0),
    );
    await completed();
    await page.tap('#save-cover');
    await settle();
    expect(wx.downloadFile).not.toHaveBeenCalled();
    expect(page.text('#save-message')).toContain('点「去设置」打开「添加到相册」');
  });

  it('a host that is not a download domain: names it and says the way around, per kind', async () => {
    wx.downloadFile.mockImplementation((o: { fail(e: object): void }) => {
      setTimeout(() => o.fail({ errMsg: 'downloadFile:fail url not in domain list' }), 0);
      return { onProgressUpdate: jest.fn(), abort: jest.fn() };
    });
    await completed();
    await page.tap('#save-video');
    await settle();
    expect(page.text('#save-message')).toBe(
      '视频所在的网站（v3.example.com）还没加入小程序的下载名单，暂时存不了；可以先复制链接，到浏览器里下载',
    );
    expect(page.exists('#open-setting')).toBe(false);
    await page.tap('#save-cover');
    await settle();
    expect(page.text('#save-message')).toContain('可以点开封面，长按图片保存');
    expect(wx.album).toHaveLength(0);
  });

  it('an expired link and a file over 200 MB are said as such', async () => {
    wx.downloadFile.mockImplementationOnce(downloadAnswering(403));
    await completed();
    await page.tap('#save-video');
    await settle();
    expect(page.text('#save-message')).toContain('链接已失效');
    wx.downloadFile.mockImplementationOnce(downloadAnswering(200, 300 * 1024 * 1024));
    await page.tap('#save-video');
    await settle();
    expect(page.text('#save-message')).toContain('视频超过 200MB');
    expect(wx.album).toHaveLength(0);
  });
});

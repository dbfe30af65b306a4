import { settle } from '../../test/setup';
import { ERROR_MESSAGES, FAILURE_MESSAGES } from '../../../shared/errors';
import {
  CANCELLED_TEXT,
  NETWORK_ERROR_MESSAGE,
  VIDEO_LINK_NOTE,
} from '../../../shared/presentation';
import { TaskStatus } from '../../../shared/status';
import type { FakeServer } from '../../test/fake-server';
import { DOUYIN_TEXT, RESULT, wire } from '../../test/fixtures';
import { TEMPLATES, loadPage, type PageDriver } from '../../test/harness';
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

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2024-05-20T06:00:00.000Z') });
  ({ server, wx } = wire({ success: 'accept', failure: 'reject' }));
});

afterEach(() => {
  page?.call('onUnload');
  jest.useRealTimers();
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
    expect(page.text('#notify-note')).toContain('历史记录');
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

describe('following a task', () => {
  it('queued, then processing through the watch: the state said once, the caption as title', async () => {
    open();
    const id = await submit();
    expect(page.text('#headline')).toBe('排队中');
    expect(page.text('#progress-text')).toBe('马上开始');
    expect(page.text('#wait')).toBe('通常约 1 分钟'); // no finished task to go by
    expect(page.text('#source')).toBe('抖音好可爱');
    server.update(id, { status: TaskStatus.Processing, progress: 40, started_at: new Date() });
    expect(page.text('#headline')).toBe('正在提取文案');
    expect(page.text('#progress-text')).toBe('40%');
    // The watch's document has no caption; the card keeps the one the function answered.
    expect(page.text('#source')).toBe('抖音好可爱');
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
    open();
    const id = await submit();
    server.update(id, {
      status: TaskStatus.Completed,
      progress: 100,
      result: RESULT,
      completed_at: new Date(),
    });
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
    expect(page.call('onShareAppMessage')).toEqual({
      title: `「${RESULT.title}」的文案提取好了`,
      path: '/pages/index/index',
    });
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

  it('watch error → polling → recovery', async () => {
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

    // A longer outage: every re-watch fails too. The backoff grows and `get` polls every 3 s,
    // through network errors as well.
    server.watchDown = true;
    const brokeAt = Date.now();
    server.breakWatches();
    const opened = server.watchOpenedAt.length;
    const polled = gets();
    server.offline = true;
    await settle(9000);
    server.offline = false;
    await settle(9000);
    expect(gets() - polled).toBeGreaterThanOrEqual(6);
    // Re-watches 1 s, 2 s and 5 s after each failure (which the fake reports 5 ms after opening).
    const at = server.watchOpenedAt.slice(opened, opened + 3).map((t) => t - brokeAt);
    expect(at).toEqual([1000, 3005, 8010]);
    expect(page.exists('#reconnecting')).toBe(true);
    // The service is back: the next re-watch (10 s step) succeeds and the link is live again.
    server.watchDown = false;
    await settle(10_000);
    expect(page.exists('#reconnecting')).toBe(false);
    expect(server.openWatches(id)).toHaveLength(1);
    server.update(id, { status: TaskStatus.Completed, progress: 100, result: RESULT });
    await settle(100);
    expect(page.text('#headline')).toBe('提取完成');
    expect(server.openWatches()).toHaveLength(0);
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

import { settle } from '../../test/setup';
import { ERROR_MESSAGES, FAILURE_MESSAGES } from '../../../shared/errors';
import { NETWORK_ERROR_MESSAGE, VIDEO_LINK_NOTE } from '../../../shared/presentation';
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
    expect(server.requests).toHaveLength(0);
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
    expect(server.requests).toHaveLength(0);
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
    expect(server.log.slice(0, 2)).toEqual(['subscribe', 'call:create']);
    const create = server.calls('create')[0];
    expect(create).toMatchObject({
      shareText: DOUYIN_TEXT,
      subscribed: { success: true, failure: false },
    });
    expect(create && 'requestId' in create ? create.requestId : '').toMatch(
      /^[A-Za-z0-9_.:-]{8,64}$/,
    );
    expect(page.data.submitting).toBe(false);
    expect(page.text('#headline')).toBe('已提交，排队中');
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

    server.offline = true;
    await page.tap('#submit');
    await settle();
    expect(page.text('#submit-error')).toContain(NETWORK_ERROR_MESSAGE);

    server.offline = false;
    await page.tap('#resubmit');
    await settle();
    const ids = server.tried('create').map((r) => ('requestId' in r ? r.requestId : ''));
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(page.data.card?.status).toBe(TaskStatus.Pending);
  });
});

describe('following a task', () => {
  it('processing: staged progress arrives through the watch', async () => {
    open();
    const id = await submit();
    expect(page.data.card?.stages.map((s) => s.state)).toEqual(['active', 'todo', 'todo']);
    server.update(id, { status: TaskStatus.Processing, progress: 40, started_at: new Date() });
    expect(page.text('#headline')).toBe('正在提取文案');
    expect(page.text('#status')).toBe('提取中');
    expect(page.text('#stage-text')).toBe('正在提取视频里的文案… 40%');
    expect(page.data.card?.stages.map((s) => s.state)).toEqual(['done', 'active', 'todo']);
    expect(page.exists('#cancel')).toBe(true);
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
    expect(page.text('#video-url')).toBe(RESULT.video_url);
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

  it('failed: the specific reason and a retry that prompts first and follows the new task', async () => {
    open();
    const id = await submit();
    server.update(id, {
      status: TaskStatus.Failed,
      error_code: 'PHOTO_NOTE',
      error_message: '图文',
      started_at: new Date(),
      completed_at: new Date(),
    });
    expect(page.text('#headline')).toBe('提取失败');
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.PHOTO_NOTE);
    expect(page.data.card?.stages.map((s) => s.state)).toEqual(['done', 'error', 'todo']);

    await page.tap('#retry');
    expect(wx.requestSubscribeMessage).toHaveBeenCalledTimes(2);
    expect(server.calls('retry')).toHaveLength(0); // not before the prompt is answered
    await settle();
    expect(server.calls('retry')[0]).toMatchObject({ taskId: id, subscribed: { success: true } });
    expect(page.data.card?.id).toBe(`retry-${id}`);
    expect(page.text('#headline')).toBe('已提交，排队中');
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
    expect(page.text('#reason')).toBe(FAILURE_MESSAGES.CANCELLED);
    expect(page.exists('#retry')).toBe(true);
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
    expect(page.text('#stage-text')).toBe('正在提取视频里的文案… 60%');
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
    expect(page.text('#stage-text')).toBe('正在提取视频里的文案… 80%');
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

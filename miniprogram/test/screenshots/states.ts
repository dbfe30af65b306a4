/**
 * Every page state worth a picture, each reached the way the page tests reach it: the real page
 * in miniprogram-simulate, the fake cloud, taps and task updates. `renderState` returns the
 * state's DOM as HTML (to-html.ts); scripts/screenshots/shoot.ts draws it with the WXSS.
 */
import { downloadAnswering, settle } from '../setup';
import { ERROR_MESSAGES } from '../../../shared/errors';
import type { TaskResult } from '../../../shared/result';
import { TaskStatus } from '../../../shared/status';
import type { TaskDoc } from '../../../shared/task';
import type { FakeServer } from '../fake-server';
import { DOUYIN_TEXT, RESULT, wire } from '../fixtures';
import { loadPage, type PageDriver } from '../harness';
import type { WxMocks } from '../setup';
import { toHtml, type DomNode } from './to-html';

export type ShotPage = 'index' | 'history' | 'shared';

export interface ShotState {
  name: string;
  page: ShotPage;
  /** what the picture shows, for the README */
  caption: string;
  /** also shoot the whole scrolled page */
  fullPage?: boolean;
  drive(ctx: { server: FakeServer; wx: WxMocks }): Promise<PageDriver<unknown>>;
}

// 2026-05-20 14:00 in Beijing: every relative time in the pictures is from here.
const NOW = new Date('2026-05-20T06:00:00.000Z');
const MIN = 60_000;

const LONG_RESULT = {
  title: '普通人如何在30天内养成早起习惯？亲测有效的5个方法',
  content:
    '大家好，我是小林。今天跟大家聊一聊早起这件事。很多人都说想早起，但是闹钟一响就关掉继续睡，对吧？我以前也是这样。' +
    '后来我用了下面这五个方法，坚持了三十天，现在每天六点自然醒。第一个方法，不要一下子提前两个小时，每天提前十五分钟就够了。' +
    '第二个方法，前一天晚上把手机放到客厅充电，睡前不刷短视频。第三个方法，起床以后马上喝一杯温水，拉开窗帘让阳光照进来。' +
    '第四个方法，给早起找一个你真正期待的理由，比如一顿好吃的早餐，或者半小时不被打扰的阅读时间。' +
    '第五个方法，周末也不要睡懒觉，最多比平时晚半个小时。\n\n坚持一段时间你会发现，早起不是靠意志力，而是靠习惯。' +
    '如果你觉得这期视频对你有帮助，记得点赞收藏，我们下期见。',
  cover: 'https://p3.example.com/cover-long.jpg',
  video_url:
    'https://v26-web.douyinvod.com/0f3c9a1b2e4d5f60718293a4b5c6d7e8/665f1a2b/video/tos/cn/tos-cn-ve-15/oQAbCdEfGhIjKlMnOpQrStUvWxYz/?a=6383&ch=26&cr=3&dr=0&lr=all&cd=0%7C0%7C0%7C3&br=1212&bt=1212&cs=0&ds=4',
};

/** A Xiaohongshu photo note: its own title and body are the result (issue 25 item 7). */
const NOTE_RESULT = {
  title: '杭州小众咖啡店合集｜周末去哪儿',
  content:
    '周末跑了三家巷子里的小众咖啡店，按喜欢程度排：\n\n1. 梧桐里：手冲很稳，豆子每周换，老板会聊产地。\n' +
    '2. 半山：有个小露台，下午三点以后阳光正好。\n3. 白日梦：甜品比咖啡出色，巴斯克值得专门去。\n\n' +
    '#杭州咖啡 #周末去哪儿 #小众咖啡店',
  cover: 'https://p3.example.com/cover-note.jpg',
  video_url: '',
  kind: 'note' as const,
};
const XHS_NOTE_TEXT =
  '【杭州小众咖啡店合集 - 阿花 | 小红书 - 你的生活指南】 😆 AbCdEf 😆 https://www.xiaohongshu.com/explore/64a1b2c3d4e5f6';

const BILIBILI_TEXT = '【10分钟看懂城市地铁是怎么修的-哔哩哔哩】 https://b23.tv/AbCdEf1';
const XHS_TEXT =
  '周末去哪儿 | 杭州小众咖啡店合集 http://xhslink.com/a/AbCdEfG 复制本条信息，打开【小红书】App查看精彩内容！';

async function openIndex(query: Record<string, string> = {}): Promise<PageDriver<unknown>> {
  const page = loadPage<unknown>('index');
  page.call('onLoad', query);
  page.call('onShow');
  await settle();
  return page;
}

/** The page a share card opens, for a task the fake owner shared (with a correction if given). */
async function openShared(
  server: FakeServer,
  prepare: (q: { task: string; s: string }) => void = () => undefined,
  result: TaskResult = LONG_RESULT,
  text?: string,
): Promise<PageDriver<unknown>> {
  const doc = server.seed(
    {
      status: TaskStatus.Completed,
      progress: 100,
      platform: result.kind === 'note' ? 'xiaohongshu' : 'douyin',
      result,
      created_at: new Date(NOW.getTime() - 5 * MIN),
      completed_at: new Date(NOW.getTime() - 4 * MIN),
    },
    DOUYIN_TEXT,
  );
  const answer = server.handle({ action: 'share', taskId: doc._id, ...(text ? { text } : {}) });
  if (!answer.ok || !('share' in answer)) throw new Error('not shared');
  const query = { task: doc._id, s: answer.share.token };
  prepare(query);
  server.requests.length = 0;
  const page = loadPage<unknown>('shared');
  page.call('onLoad', query);
  await settle();
  return page;
}

async function openHistory(): Promise<PageDriver<unknown>> {
  const page = loadPage<unknown>('history');
  page.call('onLoad', {});
  page.call('onShow');
  await settle();
  return page;
}

/** Submits a share text on the index page; the task's id. */
async function submitted(page: PageDriver<unknown>, text = DOUYIN_TEXT): Promise<string> {
  await page.input('#share-text', text);
  await page.tap('#submit');
  await settle();
  const card = (page.data as { card?: { id: string } | null }).card;
  if (!card) throw new Error('no task card after submit');
  return card.id;
}

/** Three finished tasks of 40–50 s, so the wait estimate has a history to speak from. */
function seedRecent(server: FakeServer): void {
  [40, 45, 50].forEach((s, i) => {
    const created = new Date(NOW.getTime() - (i + 1) * 60 * MIN);
    server.seed({
      _id: `recent-${i}`,
      status: TaskStatus.Completed,
      progress: 100,
      result: RESULT,
      created_at: created,
      completed_at: new Date(created.getTime() + s * 1000),
    });
  });
}

/** The history of the pictures: every state a row can be in, over nine days. */
function seedHistory(server: FakeServer): void {
  const at = (m: number) => new Date(NOW.getTime() - m * MIN);
  const seed = (p: Partial<TaskDoc>, text?: string) => server.seed(p, text);
  seed({ _id: 'a', status: TaskStatus.Processing, progress: 40, created_at: at(0.5) }, DOUYIN_TEXT);
  seed({
    _id: 'b',
    status: TaskStatus.Completed,
    progress: 100,
    result: LONG_RESULT,
    created_at: at(3),
    completed_at: at(2.2),
  });
  seed(
    {
      _id: 'c',
      status: TaskStatus.Failed,
      error_code: 'PHOTO_NOTE',
      platform: 'xiaohongshu',
      created_at: at(25),
    },
    XHS_TEXT,
  );
  seed(
    {
      _id: 'n',
      status: TaskStatus.Completed,
      progress: 100,
      platform: 'xiaohongshu',
      result: NOTE_RESULT,
      created_at: at(60),
      completed_at: at(59.5),
    },
    XHS_NOTE_TEXT,
  );
  seed({
    _id: 'd',
    status: TaskStatus.Completed,
    progress: 100,
    result: { ...RESULT, cover: 'https://p3.example.com/cover-2.jpg' },
    platform: 'kuaishou',
    created_at: at(120),
    completed_at: at(119),
  });
  seed(
    {
      _id: 'e',
      status: TaskStatus.Cancelled,
      error_code: 'CANCELLED',
      platform: 'bilibili',
      created_at: at(26 * 60),
    },
    BILIBILI_TEXT,
  );
  seed({
    _id: 'f',
    status: TaskStatus.Timeout,
    error_code: 'TIMEOUT',
    created_at: at(3 * 24 * 60),
  });
  seed({
    _id: 'g',
    status: TaskStatus.Completed,
    progress: 100,
    result: {
      ...RESULT,
      title: '【干货】三个技巧让你的短视频完播率翻倍，新手也能马上用起来',
      cover: 'https://p3.example.com/cover-3.jpg',
    },
    created_at: at(9 * 24 * 60),
  });
}

/** A completed task on the index page. */
async function completedPage(
  server: FakeServer,
  result: TaskResult = RESULT,
): Promise<PageDriver<unknown>> {
  const page = await openIndex();
  const id = await submitted(page);
  server.update(id, {
    status: TaskStatus.Completed,
    progress: 100,
    result,
    completed_at: new Date(),
  });
  return page;
}

/** Three tasks running already, started elsewhere, a minute apart. */
function seedRunning(server: FakeServer, n = 3): void {
  const texts = [DOUYIN_TEXT, XHS_TEXT, BILIBILI_TEXT];
  const platforms = ['douyin', 'xiaohongshu', 'bilibili'] as const;
  for (let i = 0; i < n; i++) {
    server.seed(
      {
        _id: `running-${i}`,
        platform: platforms[i % 3],
        status: i === 2 ? TaskStatus.Pending : TaskStatus.Processing,
        progress: i === 2 ? 0 : 70 - i * 30,
        created_at: new Date(NOW.getTime() - (i + 1) * MIN),
      },
      texts[i % 3],
    );
  }
}

function failedState(name: string, code: string, caption: string, text = DOUYIN_TEXT): ShotState {
  return {
    name,
    page: 'index',
    caption,
    async drive({ server }) {
      const page = await openIndex();
      const id = await submitted(page, text);
      server.update(id, {
        status: TaskStatus.Failed,
        error_code: code,
        error_message: code,
        started_at: new Date(),
        completed_at: new Date(),
      });
      return page;
    },
  };
}

export const STATES: readonly ShotState[] = [
  {
    name: 'index-empty',
    page: 'index',
    caption: 'Empty form: paste is a clear control',
    drive: () => openIndex(),
  },
  {
    name: 'index-clipboard-offer',
    page: 'index',
    caption: 'On show: a link found on the clipboard is offered once',
    async drive({ wx }) {
      wx.getPrivacySetting.mockImplementation((o: { success(r: object): void }) =>
        setTimeout(() => o.success({ needAuthorization: false }), 0),
      );
      wx.getClipboardData.mockImplementation((o: { success(r: object): void }) =>
        setTimeout(() => o.success({ data: DOUYIN_TEXT }), 0),
      );
      return openIndex();
    },
  },
  {
    name: 'index-filled',
    page: 'index',
    caption: 'Filled: the platform is recognised',
    async drive() {
      const page = await openIndex();
      await page.input('#share-text', DOUYIN_TEXT);
      return page;
    },
  },
  {
    name: 'index-error-no-link',
    page: 'index',
    caption: 'No link in the text: the error takes the hint’s place, nothing moves',
    async drive() {
      const page = await openIndex();
      await page.input('#share-text', '这个视频太好笑了哈哈哈');
      await page.tap('#submit');
      return page;
    },
  },
  {
    name: 'index-error-unsupported',
    page: 'index',
    caption: 'Unsupported platform',
    async drive() {
      const page = await openIndex();
      await page.input('#share-text', '看看 https://www.youtube.com/watch?v=dQw4w9WgXcQ');
      await page.tap('#submit');
      return page;
    },
  },
  {
    name: 'index-error-submit',
    page: 'index',
    caption: 'A create that did not get through: the reason, and the button becomes 重新提交',
    async drive({ server }) {
      const page = await openIndex();
      await page.input('#share-text', DOUYIN_TEXT);
      server.offline = true;
      await page.tap('#submit');
      await settle();
      return page;
    },
  },
  {
    name: 'index-too-many',
    page: 'index',
    caption: 'Too many running: how many, and each of them (a tap opens it); no 重新提交',
    async drive({ server }) {
      seedRunning(server);
      const page = await openIndex();
      await page.input('#share-text', XHS_TEXT);
      await page.tap('#submit');
      await settle();
      return page;
    },
  },
  {
    name: 'index-running-list',
    page: 'index',
    caption: 'The form while tasks run: each listed with its progress; one ended unseen',
    async drive({ server }) {
      const page = await openIndex();
      const first = await submitted(page);
      await page.tap('#next');
      const second = await submitted(page, XHS_TEXT);
      await page.tap('#next');
      await submitted(page, BILIBILI_TEXT);
      await page.tap('#next');
      server.update(first, {
        status: TaskStatus.Completed,
        progress: 100,
        result: LONG_RESULT,
        completed_at: new Date(),
      });
      server.update(second, {
        status: TaskStatus.Processing,
        progress: 40,
        started_at: new Date(),
      });
      return page;
    },
  },
  {
    name: 'index-submitting',
    page: 'index',
    caption: 'Submitting',
    async drive() {
      const page = await openIndex();
      await page.input('#share-text', DOUYIN_TEXT);
      page.call('onSubmit');
      return page;
    },
  },
  {
    name: 'index-queued',
    page: 'index',
    caption: 'Queued: the state once, the usual wait (no history yet), cancel is secondary',
    async drive() {
      const page = await openIndex();
      await submitted(page);
      return page;
    },
  },
  {
    name: 'index-queued-position',
    page: 'index',
    caption: 'Waiting in the queue: how many are ahead and when it starts, live from the queue',
    async drive({ server }) {
      server.queueAhead = 48;
      const page = await openIndex();
      await submitted(page);
      server.publishQueue({ started_total: 112 });
      return page;
    },
  },
  {
    name: 'index-reconnecting',
    page: 'index',
    caption: 'A watch refused or dropped: polling on a backoff meanwhile, the place kept current',
    async drive({ server }) {
      server.queueAhead = 20;
      const page = await openIndex();
      await submitted(page);
      server.watchDown = true;
      server.breakWatches();
      server.queueState = { ...server.queueState, started_total: 106 };
      await settle(3100);
      return page;
    },
  },
  {
    name: 'index-too-busy',
    page: 'index',
    caption: 'A submit the queue refused (TOO_BUSY): nothing charged, and when to try again',
    async drive({ server }) {
      server.overrides.set('create', () => ({
        ok: false,
        error: { code: 'TOO_BUSY', message: ERROR_MESSAGES.TOO_BUSY, retryAfterS: 240 },
      }));
      const page = await openIndex();
      await page.input('#share-text', DOUYIN_TEXT);
      await page.tap('#submit');
      await settle();
      return page;
    },
  },
  {
    name: 'index-quota-used-up',
    page: 'index',
    caption: "Today's uses spent: said under the button, with when more come; no 重新提交",
    async drive({ server }) {
      server.usedToday = server.dailyQuota;
      const page = await openIndex();
      await page.input('#share-text', DOUYIN_TEXT);
      await page.tap('#submit');
      await settle();
      return page;
    },
  },
  {
    name: 'index-processing',
    page: 'index',
    caption: 'Processing: the wait estimated from recent tasks; the other tasks under the card',
    async drive({ server }) {
      seedRecent(server);
      const page = await openIndex();
      const other = await submitted(page, XHS_TEXT);
      await page.tap('#next');
      const id = await submitted(page);
      server.update(id, { status: TaskStatus.Processing, progress: 40, started_at: new Date() });
      server.update(other, { status: TaskStatus.Processing, progress: 70, started_at: new Date() });
      return page;
    },
  },
  {
    name: 'index-completed',
    page: 'index',
    caption: 'Completed, short text: 编辑, 保存视频, 保存封面, 复制链接; the cover opens full size',
    drive: ({ server }) => completedPage(server),
  },
  {
    name: 'index-completed-long',
    page: 'index',
    caption:
      'Completed, long text: 再提取一个, 分享 and 复制全文 stay in the bar above the tab bar',
    fullPage: true,
    drive: ({ server }) => completedPage(server, LONG_RESULT),
  },
  {
    name: 'index-shared',
    page: 'index',
    caption: 'Shared: until when friends can open it, and 停止分享',
    async drive({ server }) {
      const page = await completedPage(server);
      const card = page.call('onShareAppMessage') as { promise: Promise<unknown> };
      await settle();
      await card.promise;
      return page;
    },
  },
  {
    name: 'index-editing',
    page: 'index',
    caption: 'Correcting the text: the bar becomes 取消 / 保存修改',
    async drive({ server }) {
      const page = await completedPage(server);
      await page.tap('#edit');
      await page.input('#edit-text', RESULT.content.replace('红烧肉', '红烧排骨'));
      return page;
    },
  },
  {
    name: 'index-edited',
    page: 'index',
    caption: 'Corrected: marked 已修改, copied as corrected, 恢复原文 brings the original back',
    async drive({ server }) {
      const page = await completedPage(server);
      await page.tap('#edit');
      await page.input('#edit-text', RESULT.content.replace('红烧肉', '红烧排骨'));
      await page.tap('#edit-save');
      return page;
    },
  },
  {
    name: 'index-saving-video',
    page: 'index',
    caption: '保存视频: the download’s progress on the button',
    async drive({ server, wx }) {
      wx.downloadFile.mockImplementation(() => {
        const listeners: ((p: object) => void)[] = [];
        setTimeout(() => {
          for (const l of listeners)
            l({ progress: 45, totalBytesWritten: 45, totalBytesExpectedToWrite: 100 });
        }, 5);
        return {
          onProgressUpdate: (l: (p: object) => void) => listeners.push(l),
          abort: jest.fn(),
        };
      });
      const page = await completedPage(server);
      await page.tap('#save-video');
      await settle();
      return page;
    },
  },
  {
    name: 'index-saved',
    page: 'index',
    caption: 'Saved to the album',
    async drive({ server, wx }) {
      wx.downloadFile.mockImplementation(downloadAnswering(200));
      const page = await completedPage(server);
      await page.tap('#save-video');
      await settle();
      return page;
    },
  },
  {
    name: 'index-save-denied',
    page: 'index',
    caption: 'The album permission refused: why, and 去设置 (the save goes on once allowed)',
    async drive({ server, wx }) {
      wx.getSetting.mockImplementation((o: { success(r: object): void }) =>
        setTimeout(() => o.success({ authSetting: { 'scope.writePhotosAlbum': false } }), 0),
      );
      const page = await completedPage(server);
      await page.tap('#save-video');
      await settle();
      return page;
    },
  },
  {
    name: 'index-save-domain',
    page: 'index',
    caption: 'The video’s host is not a download domain: named, with the way around',
    async drive({ server, wx }) {
      wx.downloadFile.mockImplementation((o: { fail(e: object): void }) => {
        setTimeout(() => o.fail({ errMsg: 'downloadFile:fail url not in domain list' }), 0);
        return { onProgressUpdate: jest.fn(), abort: jest.fn() };
      });
      const page = await completedPage(server, { ...RESULT, video_url: LONG_RESULT.video_url });
      await page.tap('#save-video');
      await settle();
      return page;
    },
  },
  {
    name: 'index-completed-note',
    page: 'index',
    caption: 'A photo note: its own title and body, labelled 笔记正文 (not a transcript); no video',
    drive: ({ server }) => completedPage(server, NOTE_RESULT),
  },
  failedState(
    'index-failed-photo-note',
    'PHOTO_NOTE',
    'A photo note with no text of its own (permanent): 换个链接 is the main action',
    XHS_TEXT,
  ),
  failedState('index-failed-no-speech', 'NO_SPEECH', 'No speech (permanent)'),
  failedState('index-failed-too-long', 'TOO_LONG', 'Too long (permanent)', BILIBILI_TEXT),
  failedState('index-failed-unavailable', 'VIDEO_UNAVAILABLE', 'Video unavailable (permanent)'),
  failedState(
    'index-failed-provider',
    'PROVIDER_ERROR',
    'Provider error (transient): 重试 is the main action',
  ),
  failedState('index-failed-busy', 'UPSTREAM_UNAVAILABLE', 'Upstream busy (transient)'),
  failedState(
    'index-failed-too-busy',
    'TOO_BUSY',
    'Waited in the queue past its bound (TOO_BUSY): never started, nothing charged, 重试',
  ),
  {
    name: 'index-cancelled',
    page: 'index',
    caption: 'Cancelled',
    async drive() {
      const page = await openIndex();
      await submitted(page);
      await page.tap('#cancel');
      await settle();
      return page;
    },
  },
  {
    name: 'index-timeout',
    page: 'index',
    caption: 'Timed out',
    async drive({ server }) {
      const doc = server.seed(
        {
          status: TaskStatus.Timeout,
          error_code: 'TIMEOUT',
          started_at: new Date(NOW.getTime() - 5 * MIN),
          completed_at: new Date(),
        },
        DOUYIN_TEXT,
      );
      return openIndex({ taskId: doc._id });
    },
  },
  {
    name: 'index-removed',
    page: 'index',
    caption: 'The open task was deleted (the watch saw it removed)',
    async drive({ server }) {
      const page = await openIndex();
      const id = await submitted(page);
      server.removeDoc(id);
      return page;
    },
  },
  {
    name: 'index-privacy',
    page: 'index',
    caption: 'The privacy sheet (clipboard)',
    async drive() {
      const page = await openIndex();
      page.find('#privacy')?.instance.setData({ visible: true });
      return page;
    },
  },
  {
    name: 'shared-result',
    page: 'shared',
    caption: 'A friend opens the share card: the result, read-only; copy, or extract one’s own',
    fullPage: true,
    drive: ({ server }) => openShared(server),
  },
  {
    name: 'shared-edited',
    page: 'shared',
    caption: 'The owner corrected the text before sharing: the friend reads the correction, marked',
    drive: ({ server }) =>
      openShared(server, undefined, RESULT, RESULT.content.replace('红烧肉', '红烧排骨')),
  },
  {
    name: 'shared-note',
    page: 'shared',
    caption: 'A shared photo note: the note’s own text, labelled as such',
    drive: ({ server }) => openShared(server, undefined, NOTE_RESULT),
  },
  {
    name: 'shared-expired',
    page: 'shared',
    caption: 'The link is past its 7 days: said plainly, with the way to extract one’s own',
    drive: ({ server }) =>
      openShared(server, () => jest.setSystemTime(new Date(NOW.getTime() + 8 * 24 * 60 * MIN))),
  },
  {
    name: 'shared-revoked',
    page: 'shared',
    caption: 'The owner stopped sharing',
    drive: ({ server }) =>
      openShared(server, (q) => server.handle({ action: 'unshare', taskId: q.task })),
  },
  {
    name: 'shared-gone',
    page: 'shared',
    caption: 'The owner deleted the task (or the link is wrong): nothing about the task is said',
    drive: ({ server }) => openShared(server, (q) => server.removeDoc(q.task)),
  },
  {
    name: 'shared-failed',
    page: 'shared',
    caption: 'The call did not get through: open it again',
    drive: ({ server }) =>
      openShared(server, () => {
        server.offline = true;
      }),
  },
  {
    name: 'history-list',
    page: 'history',
    caption: 'History: title or caption, a line of text or the reason, the cover',
    fullPage: true,
    async drive({ server }) {
      seedHistory(server);
      return openHistory();
    },
  },
  {
    name: 'history-search',
    page: 'history',
    caption: 'History, searched as you type (title, caption, text, platform)',
    async drive({ server }) {
      seedHistory(server);
      const page = await openHistory();
      await page.input('#search', '红烧肉');
      await settle();
      return page;
    },
  },
  {
    name: 'history-empty',
    page: 'history',
    caption: 'History, empty',
    drive: () => openHistory(),
  },
  {
    name: 'history-error',
    page: 'history',
    caption: 'History, the load failed',
    async drive({ server }) {
      server.offline = true;
      return openHistory();
    },
  },
];

/** What the shooter reads of a state (its manifest.json entry). */
export function manifestEntry(state: ShotState) {
  return {
    name: state.name,
    page: state.page,
    caption: state.caption,
    fullPage: state.fullPage === true,
  };
}

/** Drives one state from a fresh page and fake cloud; its DOM as HTML. */
export async function renderState(state: ShotState): Promise<string> {
  jest.useFakeTimers({ now: NOW });
  try {
    const ctx = wire({ success: 'accept', failure: 'accept' });
    const page = await state.drive(ctx);
    const html = toHtml(page.comp.dom as unknown as DomNode);
    if (state.page === 'index') page.call('onUnload'); // stops the tracker's timers
    return html;
  } finally {
    jest.useRealTimers();
  }
}

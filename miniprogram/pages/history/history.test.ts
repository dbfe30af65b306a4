import { settle } from '../../test/setup';
import { TaskStatus } from '../../../shared/status';
import type { FakeServer } from '../../test/fake-server';
import { DOUYIN_TEXT, RESULT, wire } from '../../test/fixtures';
import { FAILURE_MESSAGES } from '../../../shared/errors';
import { loadPage, type PageDriver } from '../../test/harness';
import type { WxMocks } from '../../test/setup';
import { miniprogramRoot } from '../../test/node-bridge';
import { LIST_DEFAULT_LIMIT } from '../../../shared/api';
// Types only: loading the page module outside simulate would call Component() unbound.
import type { HistoryData } from './history';

let server: FakeServer;
let wx: WxMocks;
let page: PageDriver<HistoryData>;

async function open(): Promise<void> {
  page = loadPage<HistoryData>('history');
  page.call('onLoad', {});
  page.call('onShow');
  await settle();
}

/** `n` tasks created a minute apart, the newest last. */
function seedMany(n: number): void {
  const start = Date.now() - n * 60_000;
  for (let i = 0; i < n; i++) {
    const t = new Date(start + i * 60_000);
    server.seed({ _id: `t${String(i).padStart(3, '0')}`, created_at: t, updated_at: t });
  }
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2024-05-20T06:00:00.000Z') });
  ({ server, wx } = wire());
});

afterEach(() => {
  jest.useRealTimers();
});

it('empty: says so with a blank page (not a warning) and leads to the 提取 tab', async () => {
  page = loadPage<HistoryData>('history');
  page.call('onLoad', {});
  expect(page.exists('#loading')).toBe(true);
  await settle();
  expect(page.text('#empty')).toContain('还没有提取记录');
  expect(page.exists('#empty-art')).toBe(true);
  expect(page.all('#empty icon')).toHaveLength(0);
  expect(page.exists('#search')).toBe(false); // nothing to search in
  await page.tap('#new');
  expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
});

it('pages through the list newest first with the cursor', async () => {
  seedMany(45);
  await open();
  expect(LIST_DEFAULT_LIMIT).toBe(20);
  expect(page.data.items).toHaveLength(20);
  expect(page.data.items[0]?.id).toBe('t044');
  expect(page.text('#more')).toBe('加载更多');

  page.call('onReachBottom');
  page.call('onReachBottom'); // a second scroll event while loading is ignored
  await settle();
  expect(page.data.items).toHaveLength(40);
  page.call('onReachBottom');
  await settle();
  expect(page.data.items).toHaveLength(45);
  expect(page.data.items[44]?.id).toBe('t000');
  expect(page.data.hasMore).toBe(false);
  expect(page.text('#more')).toBe('没有更多了');
  page.call('onReachBottom');
  await settle();

  expect(server.calls('list').map((r) => ('cursor' in r ? (r.cursor ?? null) : null))).toEqual([
    null,
    'c20',
    'c40',
  ]);
  expect(new Set(page.data.items.map((i) => i.id)).size).toBe(45);
});

it('rows say what each task is: title, else caption; a line of text, else the reason', async () => {
  server.seed({
    _id: 'done',
    status: TaskStatus.Completed,
    progress: 100,
    result: RESULT,
    created_at: new Date(Date.now() - 3 * 60_000),
  });
  server.seed(
    {
      _id: 'bad',
      status: TaskStatus.Failed,
      error_code: 'NO_SPEECH',
      created_at: new Date(Date.now() - 2 * 60_000),
    },
    DOUYIN_TEXT,
  );
  server.seed(
    {
      _id: 'running',
      status: TaskStatus.Processing,
      progress: 30,
      platform: 'bilibili',
      created_at: new Date(Date.now() - 60_000),
    },
    '【10分钟看懂城市地铁是怎么修的-哔哩哔哩】 https://b23.tv/AbCdEf1',
  );
  await open();
  expect(page.data.items.map((i) => [i.id, i.title, i.statusLabel, i.tone])).toEqual([
    ['running', '10分钟看懂城市地铁是怎么修的', '提取中', 'info'],
    ['bad', '小猫的作品 · 好可爱', '失败', 'error'],
    ['done', RESULT.title, '已完成', 'success'],
  ]);
  expect(page.text('#item-0')).toContain('正在提取 30%');
  expect(page.text('#item-1')).toContain(FAILURE_MESSAGES.NO_SPEECH);
  expect(page.text('#item-2')).toContain(RESULT.content.slice(0, 10));
  expect(page.text('#item-2')).toContain('抖音 · 3 分钟前');
  // A cover when there is one, the platform's tile otherwise.
  expect(page.exists('#item-2 .thumb')).toBe(true);
  expect(page.data.items[2]?.cover).toBe(RESULT.cover);
  expect(page.data.items[0]?.initial).toBe('哔');
});

it('tap to open on the 提取 tab; copy again fetches the whole text', async () => {
  server.seed({ _id: 'done', status: TaskStatus.Completed, progress: 100, result: RESULT });
  await open();
  expect(page.exists('#copy-0')).toBe(true);
  await page.tap('#copy-0');
  await settle();
  expect(server.calls('get')).toEqual([{ action: 'get', taskId: 'done' }]);
  expect(wx.setClipboardData).toHaveBeenCalledWith(
    expect.objectContaining({ data: RESULT.content }),
  );
  expect(wx.switchTab).not.toHaveBeenCalled(); // catchtap: copying does not open the task
  await page.tap('#item-0');
  // A tab page takes no query: the task is handed over, then the tab switched to.
  expect(wx.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' });
  const nav = jest.requireActual<typeof import('../../utils/nav')>(`${miniprogramRoot}/utils/nav`);
  expect(nav.takeTaskToOpen()).toBe('done');
});

it('copy and search use the corrected text; deleting the task forgets the correction', async () => {
  server.seed({ _id: 'done', status: TaskStatus.Completed, progress: 100, result: RESULT });
  wx.storage.set('edits.done', '大家好，今天教大家做糖醋排骨。');
  wx.storage.set('edits.index', [{ id: 'done', at: Date.now() }]);
  await open();
  await page.tap('#copy-0');
  await settle();
  expect(server.calls('get')).toHaveLength(0);
  expect(wx.setClipboardData).toHaveBeenCalledWith(
    expect.objectContaining({ data: '大家好，今天教大家做糖醋排骨。' }),
  );
  await page.input('#search', '糖醋');
  expect(page.data.items.map((i) => i.id)).toEqual(['done']);
  await page.tap('#menu-0');
  await settle(); // the sheet's first item is 复制全文; the second deletes
  wx.showActionSheet.mockImplementationOnce((o: { success(r: object): void }) =>
    setTimeout(() => o.success({ tapIndex: 1 }), 0),
  );
  await page.tap('#menu-0');
  await settle();
  expect(server.calls('remove')).toHaveLength(1);
  expect(wx.storage.has('edits.done')).toBe(false);
  expect(wx.storage.get('edits.index')).toEqual([]);
});

it('search: filters as you type over title, caption, text and platform, and looks in older pages too', async () => {
  seedMany(230); // t000 (oldest) … t229, a minute apart
  server.seed(
    { _id: 'cat', created_at: new Date(Date.now() - 150.5 * 60_000), status: TaskStatus.Failed },
    DOUYIN_TEXT,
  );
  server.seed(
    { _id: 'far', created_at: new Date(Date.now() - 500 * 60_000), platform: 'bilibili' },
    '【10分钟看懂城市地铁是怎么修的-哔哩哔哩】 https://b23.tv/AbCdEf1',
  );
  server.seed({
    _id: 'pork',
    status: TaskStatus.Completed,
    progress: 100,
    result: RESULT,
    created_at: new Date(Date.now() + 60_000),
  });
  await open();
  expect(page.data.items).toHaveLength(20);
  // The title, then words of the text's opening, on what is loaded: at once.
  await page.input('#search', '红烧');
  expect(page.data.items.map((i) => i.id)).toEqual(['pork']);
  await page.input('#search', '五花肉 焯水');
  expect(page.data.items.map((i) => i.id)).toEqual(['pork']);
  // Meanwhile the older pages load, 50 at a time, up to 200 tasks.
  expect(page.text('#more')).toBe('正在加载…');
  await settle();
  const lists = server.calls('list').slice(1);
  expect(lists.map((r) => ('limit' in r ? r.limit : 0))).toEqual([50, 50, 50, 50]);
  // A task about 150 places down, found by its caption.
  await page.input('#search', '好可爱');
  expect(page.data.items.map((i) => i.id)).toEqual(['cat']);
  // One past the 200 searched is not found, and the page says it searched the newest 200.
  await page.input('#search', '地铁');
  expect(page.text('#no-match')).toBe('没有找到含「地铁」的记录');
  expect(page.text('#more')).toBe('只搜索了最近 200 条记录');
  // By platform; and clearing the search shows everything loaded again.
  await page.input('#search', '抖音');
  expect(page.data.items).toHaveLength(
    page.data.items.filter((i) => i.platform === 'douyin').length,
  );
  await page.tap('#search-clear');
  expect(page.data.query).toBe('');
  expect(page.data.items.length).toBeGreaterThanOrEqual(200);
  expect(page.exists('#no-match')).toBe(false);
});

it('a long press or ⋯ deletes one task (remove), and the row goes', async () => {
  seedMany(3);
  await open();
  // Long press on a running task: the sheet has only 删除.
  wx.showActionSheet.mockImplementationOnce(
    (o: { itemList: string[]; success(r: object): void }) => {
      expect(o.itemList).toEqual(['删除这条记录']);
      setTimeout(() => o.success({ tapIndex: 0 }), 0);
    },
  );
  page.find('#item-1')?.dispatchEvent('longpress');
  await settle();
  expect(server.calls('remove')).toEqual([{ action: 'remove', taskId: 't001' }]);
  expect(page.data.items.map((i) => i.id)).toEqual(['t002', 't000']);
  expect(server.tasks.has('t001')).toBe(false);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ title: '已删除' }));

  // ⋯ on a finished one: 复制全文 first, then 删除.
  server.update('t000', { status: TaskStatus.Completed, progress: 100, result: RESULT });
  await page.call('onPullDownRefresh');
  await settle();
  let offered: string[] = [];
  wx.showActionSheet.mockImplementationOnce(
    (o: { itemList: string[]; success(r: object): void }) => {
      offered = o.itemList;
      setTimeout(() => o.success({ tapIndex: 1 }), 0);
    },
  );
  await page.tap('#menu-1');
  await settle();
  expect(offered).toEqual(['复制全文', '删除这条记录']);
  expect(page.data.items.map((i) => i.id)).toEqual(['t002']);
  expect(wx.switchTab).not.toHaveBeenCalled();
});

it('a task deleted elsewhere is dropped too; other failures keep the row', async () => {
  seedMany(2);
  await open();
  server.tasks.delete('t000');
  await page.tap('#menu-1');
  await settle();
  expect(page.data.items.map((i) => i.id)).toEqual(['t001']);
  server.offline = true;
  await page.tap('#menu-0');
  await settle();
  expect(page.data.items.map((i) => i.id)).toEqual(['t001']);
  expect(wx.showToast).toHaveBeenLastCalledWith(expect.objectContaining({ icon: 'none' }));
});

it('清空 removes the finished tasks after a confirmation; running ones stay; corrections go', async () => {
  wx.storage.set('edits.old', '改过的文案');
  wx.storage.set('edits.index', [{ id: 'old', at: Date.now() }]);
  server.seed({ _id: 'run', status: TaskStatus.Processing, created_at: new Date() });
  server.seed({
    _id: 'old',
    status: TaskStatus.Completed,
    progress: 100,
    result: RESULT,
    created_at: new Date(Date.now() - 60_000),
  });
  server.seed({
    _id: 'bad',
    status: TaskStatus.Failed,
    error_code: 'PHOTO_NOTE',
    created_at: new Date(Date.now() - 120_000),
  });
  await open();
  await page.tap('#clear');
  expect(wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '清空历史记录？' }));
  await settle();
  expect(server.calls('clear')).toEqual([{ action: 'clear' }]);
  expect(page.data.items.map((i) => i.id)).toEqual(['run']);
  expect(wx.showToast).toHaveBeenLastCalledWith(
    expect.objectContaining({ title: '已删除 2 条记录，进行中的 1 条已保留' }),
  );
  expect(wx.storage.has('edits.old')).toBe(false);
  expect(wx.storage.has('edits.index')).toBe(false);
});

it('清空 does nothing when the confirmation is refused', async () => {
  seedMany(2);
  await open();
  wx.showModal.mockImplementationOnce((o: { success(r: object): void }) =>
    setTimeout(() => o.success({ confirm: false, cancel: true }), 0),
  );
  await page.tap('#clear');
  await settle();
  expect(server.calls('clear')).toHaveLength(0);
  expect(page.data.items).toHaveLength(2);
});

it('pull to refresh reloads from the start and stops the indicator', async () => {
  seedMany(3);
  await open();
  expect(page.data.items).toHaveLength(3);
  server.seed({ _id: 'newest', created_at: new Date(Date.now() + 1000) });
  page.call('onPullDownRefresh');
  await settle();
  expect(page.data.items.map((i) => i.id)[0]).toBe('newest');
  expect(page.data.items).toHaveLength(4);
  expect(wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
});

it('a failed load shows why and retries', async () => {
  server.offline = true;
  await open();
  expect(page.text('#error')).toContain('网络');
  server.offline = false;
  seedMany(2);
  await page.tap('#retry');
  await settle();
  expect(page.data.items).toHaveLength(2);
});

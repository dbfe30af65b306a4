import { settle } from '../../test/setup';
import { TaskStatus } from '../../../shared/status';
import type { FakeServer } from '../../test/fake-server';
import { RESULT, wire } from '../../test/fixtures';
import { loadPage, type PageDriver } from '../../test/harness';
import type { WxMocks } from '../../test/setup';
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

it('empty: says so and leads back to the form', async () => {
  page = loadPage<HistoryData>('history');
  page.call('onLoad', {});
  expect(page.exists('#loading')).toBe(true);
  await settle();
  expect(page.text('#empty')).toContain('还没有提取记录');
  expect(page.exists('#new')).toBe(true);
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

it('status badges, tap to open, copy again', async () => {
  server.seed({
    _id: 'done',
    status: TaskStatus.Completed,
    progress: 100,
    result: RESULT,
    created_at: new Date(Date.now() - 3 * 60_000),
  });
  server.seed({
    _id: 'bad',
    status: TaskStatus.Failed,
    error_code: 'NO_SPEECH',
    created_at: new Date(Date.now() - 2 * 60_000),
  });
  server.seed({
    _id: 'stale',
    status: TaskStatus.Processing,
    created_at: new Date(Date.now() - 60_000),
    expires_at: new Date(Date.now() - 3600_000),
  });
  await open();
  expect(page.data.items.map((i) => [i.id, i.statusLabel, i.tone])).toEqual([
    ['stale', '已超时', 'warn'],
    ['bad', '失败', 'error'],
    ['done', '已完成', 'success'],
  ]);
  expect(page.text('#item-2')).toContain(RESULT.title);
  expect(page.text('#item-2')).toContain('已完成');
  expect(page.text('#item-2')).toContain('抖音 · 3 分钟前');
  expect(page.exists('#copy-0')).toBe(false);

  await page.tap('#copy-2');
  await settle(); // the list has no transcripts: copying fetches the task first
  expect(wx.setClipboardData).toHaveBeenCalledWith(
    expect.objectContaining({ data: RESULT.content }),
  );
  expect(wx.navigateTo).not.toHaveBeenCalled(); // catchtap: copying does not open the task

  await page.tap('#item-1');
  expect(wx.navigateTo).toHaveBeenCalledWith({ url: '/pages/index/index?taskId=bad' });
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

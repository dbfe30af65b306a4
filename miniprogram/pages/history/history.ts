/**
 * 历史记录: the user's tasks, newest first, a page at a time (`list` with a cursor). Each row
 * shows the title (or the share text's caption), a line of the text or why there is none, and
 * the cover. Tap to open, copy a finished text again, long-press or ⋯ to delete, 清空 to clear
 * the finished ones; pull down to refresh.
 */
import {
  LIST_DEFAULT_LIMIT,
  presentSummary,
  type HistoryRow,
  type TaskSummary,
} from '../../domain';
import { clearTasks, getTask, listTasks, removeTask } from '../../services/index';
import { noteRecentTasks } from '../../services/wait';
import { copyText } from '../../utils/clipboard';
import { controllerFor, datasetOf, type View } from '../../utils/page';

export type HistoryItem = HistoryRow;

export interface HistoryData {
  items: HistoryItem[];
  /** first page loading (nothing to show yet) */
  loading: boolean;
  loadingMore: boolean;
  hasMore: boolean;
  /** why the last load failed; shown with a retry */
  error: string;
  /** a clear is in flight */
  clearing: boolean;
}

export function initialHistoryData(): HistoryData {
  return {
    items: [],
    loading: true,
    loadingMore: false,
    hasMore: false,
    error: '',
    clearing: false,
  };
}

export const PAGE_SIZE = LIST_DEFAULT_LIMIT;

const SHEET_COPY = '复制全文';
const SHEET_DELETE = '删除这条记录';

class HistoryPage {
  /** the summaries by id (the page data keeps only what is drawn) */
  private readonly tasks = new Map<string, TaskSummary>();
  private cursor: string | null = null;
  /** bumps on every reload, so a slow older answer cannot overwrite a newer list */
  private generation = 0;
  private shownOnce = false;

  constructor(private readonly view: View<HistoryData>) {}

  load(): void {
    void this.reload();
  }

  show(): void {
    // Coming back from a task: statuses may have changed. The first show follows onLoad.
    if (this.shownOnce) void this.reload();
    this.shownOnce = true;
  }

  async reload(): Promise<void> {
    const gen = ++this.generation;
    this.view.setData({
      error: '',
      loadingMore: false,
      loading: this.view.data.items.length === 0,
    });
    const out = await listTasks(null, PAGE_SIZE);
    if (gen !== this.generation) return;
    if (!out.ok) {
      this.view.setData({ loading: false, error: out.message });
      return;
    }
    noteRecentTasks(out.tasks);
    this.tasks.clear();
    for (const t of out.tasks) this.tasks.set(t.taskId, t);
    this.cursor = out.nextCursor;
    const now = new Date();
    this.view.setData({
      loading: false,
      items: out.tasks.map((t) => presentSummary(t, now)),
      hasMore: out.nextCursor !== null,
    });
  }

  async more(): Promise<void> {
    const d = this.view.data;
    if (d.loading || d.loadingMore || !d.hasMore || this.cursor === null) return;
    const gen = this.generation;
    this.view.setData({ loadingMore: true, error: '' });
    const out = await listTasks(this.cursor, PAGE_SIZE);
    if (gen !== this.generation) return;
    if (!out.ok) {
      this.view.setData({ loadingMore: false, error: out.message });
      return;
    }
    const now = new Date();
    // A task can move between pages while paging (new tasks push older ones down): skip repeats.
    const fresh = out.tasks.filter((t) => !this.tasks.has(t.taskId));
    for (const t of fresh) this.tasks.set(t.taskId, t);
    this.cursor = out.nextCursor;
    this.view.setData({
      loadingMore: false,
      items: [...this.view.data.items, ...fresh.map((t) => presentSummary(t, now))],
      hasMore: out.nextCursor !== null,
    });
  }

  async pullDown(): Promise<void> {
    try {
      await this.reload();
    } finally {
      wx.stopPullDownRefresh();
    }
  }

  open(id: unknown): void {
    if (typeof id !== 'string' || !this.tasks.has(id)) return;
    wx.navigateTo({ url: `/pages/index/index?taskId=${encodeURIComponent(id)}` });
  }

  /** The list carries a snippet only: the full text comes from `get`. */
  async copy(id: unknown): Promise<void> {
    if (typeof id !== 'string' || !this.tasks.has(id)) return;
    const out = await getTask(id);
    if (!out.ok) {
      wx.showToast({ title: out.message, icon: 'none' });
      return;
    }
    const content = out.task.result?.content;
    if (content) await copyText(content, '全文已复制');
  }

  /** ⋯ or a long press: copy (when done) or delete. */
  actions(id: unknown): void {
    const row = this.view.data.items.find((i) => i.id === id);
    if (!row) return;
    const items = row.canCopy ? [SHEET_COPY, SHEET_DELETE] : [SHEET_DELETE];
    wx.showActionSheet({
      itemList: items,
      success: (res) => {
        const chosen = items[res.tapIndex];
        if (chosen === SHEET_COPY) void this.copy(row.id);
        else if (chosen === SHEET_DELETE) void this.remove(row.id);
      },
    });
  }

  async remove(id: string): Promise<void> {
    const out = await removeTask(id);
    // NOT_FOUND: it is gone already (deleted elsewhere); drop the row all the same.
    if (!out.ok && out.code !== 'NOT_FOUND') {
      wx.showToast({ title: out.message, icon: 'none' });
      return;
    }
    this.tasks.delete(id);
    this.view.setData({ items: this.view.data.items.filter((i) => i.id !== id) });
    wx.showToast({ title: '已删除', icon: 'success' });
  }

  clearAll(): void {
    if (this.view.data.clearing || this.view.data.items.length === 0) return;
    wx.showModal({
      title: '清空历史记录？',
      content: '已结束的记录会全部删除，无法恢复；正在进行的任务会保留。',
      confirmText: '清空',
      confirmColor: '#fa5151',
      success: (res) => {
        if (res.confirm) void this.doClear();
      },
    });
  }

  private async doClear(): Promise<void> {
    this.view.setData({ clearing: true });
    try {
      const out = await clearTasks();
      if (!out.ok) {
        wx.showToast({ title: out.message, icon: 'none' });
        return;
      }
      const kept = out.kept > 0 ? `，进行中的 ${out.kept} 条已保留` : '';
      wx.showToast({ title: `已删除 ${out.removed} 条记录${kept}`, icon: 'none' });
      await this.reload();
    } finally {
      this.view.setData({ clearing: false });
    }
  }
}

const pages = new WeakMap<object, HistoryPage>();
const ctl = (page: object) =>
  controllerFor(pages, page, () => new HistoryPage(page as unknown as View<HistoryData>));

type Tap = { currentTarget?: { dataset?: Record<string, unknown> } };

Component({
  data: initialHistoryData(),
  methods: {
    onLoad() {
      ctl(this).load();
    },
    onShow() {
      ctl(this).show();
    },
    onPullDownRefresh() {
      void ctl(this).pullDown();
    },
    onReachBottom() {
      void ctl(this).more();
    },
    onRetry() {
      const c = ctl(this);
      if (this.data.items.length === 0) void c.reload();
      else void c.more();
    },
    onMore() {
      void ctl(this).more();
    },
    onOpen(e: Tap) {
      ctl(this).open(datasetOf(e).id);
    },
    onCopy(e: Tap) {
      void ctl(this).copy(datasetOf(e).id);
    },
    onActions(e: Tap) {
      ctl(this).actions(datasetOf(e).id);
    },
    onClear() {
      ctl(this).clearAll();
    },
    onNew() {
      wx.navigateBack({
        fail: () => wx.redirectTo({ url: '/pages/index/index' }),
      });
    },
  },
});

/**
 * 历史 (the second tab): the user's tasks, newest first, a page at a time (`list` with a
 * cursor). Each row shows the title (or the share text's caption), a line of the text or why
 * there is none, and the cover. Tap to open (on the 提取 tab), copy a finished text again (the
 * user's corrected version when there is one), long-press or ⋯ to delete, 清空 to clear the
 * finished ones; pull down to refresh; search as you type.
 *
 * Search runs on this phone over the summaries `list` answers (title, caption, the text's first
 * 80 characters, the platform, the user's own corrections), loading more pages as needed up to
 * SEARCH_MAX tasks. Why not the server: no backend change, no call per keystroke, and the answer
 * is instant; the summaries are small (20 rows are a few KB) and most users have tens of tasks.
 * A server-side search would find no more (transcripts are never listed) and the database
 * cannot index a substring match anyway; it becomes worth it only for users with hundreds of
 * tasks, and the page says when it searched the newest SEARCH_MAX only.
 */
import {
  LIST_DEFAULT_LIMIT,
  PLATFORM_LABELS,
  presentSummary,
  type HistoryRow,
  type TaskSummary,
} from '../../domain';
import { dropAllEdits, dropEdit, loadEdit } from '../../services/edits';
import { clearTasks, getTask, listTasks, removeTask } from '../../services/index';
import { noteRecentTasks } from '../../services/wait';
import { copyText } from '../../utils/clipboard';
import { openForm, openTask } from '../../utils/nav';
import { controllerFor, datasetOf, type View } from '../../utils/page';

export type HistoryItem = HistoryRow;

export interface HistoryData {
  /** the rows drawn: every loaded task, or those matching the search */
  items: HistoryItem[];
  /** what the user searches for; '' shows everything */
  query: string;
  /** more pages are being loaded for the search */
  searching: boolean;
  /** the search covered the newest SEARCH_MAX tasks only */
  searchCapped: boolean;
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
    query: '',
    searching: false,
    searchCapped: false,
    loading: true,
    loadingMore: false,
    hasMore: false,
    error: '',
    clearing: false,
  };
}

export const PAGE_SIZE = LIST_DEFAULT_LIMIT;
/** A search loads pages of this size... */
export const SEARCH_PAGE_SIZE = 50;
/** ...until it has looked at this many tasks. */
export const SEARCH_MAX = 200;

/** The words a search matches in one task, lower-cased. */
function searchText(t: TaskSummary, row: HistoryRow): string {
  const edit = loadEdit(t.taskId) ?? '';
  return [row.title, t.caption ?? '', t.snippet ?? '', edit, PLATFORM_LABELS[t.platform]]
    .join('\n')
    .toLowerCase();
}

/** Every word of the query (split on spaces) must appear. */
function matches(text: string, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return words.every((w) => text.includes(w));
}

const SHEET_COPY = '复制全文';
const SHEET_DELETE = '删除这条记录';

class HistoryPage {
  /** the summaries by id, in list order (the page data keeps only what is drawn) */
  private readonly tasks = new Map<string, TaskSummary>();
  /** every loaded row, in list order, with the text a search looks in */
  private rows: { row: HistoryRow; text: string }[] = [];
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
    this.rows = [];
    this.add(out.tasks);
    this.cursor = out.nextCursor;
    this.view.setData({ loading: false, hasMore: out.nextCursor !== null });
    this.draw();
    if (this.view.data.query) void this.searchFurther();
  }

  /** Adds a page of summaries; a task seen already (it moved between pages) is skipped. */
  private add(tasks: readonly TaskSummary[]): void {
    const now = new Date();
    for (const t of tasks) {
      if (this.tasks.has(t.taskId)) continue;
      this.tasks.set(t.taskId, t);
      const row = presentSummary(t, now);
      this.rows.push({ row, text: searchText(t, row) });
    }
  }

  /** Draws every row, or the ones the search matches. */
  private draw(): void {
    const query = this.view.data.query.trim();
    const items = this.rows.filter((r) => !query || matches(r.text, query)).map((r) => r.row);
    this.view.setData({
      items,
      searchCapped: query !== '' && this.view.data.hasMore && this.tasks.size >= SEARCH_MAX,
    });
  }

  search(value: string): void {
    this.view.setData({ query: value });
    this.draw();
    if (value.trim()) void this.searchFurther();
  }

  clearSearch(): void {
    this.search('');
  }

  /** While searching, loads the older pages too (up to SEARCH_MAX tasks), one at a time. */
  private async searchFurther(): Promise<void> {
    if (this.view.data.searching) return;
    const gen = this.generation;
    this.view.setData({ searching: true });
    try {
      while (
        this.view.data.query.trim() &&
        this.cursor !== null &&
        this.tasks.size < SEARCH_MAX &&
        gen === this.generation
      ) {
        const out = await listTasks(this.cursor, SEARCH_PAGE_SIZE);
        if (gen !== this.generation) return;
        if (!out.ok) {
          this.view.setData({ error: out.message });
          break;
        }
        this.add(out.tasks);
        this.cursor = out.nextCursor;
        this.view.setData({ hasMore: out.nextCursor !== null });
      }
    } finally {
      if (gen === this.generation) this.view.setData({ searching: false });
      this.draw();
    }
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
    // A task can move between pages while paging (new tasks push older ones down): skip repeats.
    this.add(out.tasks);
    this.cursor = out.nextCursor;
    this.view.setData({ loadingMore: false, hasMore: out.nextCursor !== null });
    this.draw();
  }

  async pullDown(): Promise<void> {
    try {
      await this.reload();
    } finally {
      wx.stopPullDownRefresh();
    }
  }

  /** Opens the task on the 提取 tab. */
  open(id: unknown): void {
    if (typeof id !== 'string' || !this.tasks.has(id)) return;
    openTask(id);
  }

  /** The user's corrected text when there is one; else the full text, from `get` (the list
   * carries a snippet only). */
  async copy(id: unknown): Promise<void> {
    if (typeof id !== 'string' || !this.tasks.has(id)) return;
    const edit = loadEdit(id);
    if (edit !== null) {
      await copyText(edit, '已复制修改后的文案');
      return;
    }
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
    this.rows = this.rows.filter((r) => r.row.id !== id);
    dropEdit(id);
    this.draw();
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
      // Every task with a text was finished, so every correction goes with them.
      dropAllEdits();
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
      openForm();
    },
    onSearch(e: WechatMiniprogram.Input) {
      ctl(this).search(e.detail.value);
    },
    onSearchClear() {
      ctl(this).clearSearch();
    },
  },
});

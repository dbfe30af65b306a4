/**
 * 历史记录: the user's tasks, newest first, a page at a time (`list` with a cursor); tap to
 * open, copy a finished text again, pull down to refresh.
 */
import {
  LIST_DEFAULT_LIMIT,
  PLATFORM_LABELS,
  STATUS_TONES,
  TaskStatus,
  effectiveStatus,
  relativeTime,
  statusLabel,
  type StatusTone,
  type TaskSummary,
} from '../../domain';
import { getTask, listTasks } from '../../services/index';
import { copyText } from '../../utils/clipboard';
import { controllerFor, datasetOf, type View } from '../../utils/page';

export interface HistoryItem {
  id: string;
  title: string;
  statusLabel: string;
  tone: StatusTone;
  meta: string;
  canCopy: boolean;
}

export interface HistoryData {
  items: HistoryItem[];
  /** first page loading (nothing to show yet) */
  loading: boolean;
  loadingMore: boolean;
  hasMore: boolean;
  /** why the last load failed; shown with a retry */
  error: string;
}

export function initialHistoryData(): HistoryData {
  return { items: [], loading: true, loadingMore: false, hasMore: false, error: '' };
}

export const PAGE_SIZE = LIST_DEFAULT_LIMIT;

function toItem(task: TaskSummary, now: Date): HistoryItem {
  // A task silent past its expiry is shown as timed out, as on the task page.
  const status = effectiveStatus({ status: task.status, expires_at: task.expiresAt }, now);
  const done = status === TaskStatus.Completed;
  const platform = PLATFORM_LABELS[task.platform];
  return {
    id: task.taskId,
    title: (done && task.title?.trim()) || task.caption || `${platform}视频`,
    statusLabel: statusLabel(status),
    tone: STATUS_TONES[status],
    meta: `${platform} · ${relativeTime(task.createdAt, now)}`,
    canCopy: done,
  };
}

class HistoryPage {
  /** summaries by id (the page data keeps only what is drawn); copying fetches the full text */
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
    this.tasks.clear();
    for (const t of out.tasks) this.tasks.set(t.taskId, t);
    this.cursor = out.nextCursor;
    const now = new Date();
    this.view.setData({
      loading: false,
      items: out.tasks.map((t) => toItem(t, now)),
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
      items: [...this.view.data.items, ...fresh.map((t) => toItem(t, now))],
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

  async copy(id: unknown): Promise<void> {
    if (typeof id !== 'string' || !this.tasks.has(id)) return;
    // The list carries no transcripts: the full text comes from `get`.
    const out = await getTask(id);
    const content = out.ok ? out.task.result?.content : undefined;
    if (content) await copyText(content, '全文已复制');
    else if (!out.ok) wx.showToast({ title: out.message, icon: 'none' });
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
    onNew() {
      wx.navigateBack({
        fail: () => wx.redirectTo({ url: '/pages/index/index' }),
      });
    },
  },
});

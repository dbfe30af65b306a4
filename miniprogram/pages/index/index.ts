/**
 * 首页 (the 提取 tab): paste a share text (or take the link offered from the clipboard), submit,
 * follow the task live, read, correct and copy the result, save its video and cover.
 *
 * Several tasks may run at once (the backend admits a few per user): the form stays usable while
 * they run, and the tasks in flight (and those that ended unseen) are listed under it; each opens.
 * Also the target of a tapped notice (`pages/index/index?taskId=…`) and of a task tapped in the
 * history (handed over by utils/nav.ts, as switchTab carries no query).
 */
import {
  PLATFORM_LABELS,
  SUPPORTED_PLATFORMS_TEXT,
  TaskStatus,
  VIDEO_LINK_NOTE,
  answerErrorMessage,
  busyRefusalText,
  countWords,
  isSilentPastExpiry,
  isTerminal,
  parseShareText,
  presentSummary,
  presentTask,
  quotaText,
  shortLink,
  type CardTask,
  type Platform,
  type TaskCard,
  type TaskSummary,
  type TaskView,
} from '../../domain';
import { ALBUM_SCOPE, previewCover, saveToAlbum, type SaveKind } from '../../services/album';
import { dropEdit, loadEdit, saveEdit } from '../../services/edits';
import {
  cancelTask,
  createTask,
  getTask,
  listTasks,
  newRequestId,
  retryTask,
  shareTask,
  unshareTask,
  type Failure,
} from '../../services/index';
import { knownQuota, noteQuotaUsedUp } from '../../services/quota';
import { askToNotify, recordGrants, type SubscribeOutcome } from '../../services/subscribe';
import { TaskTracker, type LinkState } from '../../services/task-tracker';
import { knownTypicalWait, loadTypicalWait, recentTasks } from '../../services/wait';
import { clipboardOffer, copyText, readClipboard } from '../../utils/clipboard';
import { takeTaskToOpen } from '../../utils/nav';
import { controllerFor, type View } from '../../utils/page';

/** A link found on the clipboard, offered above the form. */
export interface ClipOffer {
  text: string;
  label: string;
  link: string;
}

/** One task in flight (or ended unseen), listed under the form; a tap opens it. */
export interface TaskRow {
  id: string;
  title: string;
  /** 排队中 · 马上开始 / 正在提取文案 · 40% / 提取完成 · 共 268 字 / why it failed */
  detail: string;
  state: 'running' | 'done' | 'failed';
  percent: number;
  cover: string;
  /** the platform's tile when there is no cover: 抖 / 快 / 小 / 哔 */
  initial: string;
  platform: Platform;
}

/** 保存视频 / 保存封面 in flight or just ended. */
export interface SaveState {
  kind: SaveKind | '';
  /** download progress while in flight */
  percent: number;
  busy: boolean;
  /** what happened, said under the buttons; '' when nothing to say */
  message: string;
  failed: boolean;
  /** the album permission was refused: offer the settings page */
  needsSetting: boolean;
}

export interface IndexData {
  /** form = the input; loading = opening a task by id; task = a task card; lost = not found or deleted */
  view: 'form' | 'loading' | 'task' | 'lost';
  platformsText: string;
  text: string;
  /** platform recognised in the text as typed, e.g. 抖音 */
  detected: string;
  inputError: string;
  submitting: boolean;
  /** why the last create failed */
  submitError: string;
  /** sending the same text again may succeed (the button then says 重新提交) */
  resendable: boolean;
  /** today's uses under the button ('' before any answer said them) */
  quotaText: string;
  quotaUsedUp: boolean;
  card: TaskCard | null;
  link: LinkState;
  notifyNote: string;
  videoNote: string;
  /** which card action is in flight */
  busyAction: '' | 'cancel' | 'retry';
  lostMessage: string;
  /** the lost view is a task the user deleted (not one that was never found) */
  removed: boolean;
  clip: ClipOffer | null;
  /** the other tasks in flight or ended unseen (never the one on screen) */
  rows: TaskRow[];
  /** how many of the tasks this page follows are still running */
  runningCount: number;
  /** the result shows the user's corrected text */
  edited: boolean;
  editing: boolean;
  /** the text being corrected */
  draft: string;
  save: SaveState;
}

const NOTE_SUBSCRIBED = '可以离开此页面，提取完成后会通过微信服务通知告诉你。';
const NOTE_UNSUBSCRIBED = '可以离开此页面，稍后在「历史」里查看结果。';
// Server-side input checks answer these codes: show them at the input, not as a failed send.
const INPUT_CODES: readonly string[] = ['NO_LINK', 'UNSUPPORTED_PLATFORM', 'INVALID_INPUT'];
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** At most this many tasks are followed and listed at once (the backend admits 3 by default). */
export const MAX_ROWS = 5;

const NO_SAVE: SaveState = {
  kind: '',
  percent: 0,
  busy: false,
  message: '',
  failed: false,
  needsSetting: false,
};

export function initialIndexData(): IndexData {
  return {
    view: 'form',
    platformsText: SUPPORTED_PLATFORMS_TEXT,
    text: '',
    detected: '',
    inputError: '',
    submitting: false,
    submitError: '',
    resendable: false,
    quotaText: '',
    quotaUsedUp: false,
    card: null,
    link: 'live',
    notifyNote: NOTE_UNSUBSCRIBED,
    videoNote: VIDEO_LINK_NOTE,
    busyAction: '',
    lostMessage: '',
    removed: false,
    clip: null,
    rows: [],
    runningCount: 0,
    edited: false,
    editing: false,
    draft: '',
    save: NO_SAVE,
  };
}

const REMOVED_MESSAGE = '这条记录已删除';

/** A row from what the tracker knows (a task view) or, before that, from the list's summary. */
function rowFromCard(card: TaskCard, platform: Platform): TaskRow {
  const label = PLATFORM_LABELS[platform];
  const base = {
    id: card.id,
    title: card.title,
    percent: card.percent,
    cover: card.cover,
    initial: label.slice(0, 1),
    platform,
  };
  if (!card.terminal)
    return { ...base, state: 'running', detail: `${card.headline} · ${card.progressText}` };
  if (card.succeeded)
    return { ...base, state: 'done', detail: `提取完成 · 共 ${card.wordCount} 字，点开查看` };
  return { ...base, state: 'failed', detail: card.reason };
}

function rowFromSummary(summary: TaskSummary, now: Date): TaskRow {
  const r = presentSummary(summary, now);
  return {
    id: r.id,
    title: r.title,
    detail: r.detail,
    state: 'running',
    percent: 0,
    cover: r.cover,
    initial: r.initial,
    platform: r.platform,
  };
}

/** What the page knows of one followed task. */
interface Followed {
  tracker: TaskTracker;
  /** the list's summary, until the tracker has a view */
  summary: TaskSummary | null;
  /** the task's caption: the function's answers carry it; kept for views that may not */
  caption: string | null | undefined;
  subscribed: boolean;
  /** the user saw how it ended (its card was on screen then): no longer listed */
  seen: boolean;
}

class IndexPage {
  /** every task this page follows, in the order it began following them */
  private readonly followed = new Map<string, Followed>();
  /** the task whose card is on screen */
  private focused: string | null = null;
  private visible = false;
  /** a tap is being handled (subscribe prompt, create, retry, cancel): later taps are ignored */
  private busy = false;
  /** idempotency key of the text being submitted; kept until a create succeeds */
  private pending: { text: string; requestId: string } | null = null;
  /** the save to retry once the user granted the album permission in the settings page */
  private saveAfterSetting: SaveKind | null = null;
  /** what this page learnt of a task's share link since its view (a share, a stop) */
  private readonly sharedUntil = new Map<string, string | null>();

  constructor(private readonly view: View<IndexData>) {}

  // ----- lifecycle -----

  load(query: Record<string, string | undefined>): void {
    // Task ids are plain [A-Za-z0-9_-], so there is nothing to decode; anything else is ignored.
    const taskId = query.taskId ?? '';
    if (TASK_ID.test(taskId)) this.open(taskId);
    // The first history page: the typical wait, and the tasks still running since last time.
    void loadTypicalWait().then(() => {
      this.showQuota();
      this.followRunning(recentTasks());
      const focused = this.current();
      if (focused?.tracker.task && !isTerminal(focused.tracker.task.status))
        this.present(focused.tracker.task);
    });
  }

  show(): void {
    this.visible = true;
    const handed = takeTaskToOpen();
    if (handed && TASK_ID.test(handed)) this.open(handed);
    for (const [id, f] of this.followed) {
      if (!f.tracker.isFinished) f.tracker.start();
      else if (id === this.focused && this.view.data.card?.timedOutLocally) void this.reread(id);
    }
    this.showQuota();
    if (this.view.data.view === 'form') void this.offerClipboard();
  }

  /** Today's uses as the last answer said them (a new day reads as fresh). */
  private showQuota(): void {
    const quota = knownQuota();
    const shown = quota ? quotaText(quota, new Date()) : { text: '', usedUp: false };
    this.view.setData({ quotaText: shown.text, quotaUsedUp: shown.usedUp });
  }

  hide(): void {
    this.visible = false;
    for (const f of this.followed.values()) f.tracker.pause();
  }

  unload(): void {
    this.visible = false;
    for (const f of this.followed.values()) f.tracker.stop();
    this.followed.clear();
  }

  // ----- the form -----

  /** On show: a supported link on the clipboard, not offered before, is offered above the form. */
  private async offerClipboard(): Promise<void> {
    const offer = await clipboardOffer();
    const d = this.view.data;
    if (!offer || d.view !== 'form' || d.text.trim() === offer.text) return;
    this.view.setData({
      clip: { text: offer.text, label: offer.platformLabel, link: shortLink(offer.url) },
    });
  }

  useClip(): void {
    const clip = this.view.data.clip;
    if (!clip) return;
    this.view.setData({ clip: null });
    this.input(clip.text);
  }

  dismissClip(): void {
    this.view.setData({ clip: null });
  }

  input(value: string): void {
    const parsed = parseShareText(value);
    this.view.setData({
      text: value,
      inputError: '',
      submitError: '',
      resendable: false,
      detected: parsed.ok ? PLATFORM_LABELS[parsed.platform] : '',
    });
  }

  async paste(): Promise<void> {
    const text = await readClipboard();
    if (text === null) {
      wx.showToast({ title: '没能读取剪切板，请长按输入框粘贴', icon: 'none' });
      return;
    }
    if (text.trim() === '') {
      wx.showToast({ title: '剪切板是空的，先去 App 里复制分享链接', icon: 'none' });
      return;
    }
    this.view.setData({ clip: null });
    this.input(text.trim());
    const parsed = parseShareText(this.view.data.text);
    if (!parsed.ok) this.view.setData({ inputError: answerErrorMessage({ code: parsed.code }) });
  }

  clear(): void {
    this.view.setData({
      text: '',
      detected: '',
      inputError: '',
      submitError: '',
      resendable: false,
    });
  }

  /** The submit tap. The subscribe prompt must be the first thing it does (before any await). */
  submit(): void {
    // A double tap makes one task; a late event after the form is gone does nothing.
    if (this.busy || this.view.data.view !== 'form') return;
    const text = this.view.data.text.trim();
    const parsed = parseShareText(text);
    if (!parsed.ok) {
      this.view.setData({ inputError: answerErrorMessage({ code: parsed.code }) });
      return;
    }
    this.busy = true;
    const asking = askToNotify();
    this.view.setData({ submitting: true, inputError: '', submitError: '', resendable: false });
    if (!this.pending || this.pending.text !== text) {
      this.pending = { text, requestId: newRequestId() };
    }
    void this.finishSubmit(asking, this.pending);
  }

  private async finishSubmit(
    asking: Promise<SubscribeOutcome>,
    pending: { text: string; requestId: string },
  ): Promise<void> {
    try {
      const sub = await asking;
      await recordGrants(sub);
      const out = await createTask(pending.text, pending.requestId, {
        success: sub.success,
        failure: sub.failure,
      });
      if (out.ok) {
        this.pending = null;
        wx.showToast({ title: '已提交', icon: 'success' });
        this.view.setData({ text: '', detected: '' });
        this.follow(out.task._id, { task: out.task, subscribed: sub.success }).tracker.offerQueue(
          out.queue,
        );
        this.open(out.task._id);
      } else if (out.code === 'RATE_LIMITED') {
        await this.explainTooMany();
      } else {
        this.showSubmitError(out);
      }
    } finally {
      this.busy = false;
      this.view.setData({ submitting: false });
      this.showQuota();
    }
  }

  private showSubmitError(out: Failure): void {
    if (INPUT_CODES.includes(out.code)) {
      this.view.setData({ inputError: out.message });
    } else if (out.code === 'TOO_BUSY') {
      // Nothing was charged; sending again at once would be refused the same way: say when.
      this.view.setData({
        submitError: busyRefusalText(out.retryAfterS, new Date()),
        resendable: false,
      });
    } else if (out.code === 'QUOTA_EXCEEDED') {
      noteQuotaUsedUp();
      this.view.setData({ submitError: out.message, resendable: false });
    } else {
      this.view.setData({ submitError: out.message, resendable: true });
    }
  }

  /**
   * Too many tasks at once: say how many run and list them (each opens) instead of offering a
   * resend that fails the same way. The running ones are read fresh: some may have started on
   * another device. When none is found running (a slot not yet released), a resend may work.
   */
  private async explainTooMany(): Promise<void> {
    const out = await listTasks(null);
    if (out.ok) this.followRunning(out.tasks);
    else this.refreshRows();
    const running = this.view.data.runningCount;
    if (running > 0) {
      this.view.setData({
        submitError: `已有 ${running} 个任务正在提取，等其中一个完成再提交（进度在下面，点开可以查看）`,
        resendable: false,
      });
    } else {
      this.view.setData({
        submitError: answerErrorMessage({ code: 'RATE_LIMITED' }),
        resendable: true,
      });
    }
  }

  // ----- following tasks -----

  /** Follows a task (once): its tracker feeds its row and, when it is on screen, its card. */
  private follow(
    taskId: string,
    from: { task?: TaskView; summary?: TaskSummary; subscribed?: boolean },
  ): Followed {
    const known = this.followed.get(taskId);
    if (known) {
      if (from.task) known.tracker.offer(from.task);
      return known;
    }
    const tracker = new TaskTracker(
      taskId,
      {
        onTask: (t) => this.onTask(taskId, t),
        onLink: (link) => {
          if (this.focused === taskId) this.view.setData({ link });
        },
        onExpired: (t) => this.onTask(taskId, t, true),
        onLost: (message) => this.onGone(taskId, message, false),
        // Deleted (from the history, or on another device): say so instead of a stale card.
        onRemoved: () => this.onGone(taskId, REMOVED_MESSAGE, true),
        // Its place in the queue moved (the queue's feed, or `get` while the feed is down).
        onQueue: () => {
          const task = tracker.task;
          if (task) this.onTask(taskId, task);
        },
      },
      from.task ?? null,
    );
    const entry: Followed = {
      tracker,
      summary: from.summary ?? null,
      caption: from.task?.caption ?? from.summary?.caption,
      subscribed: from.subscribed ?? false,
      seen: false,
    };
    this.followed.set(taskId, entry);
    this.trim();
    if (this.visible) tracker.start();
    return entry;
  }

  /** Follows the listed tasks that still run (a task silent past its expiry does not). */
  private followRunning(tasks: readonly TaskSummary[]): void {
    const now = new Date();
    for (const t of tasks) {
      const silent = isSilentPastExpiry({ status: t.status, expires_at: t.expiresAt }, now);
      if (!isTerminal(t.status) && !silent) this.follow(t.taskId, { summary: t });
    }
    this.refreshRows();
  }

  /** Keeps at most MAX_ROWS tasks: ended and seen ones go first, then the oldest ended. */
  private trim(): void {
    if (this.followed.size <= MAX_ROWS) return;
    const ids = [...this.followed.keys()].reverse(); // oldest first
    const ended = (id: string) => this.followed.get(id)?.tracker.isFinished ?? false;
    const order = [
      ...ids.filter((id) => this.followed.get(id)?.seen),
      ...ids.filter((id) => ended(id)),
    ];
    for (const id of order) {
      if (this.followed.size <= MAX_ROWS) break;
      if (id === this.focused || !this.followed.has(id)) continue;
      this.followed.get(id)?.tracker.stop();
      this.followed.delete(id);
    }
  }

  private onTask(taskId: string, task: CardTask, expired = false): void {
    const f = this.followed.get(taskId);
    if (!f) return;
    if (task.caption !== undefined) f.caption = task.caption;
    if (taskId === this.focused) {
      if (isTerminal(task.status) || expired) f.seen = true;
      this.present(task);
    }
    const wasLimited = this.view.data.submitError !== '' && !this.view.data.resendable;
    this.refreshRows();
    // A task ended while the form said there were too many: a slot is free again.
    if (wasLimited && isTerminal(task.status)) this.view.setData({ submitError: '' });
  }

  private onGone(taskId: string, message: string, removed: boolean): void {
    const f = this.followed.get(taskId);
    f?.tracker.stop();
    this.followed.delete(taskId);
    if (removed) dropEdit(taskId);
    if (taskId === this.focused) {
      this.view.setData({
        view: 'lost',
        lostMessage: message,
        removed,
        card: null,
        editing: false,
        save: NO_SAVE,
      });
    }
    this.refreshRows();
  }

  private current(): Followed | null {
    return this.focused ? (this.followed.get(this.focused) ?? null) : null;
  }

  /** Shows one task's card (following it if not yet). */
  private open(taskId: string): void {
    const f = this.follow(taskId, {});
    this.focused = taskId;
    this.view.setData({
      notifyNote: f.subscribed ? NOTE_SUBSCRIBED : NOTE_UNSUBSCRIBED,
      link: 'live',
      editing: false,
      draft: '',
      save: NO_SAVE,
      clip: null,
    });
    const task = f.tracker.task;
    if (task) {
      if (isTerminal(task.status) || f.tracker.isFinished) f.seen = true;
      this.present(task);
    } else {
      this.view.setData({ view: 'loading', card: null });
    }
    this.refreshRows();
  }

  private present(task: CardTask): void {
    const f = this.followed.get(task._id);
    const caption = task.caption !== undefined ? task.caption : (f?.caption ?? null);
    const shared = this.sharedUntil.has(task._id)
      ? (this.sharedUntil.get(task._id) ?? null)
      : (task.shared_until ?? null);
    let card = presentTask(
      { ...task, caption, shared_until: shared },
      new Date(),
      knownTypicalWait(),
      f?.tracker.queueSpot ?? null,
    );
    let edited = false;
    if (card.succeeded) {
      const edit = loadEdit(card.id);
      if (edit !== null) {
        card = { ...card, content: edit, wordCount: countWords(edit) };
        edited = true;
      }
    }
    this.view.setData({ view: 'task', card, edited });
  }

  /** The rows under the form or the card: newest first, never the task on screen. */
  private refreshRows(): void {
    const now = new Date();
    const rows: { row: TaskRow; at: string }[] = [];
    let running = 0;
    for (const [id, f] of this.followed) {
      const task = f.tracker.task;
      const ended = task ? isTerminal(task.status) || f.tracker.isFinished : false;
      if (!ended) running++;
      if (id === this.focused && this.view.data.view !== 'form') continue;
      if (f.seen && ended) continue;
      if (task) {
        const card = presentTask(
          { ...task, caption: f.caption ?? null },
          now,
          knownTypicalWait(),
          f.tracker.queueSpot,
        );
        const edit = loadEdit(id);
        const shown = edit !== null ? { ...card, wordCount: countWords(edit) } : card;
        rows.push({ row: rowFromCard(shown, task.platform), at: task.created_at });
      } else if (f.summary) {
        rows.push({ row: rowFromSummary(f.summary, now), at: f.summary.createdAt });
      }
    }
    rows.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    this.view.setData({ rows: rows.map((r) => r.row), runningCount: running });
  }

  private async reread(taskId: string): Promise<void> {
    const out = await getTask(taskId);
    if (out.ok) this.followed.get(taskId)?.tracker.offer(out.task);
    if (out.ok && this.focused === taskId) this.present(out.task);
  }

  /** A tap on a listed task. */
  openRow(id: unknown): void {
    if (typeof id !== 'string' || !this.followed.has(id)) return;
    this.open(id);
  }

  cancel(): void {
    const card = this.view.data.card;
    if (this.busy || !card || !card.canCancel) return;
    wx.showModal({
      title: '取消这次提取？',
      content: '取消后任务不会继续，也不会再通知你。',
      confirmText: '取消任务',
      confirmColor: '#fa5151',
      cancelText: '继续等待',
      success: (res) => {
        if (res.confirm) void this.doCancel(card.id);
      },
    });
  }

  private async doCancel(taskId: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.view.setData({ busyAction: 'cancel' });
    try {
      const out = await cancelTask(taskId);
      if (out.ok) this.offer(out.task);
      else if (out.code === 'CONFLICT')
        await this.reread(taskId); // it ended meanwhile
      else wx.showToast({ title: out.message, icon: 'none' });
    } finally {
      this.busy = false;
      this.view.setData({ busyAction: '' });
    }
  }

  /** The retry tap: a new task from the same link. Prompts first, like submit. */
  retry(): void {
    const card = this.view.data.card;
    if (this.busy || !card || !card.canRetry) return;
    this.busy = true;
    const asking = askToNotify();
    this.view.setData({ busyAction: 'retry' });
    void this.finishRetry(asking, card);
  }

  private async finishRetry(asking: Promise<SubscribeOutcome>, card: TaskCard): Promise<void> {
    try {
      const sub = await asking;
      await recordGrants(sub);
      if (card.timedOutLocally) {
        // Still active on the server: end it first, or it keeps a slot (CONFLICT = it ended).
        await cancelTask(card.id);
      }
      const out = await retryTask(card.id, { success: sub.success, failure: sub.failure });
      if (out.ok) {
        wx.showToast({ title: '已重新提交', icon: 'success' });
        this.follow(out.task._id, { task: out.task, subscribed: sub.success }).tracker.offerQueue(
          out.queue,
        );
        this.open(out.task._id);
      } else {
        wx.showToast({ title: out.message, icon: 'none' });
        if (out.code === 'CONFLICT') await this.reread(card.id);
      }
    } finally {
      this.busy = false;
      this.view.setData({ busyAction: '' });
    }
  }

  private offer(task: TaskView): void {
    const f = this.followed.get(task._id);
    if (f && !f.tracker.isFinished) f.tracker.offer(task);
    else if (task._id === this.focused) this.present(task);
  }

  /** Back to the form (再提取一个, 换个链接); a running task goes on and stays listed. */
  startOver(): void {
    const f = this.current();
    if (f && f.tracker.isFinished) f.seen = true;
    this.focused = null;
    this.view.setData({
      view: 'form',
      card: null,
      inputError: '',
      lostMessage: '',
      removed: false,
      link: 'live',
      editing: false,
      draft: '',
      save: NO_SAVE,
    });
    this.refreshRows();
  }

  // ----- the result: copy, correct, save -----

  copyContent(): void {
    const d = this.view.data;
    if (!d.card?.content) return;
    void copyText(d.card.content, d.edited ? '已复制修改后的文案' : '全文已复制');
  }

  copyVideoLink(): void {
    const card = this.view.data.card;
    if (card?.videoUrl) void copyText(card.videoUrl, '视频链接已复制');
  }

  /** 编辑: the text becomes editable, starting from what is shown (the edit, or the original). */
  startEdit(): void {
    const card = this.view.data.card;
    if (!card?.succeeded) return;
    this.view.setData({ editing: true, draft: card.content });
  }

  editInput(value: string): void {
    this.view.setData({ draft: value });
  }

  cancelEdit(): void {
    this.view.setData({ editing: false, draft: '' });
  }

  saveEdit(): void {
    const d = this.view.data;
    const task = this.current()?.tracker.task;
    const original = task?.result?.content;
    if (!d.card || !d.editing || original === undefined) return;
    const outcome = saveEdit(d.card.id, d.draft, original);
    if (outcome === 'empty') {
      wx.showToast({ title: '文案不能是空的', icon: 'none' });
      return;
    }
    if (outcome === 'too_long' || outcome === 'failed') {
      wx.showToast({ title: '修改没能保存，手机存储空间可能不够', icon: 'none' });
      return;
    }
    this.view.setData({ editing: false, draft: '' });
    if (task) this.present(task);
    wx.showToast({ title: outcome === 'restored' ? '和原文一样' : '已保存修改', icon: 'success' });
  }

  /** 恢复原文: drops the edit (the original was never changed). */
  restoreOriginal(): void {
    const card = this.view.data.card;
    const task = this.current()?.tracker.task;
    if (!card || !task) return;
    wx.showModal({
      title: '恢复原文？',
      content: '你的修改会被删除，文案回到提取出的原文。',
      confirmText: '恢复原文',
      success: (res) => {
        if (!res.confirm) return;
        dropEdit(card.id);
        this.present(task);
        this.refreshRows();
      },
    });
  }

  previewCover(): void {
    const card = this.view.data.card;
    if (card?.cover) previewCover(card.cover);
  }

  /** 保存视频 / 保存封面: one at a time; the permission is asked from this tap. */
  save(kind: SaveKind): void {
    const card = this.view.data.card;
    const url = kind === 'video' ? card?.videoUrl : card?.cover;
    if (!card || !url || this.view.data.save.busy) return;
    this.saveAfterSetting = null;
    this.view.setData({ save: { ...NO_SAVE, kind, busy: true } });
    void saveToAlbum(kind, url, (percent) => {
      const now = this.view.data.save;
      if (now.busy && now.kind === kind) this.view.setData({ save: { ...now, percent } });
    }).then((out) => {
      if (this.view.data.card?.id !== card.id) return; // another task is on screen now
      if (out.ok) {
        this.view.setData({
          save: { ...NO_SAVE, kind, message: `${kind === 'video' ? '视频' : '封面'}已保存到相册` },
        });
        wx.showToast({ title: '已保存到相册', icon: 'success' });
        return;
      }
      if (out.reason === 'denied') this.saveAfterSetting = kind;
      this.view.setData({
        save: {
          ...NO_SAVE,
          kind,
          message: out.reason === 'cancelled' ? '' : out.message,
          failed: out.reason !== 'cancelled',
          needsSetting: out.reason === 'denied',
        },
      });
    });
  }

  /** Back from the settings page: with the permission granted, the save goes on by itself. */
  settingDone(authSetting: Record<string, boolean> | undefined): void {
    const kind = this.saveAfterSetting;
    if (!kind) return;
    if (authSetting?.[ALBUM_SCOPE]) {
      this.saveAfterSetting = null;
      this.save(kind);
    } else {
      this.view.setData({
        save: { ...this.view.data.save, message: '还没有打开「添加到相册」，所以没有保存' },
      });
    }
  }

  /**
   * The share card. A completed result is shared as what the card promises: a read-only page of
   * it (`pages/shared/shared`), through a link the backend makes on this tap (`share`, with the
   * user's correction when there is one). WeChat waits up to 3 s for it (the `promise` of
   * onShareAppMessage); a link that is not ready by then, or a failed call, leaves the plain card
   * that opens the app's own page and promises nothing it cannot show.
   */
  share():
    WechatMiniprogram.Page.ICustomShareContent | WechatMiniprogram.Page.IAsyncCustomShareContent {
    const card = this.view.data.card;
    const plain = { title: '粘贴短视频分享链接，一键提取视频文案', path: '/pages/index/index' };
    if (!card || card.status !== TaskStatus.Completed) return plain;
    const taskId = card.id;
    const title = `「${card.title}」的${card.isNote ? '笔记文字' : '文案'}提取好了`;
    const promise = shareTask(taskId, loadEdit(taskId)).then((out) => {
      if (!out.ok) {
        wx.showToast({ title: `没能生成分享链接：${out.message}`, icon: 'none' });
        return plain;
      }
      this.sharedUntil.set(taskId, out.expiresAt);
      this.representIfShown(taskId);
      return { title, path: out.path };
    });
    return { ...plain, promise };
  }

  /** 停止分享: the link the user gave out stops opening (friends are told it was stopped). */
  stopSharing(): void {
    const card = this.view.data.card;
    if (!card?.sharedText || this.busy) return;
    const taskId = card.id;
    wx.showModal({
      title: '停止分享？',
      content: '已经发出去的分享卡片会打不开，好友会看到「已停止分享」。',
      confirmText: '停止分享',
      confirmColor: '#fa5151',
      success: (res) => {
        if (res.confirm) void this.doStopSharing(taskId);
      },
    });
  }

  private async doStopSharing(taskId: string): Promise<void> {
    this.busy = true;
    try {
      const out = await unshareTask(taskId);
      if (out.ok) {
        this.sharedUntil.set(taskId, null);
        this.representIfShown(taskId);
        wx.showToast({ title: '已停止分享', icon: 'success' });
      } else {
        wx.showToast({ title: out.message, icon: 'none' });
      }
    } finally {
      this.busy = false;
    }
  }

  /** Draws the card again when this task is the one on screen. */
  private representIfShown(taskId: string): void {
    const task = this.followed.get(taskId)?.tracker.task;
    if (task && this.focused === taskId && this.view.data.view === 'task') this.present(task);
  }
}

const pages = new WeakMap<object, IndexPage>();
const ctl = (page: object) =>
  controllerFor(pages, page, () => new IndexPage(page as unknown as View<IndexData>));

Component({
  data: initialIndexData(),
  lifetimes: {
    detached() {
      ctl(this).unload();
    },
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      ctl(this).load(query ?? {});
    },
    onShow() {
      ctl(this).show();
    },
    onHide() {
      ctl(this).hide();
    },
    onUnload() {
      ctl(this).unload();
    },
    onShareAppMessage() {
      return ctl(this).share();
    },
    onStopSharing() {
      ctl(this).stopSharing();
    },
    onInput(e: WechatMiniprogram.TextareaInput) {
      ctl(this).input(e.detail.value);
    },
    onPaste() {
      void ctl(this).paste();
    },
    onUseClip() {
      ctl(this).useClip();
    },
    onDismissClip() {
      ctl(this).dismissClip();
    },
    onClear() {
      ctl(this).clear();
    },
    onSubmit() {
      ctl(this).submit();
    },
    onCancel() {
      ctl(this).cancel();
    },
    onRetry() {
      ctl(this).retry();
    },
    onStartOver() {
      ctl(this).startOver();
    },
    onOpenRow(e: { detail?: { id?: unknown } }) {
      ctl(this).openRow(e.detail?.id);
    },
    onCopyContent() {
      ctl(this).copyContent();
    },
    onCopyVideoLink() {
      ctl(this).copyVideoLink();
    },
    onEdit() {
      ctl(this).startEdit();
    },
    onEditInput(e: WechatMiniprogram.TextareaInput) {
      ctl(this).editInput(e.detail.value);
    },
    onCancelEdit() {
      ctl(this).cancelEdit();
    },
    onSaveEdit() {
      ctl(this).saveEdit();
    },
    onRestore() {
      ctl(this).restoreOriginal();
    },
    onPreviewCover() {
      ctl(this).previewCover();
    },
    onSaveVideo() {
      ctl(this).save('video');
    },
    onSaveCover() {
      ctl(this).save('cover');
    },
    onSettingDone(e: { detail?: { authSetting?: Record<string, boolean> } }) {
      ctl(this).settingDone(e.detail?.authSetting);
    },
  },
});

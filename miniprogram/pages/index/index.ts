/**
 * 首页: paste a share text (or take the link offered from the clipboard), submit, follow the
 * task live, read and copy the result (copy and share stay in a bar at the bottom).
 * Also the target of a tapped notice: `pages/index/index?taskId=…` opens that task.
 */
import {
  PLATFORM_LABELS,
  SUPPORTED_PLATFORMS_TEXT,
  TaskStatus,
  VIDEO_LINK_NOTE,
  answerErrorMessage,
  parseShareText,
  presentTask,
  shortLink,
  type CardTask,
  type TaskCard,
  type TaskView,
} from '../../domain';
import {
  cancelTask,
  createTask,
  getTask,
  newRequestId,
  retryTask,
  type Failure,
} from '../../services/index';
import { askToNotify, recordGrants, type SubscribeOutcome } from '../../services/subscribe';
import { TaskTracker, type LinkState } from '../../services/task-tracker';
import { knownTypicalWait, loadTypicalWait } from '../../services/wait';
import { clipboardOffer, copyText, readClipboard } from '../../utils/clipboard';
import { controllerFor, type View } from '../../utils/page';

/** A link found on the clipboard, offered above the form. */
export interface ClipOffer {
  text: string;
  label: string;
  link: string;
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
  /** a create that failed for a reason a resend may fix */
  submitError: string;
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
}

const NOTE_SUBSCRIBED = '可以离开此页面，提取完成后会通过微信服务通知告诉你。';
const NOTE_UNSUBSCRIBED = '可以离开此页面，稍后在「历史记录」里查看结果。';
// Server-side input checks answer these codes: show them at the input, not as a failed send.
const INPUT_CODES: readonly string[] = ['NO_LINK', 'UNSUPPORTED_PLATFORM', 'INVALID_INPUT'];
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function initialIndexData(): IndexData {
  return {
    view: 'form',
    platformsText: SUPPORTED_PLATFORMS_TEXT,
    text: '',
    detected: '',
    inputError: '',
    submitting: false,
    submitError: '',
    card: null,
    link: 'live',
    notifyNote: NOTE_UNSUBSCRIBED,
    videoNote: VIDEO_LINK_NOTE,
    busyAction: '',
    lostMessage: '',
    removed: false,
    clip: null,
  };
}

const REMOVED_MESSAGE = '这条记录已删除';

class IndexPage {
  private tracker: TaskTracker | null = null;
  private visible = false;
  /** a tap is being handled (subscribe prompt, create, retry, cancel): later taps are ignored */
  private busy = false;
  /** idempotency key of the text being submitted; kept until a create succeeds */
  private pending: { text: string; requestId: string } | null = null;
  /** the followed task's caption: the function's answers carry it, watch snapshots do not */
  private caption: { taskId: string; caption: string | null } | null = null;

  constructor(private readonly view: View<IndexData>) {}

  // ----- lifecycle -----

  load(query: Record<string, string | undefined>): void {
    // Task ids are plain [A-Za-z0-9_-], so there is nothing to decode; anything else is ignored.
    const taskId = query.taskId ?? '';
    if (TASK_ID.test(taskId)) this.follow(taskId, null, false);
    // The wait estimate needs recent tasks; a running card is redrawn once they are known.
    void loadTypicalWait().then(() => {
      const task = this.tracker?.task;
      if (task && this.view.data.view === 'task' && !this.view.data.card?.terminal) {
        this.present(task);
      }
    });
  }

  show(): void {
    this.visible = true;
    const t = this.tracker;
    if (!t) {
      if (this.view.data.view === 'form') void this.offerClipboard();
      return;
    }
    if (t.isFinished) {
      // Timed out on our clock: the server may have finished since; look once.
      if (this.view.data.card?.timedOutLocally) void this.reread(t.taskId);
    } else {
      t.start();
    }
  }

  hide(): void {
    this.visible = false;
    this.tracker?.pause();
  }

  unload(): void {
    this.visible = false;
    this.tracker?.stop();
    this.tracker = null;
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
    this.view.setData({ text: '', detected: '', inputError: '', submitError: '' });
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
    this.view.setData({ submitting: true, inputError: '', submitError: '' });
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
        this.follow(out.task._id, out.task, sub.success);
      } else {
        this.showSubmitError(out);
      }
    } finally {
      this.busy = false;
      this.view.setData({ submitting: false });
    }
  }

  private showSubmitError(out: Failure): void {
    if (INPUT_CODES.includes(out.code)) this.view.setData({ inputError: out.message });
    else this.view.setData({ submitError: out.message });
  }

  // ----- the task card -----

  /** Shows a task and follows it until it ends. */
  private follow(taskId: string, task: TaskView | null, subscribed: boolean): void {
    this.tracker?.stop();
    const tracker = new TaskTracker(
      taskId,
      {
        onTask: (t) => this.present(t),
        onLink: (link) => this.view.setData({ link }),
        onExpired: (t) => this.present(t),
        onLost: (message) =>
          this.view.setData({ view: 'lost', lostMessage: message, removed: false, card: null }),
        // Deleted (from the history, or on another device): say so instead of a stale card.
        onRemoved: () =>
          this.view.setData({
            view: 'lost',
            lostMessage: REMOVED_MESSAGE,
            removed: true,
            card: null,
          }),
      },
      task,
    );
    this.tracker = tracker;
    this.view.setData({
      notifyNote: subscribed ? NOTE_SUBSCRIBED : NOTE_UNSUBSCRIBED,
      link: 'live',
      ...(task ? {} : { view: 'loading' as const, card: null }),
    });
    if (task) this.present(task);
    if (this.visible) tracker.start();
  }

  private present(task: CardTask): void {
    if (task.caption !== undefined) this.caption = { taskId: task._id, caption: task.caption };
    const caption = this.caption?.taskId === task._id ? this.caption.caption : null;
    const card = presentTask({ ...task, caption }, new Date(), knownTypicalWait());
    this.view.setData({ view: 'task', card });
  }

  private async reread(taskId: string): Promise<void> {
    const out = await getTask(taskId);
    if (out.ok && this.tracker?.taskId === taskId) this.present(out.task);
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
        this.follow(out.task._id, out.task, sub.success);
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
    if (this.tracker && !this.tracker.isFinished) this.tracker.offer(task);
    else this.present(task);
  }

  /** Back to an empty form; the task goes on and stays in the history. */
  startOver(): void {
    this.tracker?.stop();
    this.tracker = null;
    this.view.setData({
      view: 'form',
      card: null,
      text: '',
      detected: '',
      inputError: '',
      submitError: '',
      lostMessage: '',
      removed: false,
      link: 'live',
    });
  }

  copyContent(): void {
    const card = this.view.data.card;
    if (card?.content) void copyText(card.content, '全文已复制');
  }

  copyVideoLink(): void {
    const card = this.view.data.card;
    if (card?.videoUrl) void copyText(card.videoUrl, '视频链接已复制');
  }

  share(): WechatMiniprogram.Page.ICustomShareContent {
    const card = this.view.data.card;
    const done = card && card.status === TaskStatus.Completed;
    return {
      title: done ? `「${card.title}」的文案提取好了` : '粘贴短视频分享链接，一键提取视频文案',
      // Never the task: it belongs to this user only.
      path: '/pages/index/index',
    };
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
    onCopyContent() {
      ctl(this).copyContent();
    },
    onCopyVideoLink() {
      ctl(this).copyVideoLink();
    },
    onOpenHistory() {
      wx.navigateTo({ url: '/pages/history/history' });
    },
  },
});

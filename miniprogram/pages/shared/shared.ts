/**
 * 好友分享 (the page a share card opens: `pages/shared/shared?task=<id>&s=<token>`): a result
 * someone shared, read-only. What a friend may see and for how long is decided by the backend
 * (`shareLinkSchema` in shared/task.ts): the title, cover and text as shared, until the link
 * expires or its owner stops it; never the owner or anything else of the task. The friend can copy
 * the text and go extract their own videos; nothing here writes.
 */
import { PLATFORM_LABELS, countWords, dateTimeText, type SharedResult } from '../../domain';
import { readShared, type Failure } from '../../services/index';
import { copyText } from '../../utils/clipboard';
import { openForm } from '../../utils/nav';
import { controllerFor, type View } from '../../utils/page';

/** The link's parts, as the share card carries them. */
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

/** Codes that mean the link will not open again: no retry, only the way on. */
const ENDED: readonly string[] = ['SHARE_EXPIRED', 'SHARE_REVOKED', 'SHARE_GONE'];

export interface SharedView {
  title: string;
  platformLabel: string;
  cover: string;
  content: string;
  wordCount: number;
  /** 文案 or 笔记正文 */
  contentLabel: string;
  isNote: boolean;
  edited: boolean;
  /** 分享于 5月20日 14:00 · 5月27日 14:00 前可以查看 */
  timesText: string;
}

export interface SharedData {
  /** loading, the result, a link that ended (expired, stopped, deleted), or a call that failed */
  view: 'loading' | 'shown' | 'ended' | 'failed';
  shared: SharedView | null;
  /** why it cannot be shown */
  message: string;
  /** the headline of an ended link: 分享已过期 / 已停止分享 / 分享不在了 */
  endedTitle: string;
}

export function initialSharedData(): SharedData {
  return { view: 'loading', shared: null, message: '', endedTitle: '' };
}

const ENDED_TITLES: Readonly<Record<string, string>> = {
  SHARE_EXPIRED: '分享已过期',
  SHARE_REVOKED: '已停止分享',
  SHARE_GONE: '分享不在了',
};

export function presentShared(s: SharedResult): SharedView {
  const isNote = s.kind === 'note';
  return {
    title: s.title,
    platformLabel: PLATFORM_LABELS[s.platform],
    cover: s.cover,
    content: s.content,
    wordCount: countWords(s.content),
    contentLabel: isNote ? '笔记正文' : '文案',
    isNote,
    edited: s.edited,
    timesText: `分享于 ${dateTimeText(Date.parse(s.sharedAt))} · ${dateTimeText(Date.parse(s.expiresAt))} 前可以查看`,
  };
}

class SharedPage {
  private taskId = '';
  private token = '';
  private loading = false;

  constructor(private readonly view: View<SharedData>) {}

  load(query: Record<string, string | undefined>): void {
    this.taskId = query.task ?? '';
    this.token = query.s ?? '';
    if (!TASK_ID.test(this.taskId) || !TOKEN.test(this.token)) {
      // A card cut short in forwarding, or a hand-made path: nothing to ask the server.
      this.ended({ ok: false, code: 'SHARE_GONE', message: '' });
      return;
    }
    void this.fetch();
  }

  async fetch(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.view.setData({ view: 'loading' });
    try {
      const out = await readShared(this.taskId, this.token);
      if (out.ok) {
        this.view.setData({ view: 'shown', shared: presentShared(out.shared), message: '' });
      } else if (ENDED.includes(out.code)) {
        this.ended(out);
      } else {
        // The network or the service: the link may well open on a second try.
        this.view.setData({ view: 'failed', shared: null, message: out.message });
      }
    } finally {
      this.loading = false;
    }
  }

  private ended(out: Failure): void {
    const code = ENDED.includes(out.code) ? out.code : 'SHARE_GONE';
    this.view.setData({
      view: 'ended',
      shared: null,
      endedTitle: ENDED_TITLES[code] ?? '分享不在了',
      message: out.message || '这条分享已经不在了：分享的人可能删除了这条记录，或链接不完整',
    });
  }

  copy(): void {
    const s = this.view.data.shared;
    if (s?.content) void copyText(s.content, '全文已复制');
  }

  extractMine(): void {
    openForm();
  }

  /** Forwarding keeps the same link: the friend sees what the owner shared, while it lasts. */
  forward(): WechatMiniprogram.Page.ICustomShareContent {
    const s = this.view.data.shared;
    if (!s) return { title: '粘贴短视频分享链接，一键提取视频文案', path: '/pages/index/index' };
    return {
      title: `「${s.title}」的${s.isNote ? '笔记文字' : '文案'}`,
      path: `/pages/shared/shared?task=${this.taskId}&s=${this.token}`,
    };
  }
}

const pages = new WeakMap<object, SharedPage>();
const ctl = (page: object) =>
  controllerFor(pages, page, () => new SharedPage(page as unknown as View<SharedData>));

Component({
  data: initialSharedData(),
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      ctl(this).load(query ?? {});
    },
    onShareAppMessage() {
      return ctl(this).forward();
    },
    onRetry() {
      void ctl(this).fetch();
    },
    onCopy() {
      ctl(this).copy();
    },
    onExtractMine() {
      ctl(this).extractMine();
    },
  },
});

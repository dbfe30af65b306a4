import { TaskStatus, planTransition } from './status';
import { SNIPPET_LENGTH, snippetOf } from './snippet';
import { shanghaiDay } from './time';
import {
  newTask,
  taskDocSchema,
  taskSummaryDocSchema,
  toTaskSummary,
  toTaskView,
  viewFromRaw,
} from './task';

const now = new Date('2026-11-28T16:30:00Z');
const doc = newTask({
  taskId: '0b7d3c1e-3f5a-4c7e-9d2b-8a1f6e4c2d10',
  openid: 'o_user_1',
  platform: 'douyin',
  url: 'https://v.douyin.com/iRNBho6u/',
  shareText: '复制打开抖音 https://v.douyin.com/iRNBho6u/',
  requestId: 'req-1',
  callbackTokenHash: 'a'.repeat(64),
  subscribed: { success: true, failure: false },
  now,
  queueMaxWaitS: 600,
  dueAt: now,
  queue: null,
});

describe('task document', () => {
  it('a new task is pending, owned, due in the queue, and expires as a queue wait', () => {
    expect(doc).toMatchObject({
      _openid: 'o_user_1',
      status: TaskStatus.Pending,
      progress: 0,
      start_attempts: 0,
      notification_state: 'none',
      next_dispatch_at: now,
      queue: null,
    });
    expect(doc.expires_at.getTime() - now.getTime()).toBe(600_000);
    expect(taskDocSchema.parse(doc)).toEqual(doc);
  });

  it('keeps the Asia/Shanghai day for the quota', () => {
    expect(doc.day).toBe('2026-11-29');
    expect(shanghaiDay(new Date('2026-11-28T15:59:59Z'))).toBe('2026-11-28');
  });

  it('the view carries no owner, token hash, request id or share text', () => {
    const view = toTaskView(doc);
    const text = JSON.stringify(view);
    for (const hidden of [
      'o_user_1',
      'a'.repeat(64),
      'req-1',
      'callback_token_hash',
      '_openid',
      'share_text',
    ]) {
      expect(text).not.toContain(hidden);
    }
    expect(view.created_at).toBe(now.toISOString());
    expect(view.started_at).toBeNull();
    expect(view.platform).toBe('douyin');
    expect(view.input_url).toBe('https://v.douyin.com/iRNBho6u/');
  });

  it('reads raw documents whose dates arrive as text or numbers', () => {
    const raw = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
    expect(viewFromRaw(raw)).toEqual(toTaskView(doc));
    expect(viewFromRaw({ ...raw, created_at: now.getTime() })?.created_at).toBe(now.toISOString());
    expect(viewFromRaw({ ...raw, created_at: 'yesterday' })).toBeNull();
    expect(viewFromRaw({ ...raw, status: 'done' })).toBeNull();
    expect(viewFromRaw(null)).toBeNull();
  });
});

describe('history summaries', () => {
  const douyin = newTask({
    taskId: 't-sum',
    openid: 'o_user_1',
    platform: 'douyin',
    url: 'https://v.douyin.com/iRNBho6u/',
    shareText: '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/ :9pm',
    requestId: null,
    callbackTokenHash: 'a'.repeat(64),
    subscribed: { success: false, failure: false },
    now,
    queueMaxWaitS: 600,
    dueAt: now,
    queue: null,
  });

  it('a new task carries its caption from the share text, and no snippet yet', () => {
    expect(douyin.caption).toBe('小猫的作品 · 好可爱');
    expect(douyin.snippet).toBeNull();
    expect(toTaskView(douyin).caption).toBe('小猫的作品 · 好可爱');
  });

  it('completing writes the transcript opening as the snippet, whitespace folded', () => {
    const content = `大家好，\n\n  今天教大家做红烧肉。${'先把五花肉切块。'.repeat(30)}`;
    const plan = planTransition(
      {
        type: 'completed',
        result: { title: '红烧肉', content, cover: '', video_url: '' },
        source: 'history',
      },
      now,
    );
    expect(plan.set.snippet).toBe(snippetOf(content));
    expect(Array.from(plan.set.snippet!)).toHaveLength(SNIPPET_LENGTH + 1);
    expect(plan.set.snippet!.startsWith('大家好， 今天教大家做红烧肉。')).toBe(true);
    expect(snippetOf(' \n ')).toBeNull();
    expect(snippetOf('短')).toBe('短');
  });

  it('a summary has the list fields and never the transcript', () => {
    const done = {
      ...douyin,
      status: TaskStatus.Completed,
      result: {
        title: '红烧肉',
        content: '全文'.repeat(1000),
        cover: 'https://c/x.jpg',
        video_url: 'https://v/x.mp4',
      },
      snippet: '全文全文',
      progress: 100,
      completed_at: now,
    };
    const summary = toTaskSummary(done);
    expect(summary).toEqual({
      taskId: 't-sum',
      status: TaskStatus.Completed,
      platform: 'douyin',
      title: '红烧肉',
      caption: '小猫的作品 · 好可爱',
      snippet: '全文全文',
      cover: 'https://c/x.jpg',
      kind: 'transcript',
      errorCode: null,
      progress: 100,
      createdAt: now.toISOString(),
      startedAt: null,
      completedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 600_000).toISOString(),
    });
    expect(JSON.stringify(summary)).not.toContain('全文全文全文');
  });

  it('old documents without caption or snippet still parse, as null', () => {
    const old: Record<string, unknown> = { ...douyin };
    delete old.caption;
    delete old.snippet;
    expect(taskDocSchema.parse(old)).toMatchObject({ caption: null, snippet: null });
    const projected = {
      _id: 'old',
      status: 'completed',
      platform: 'bilibili',
      result: { title: '旧任务' },
      progress: 100,
      error_code: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      expires_at: now.toISOString(),
    };
    expect(toTaskSummary(taskSummaryDocSchema.parse(projected))).toMatchObject({
      taskId: 'old',
      title: '旧任务',
      caption: null,
      snippet: null,
      cover: null,
      startedAt: null,
    });
  });
});

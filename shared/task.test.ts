import { TaskStatus } from './status';
import { newTask, shanghaiDay, taskDocSchema, toTaskView, viewFromRaw } from './task';

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
  timeoutS: 300,
});

describe('task document', () => {
  it('a new task is pending, owned, with its id as task_uuid and an expiry', () => {
    expect(doc).toMatchObject({
      _id: doc.task_uuid,
      _openid: 'o_user_1',
      status: TaskStatus.Pending,
      progress: 0,
      retry_count: 0,
      notification_sent: false,
      notification_state: 'none',
      webhook_received: false,
    });
    expect(doc.expires_at.getTime() - now.getTime()).toBe(300_000);
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

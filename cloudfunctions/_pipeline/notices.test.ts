/**
 * What a finished task's notice says: the video's name as the page and the history show it, and
 * a failure reason written to fit its keyword. In process: a store that accepts every notice
 * write and a sender that records the message.
 */
import { loadConfig } from '../../shared/config';
import { NOTICE_REASONS } from '../../shared/notice';
import { NoticeState } from '../../shared/notice-state';
import { TaskStatus } from '../../shared/status';
import { newTask, type TaskDoc } from '../../shared/task';
import type { TaskStore } from '../_adapters/database';
import { createLogger } from '../_adapters/log';
import { sendClaimedNotice, type NoticeDeps } from './notices';

const NOW = new Date('2026-11-28T07:00:00Z');
const config = loadConfig({
  COZE_API_BASE: 'http://127.0.0.1:9/coze',
  COZE_API_BASE_CUSTOM: 'true',
  COZE_API_TOKEN: 'pat_test',
  COZE_WORKFLOW_ID: '7000000000000000000',
  WEBHOOK_URL: 'http://127.0.0.1:9/webhook/coze',
  WEBHOOK_SECRET: `whsec_${Buffer.from('notices-test-secret-000000000001').toString('base64')}`,
  SUBSCRIBE_TEMPLATE_SUCCESS_ID: 'tmpl-success',
  SUBSCRIBE_TEMPLATE_FAILURE_ID: 'tmpl-failure',
});

function finished(shareText: string, patch: Partial<TaskDoc>): TaskDoc {
  const task = newTask({
    taskId: 't-1',
    openid: 'o_user',
    platform: 'douyin',
    url: 'https://v.douyin.com/iRNBho6u/',
    shareText,
    requestId: null,
    callbackTokenHash: 'h',
    subscribed: { success: true, failure: true },
    now: NOW,
    queueMaxWaitS: 600,
    dueAt: NOW,
    queue: null,
  });
  return {
    ...task,
    status: TaskStatus.Failed,
    completed_at: NOW,
    notification_state: NoticeState.Claimed,
    notification_claimed_at: NOW,
    ...patch,
  };
}

async function noticeOf(task: TaskDoc): Promise<Record<string, string>> {
  const sent: { data: Record<string, { value: string }> }[] = [];
  const deps: NoticeDeps = {
    store: { applyNotice: async () => true } as unknown as TaskStore,
    send: async (m) => {
      sent.push(m as (typeof sent)[number]);
      return {};
    },
    config,
    log: createLogger('test', () => undefined),
    now: () => NOW,
  };
  expect(await sendClaimedNotice(deps, task)).toBe('sent');
  return Object.fromEntries(Object.entries(sent[0]!.data).map(([k, v]) => [k, v.value]));
}

describe('the failure notice', () => {
  it("names the video by the share text's caption, and says why in whole words", async () => {
    const data = await noticeOf(
      finished('7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/', {
        error_code: 'VIDEO_UNAVAILABLE',
        error_message: '视频无法访问：可能已被删除、设为私密或仅粉丝可见',
      }),
    );
    // The default failure template: title thing1, reason thing3.
    expect(data.thing1).toBe('小猫的作品 · 好可爱');
    expect(data.thing3).toBe(NOTICE_REASONS.VIDEO_UNAVAILABLE.text);
    expect(data.thing3).not.toContain('…');
  });

  it('falls back to the platform only when the share text named nothing', async () => {
    const data = await noticeOf(
      finished('https://v.douyin.com/iRNBho6u/', { error_code: 'NO_SPEECH', error_message: 'x' }),
    );
    expect(data.thing1).toBe('抖音视频');
    expect(data.thing3).toBe(NOTICE_REASONS.NO_SPEECH.text);
  });

  it('a long caption is cut to the keyword with an ellipsis, the reason never', async () => {
    const data = await noticeOf(
      finished(
        `看看【阿明的作品】${'今天去了一家很好吃的面馆'.repeat(3)} https://v.douyin.com/x/`,
        {
          error_code: 'TIMEOUT',
          status: TaskStatus.Timeout,
        },
      ),
    );
    expect(Array.from(data.thing1!)).toHaveLength(20);
    expect(data.thing1!.startsWith('阿明的作品 · 今天去了')).toBe(true);
    expect(data.thing3).toBe(NOTICE_REASONS.TIMEOUT.text);
  });
});

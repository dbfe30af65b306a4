import { ERROR_MESSAGES, FAILURE_MESSAGES } from './errors';
import {
  EXPIRY_GRACE_MS,
  SUPPORTED_PLATFORMS_TEXT,
  answerErrorMessage,
  countWords,
  effectiveStatus,
  failureReason,
  isSilentPastExpiry,
  presentTask,
  progressPercent,
  progressStages,
  relativeTime,
  statusLabel,
} from './presentation';
import { TASK_STATUSES, TaskStatus } from './status';
import type { TaskView } from './task';

const NOW = new Date('2024-05-20T06:00:00.000Z'); // 14:00 in Shanghai

function view(patch: Partial<TaskView> = {}): TaskView {
  return {
    _id: 't1',
    task_uuid: 't1',
    status: TaskStatus.Pending,
    platform: 'douyin',
    input_url: 'https://v.douyin.com/abc/',
    caption: null,
    coze_execute_id: null,
    result: null,
    error_code: null,
    error_message: null,
    progress: 0,
    retry_count: 0,
    webhook_received: false,
    notification_sent: false,
    created_at: new Date(NOW.getTime() - 60_000).toISOString(),
    updated_at: new Date(NOW.getTime() - 60_000).toISOString(),
    started_at: null,
    completed_at: null,
    expires_at: new Date(NOW.getTime() + 240_000).toISOString(),
    ...patch,
  };
}

const states = (t: TaskView, s?: TaskStatus) => progressStages(t, s).map((x) => x.state);

describe('status labels', () => {
  it('has a Chinese label for every status', () => {
    for (const s of TASK_STATUSES) expect(statusLabel(s)).toMatch(/[\u4e00-\u9fff]/);
  });
  it('states the supported platforms', () => {
    expect(SUPPORTED_PLATFORMS_TEXT).toBe('抖音、快手、小红书、哔哩哔哩');
  });
});

describe('progress stages', () => {
  it('queued → extracting → done', () => {
    expect(states(view())).toEqual(['active', 'todo', 'todo']);
    expect(states(view({ status: TaskStatus.Processing, progress: 40 }))).toEqual([
      'done',
      'active',
      'todo',
    ]);
    expect(states(view({ status: TaskStatus.Completed, progress: 100 }))).toEqual([
      'done',
      'done',
      'done',
    ]);
  });
  it('marks the stage a failure stopped in', () => {
    expect(states(view({ status: TaskStatus.Failed }))).toEqual(['error', 'todo', 'todo']);
    const started = view({ status: TaskStatus.Failed, started_at: NOW.toISOString() });
    expect(states(started)).toEqual(['done', 'error', 'todo']);
  });
  it('percent never shows 0 once submitted and 100 only when done', () => {
    expect(progressPercent(view(), TaskStatus.Pending)).toBe(5);
    expect(progressPercent(view({ progress: 0 }), TaskStatus.Processing)).toBe(10);
    expect(progressPercent(view({ progress: 60 }), TaskStatus.Processing)).toBe(60);
    expect(progressPercent(view({ progress: 100 }), TaskStatus.Processing)).toBe(99);
    expect(progressPercent(view({ progress: 100 }), TaskStatus.Completed)).toBe(100);
  });
});

describe('expiry', () => {
  const expired = view({
    status: TaskStatus.Processing,
    expires_at: new Date(NOW.getTime() - EXPIRY_GRACE_MS - 1).toISOString(),
  });
  it('a task silent past its expiry shows as timed out', () => {
    expect(isSilentPastExpiry(expired, NOW)).toBe(true);
    expect(effectiveStatus(expired, NOW)).toBe(TaskStatus.Timeout);
    const card = presentTask(expired, NOW);
    expect(card.timedOutLocally).toBe(true);
    expect(card.reason).toBe(FAILURE_MESSAGES.TIMEOUT);
    expect(card.canRetry).toBe(true);
    expect(card.canCancel).toBe(false);
  });
  it('grace period and terminal tasks are left alone', () => {
    const inGrace = view({ expires_at: new Date(NOW.getTime() - 1000).toISOString() });
    expect(isSilentPastExpiry(inGrace, NOW)).toBe(false);
    const done = { ...expired, status: TaskStatus.Completed };
    expect(effectiveStatus(done, NOW)).toBe(TaskStatus.Completed);
  });
});

describe('failure reasons', () => {
  it('uses the catalogue message for a known code', () => {
    const t = view({ status: TaskStatus.Failed, error_code: 'PHOTO_NOTE', error_message: 'x' });
    expect(failureReason(t)).toBe(FAILURE_MESSAGES.PHOTO_NOTE);
  });
  it('falls back to the stored message, then a generic one', () => {
    expect(failureReason(view({ status: TaskStatus.Failed, error_message: '自定义' }))).toBe(
      '自定义',
    );
    expect(failureReason(view({ status: TaskStatus.Failed }))).toBe(
      FAILURE_MESSAGES.PROVIDER_ERROR,
    );
    expect(failureReason(view({ status: TaskStatus.Timeout }))).toBe(FAILURE_MESSAGES.TIMEOUT);
    expect(failureReason(view({ status: TaskStatus.Cancelled }))).toBe(FAILURE_MESSAGES.CANCELLED);
  });
  it('answer errors map by code', () => {
    expect(answerErrorMessage({ code: 'NO_LINK', message: 'ignored' })).toBe(
      ERROR_MESSAGES.NO_LINK,
    );
    expect(answerErrorMessage({ code: 'WHAT', message: '服务说的' })).toBe('服务说的');
    expect(answerErrorMessage(null)).toBe(ERROR_MESSAGES.INTERNAL);
  });
});

describe('word count', () => {
  it('counts each Han character and each run of other letters', () => {
    expect(countWords('')).toBe(0);
    expect(countWords('大家好，我是小王。')).toBe(7);
    expect(countWords('今天教大家做 iPhone 15 的设置')).toBe(11);
    expect(countWords('Hello world!')).toBe(2);
    expect(countWords('𠀀字')).toBe(2);
  });
});

describe('relative time (Asia/Shanghai)', () => {
  const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
  it('formats recent and older times', () => {
    expect(relativeTime(ago(10_000), NOW)).toBe('刚刚');
    expect(relativeTime(ago(5 * 60_000), NOW)).toBe('5 分钟前');
    expect(relativeTime(ago(3 * 3600_000), NOW)).toBe('今天 11:00');
    expect(relativeTime(ago(20 * 3600_000), NOW)).toBe('昨天 18:00');
    expect(relativeTime('2024-03-08T12:15:00.000Z', NOW)).toBe('3月8日 20:15');
    expect(relativeTime('2023-03-08T12:15:00.000Z', NOW)).toBe('2023年3月8日');
    expect(relativeTime('nonsense', NOW)).toBe('');
  });
});

describe('presentTask', () => {
  it('renders a completed task with its result', () => {
    const card = presentTask(
      view({
        status: TaskStatus.Completed,
        progress: 100,
        result: { title: ' 红烧肉 ', content: '先放油再放糖', cover: 'c.jpg', video_url: 'v.mp4' },
      }),
      NOW,
    );
    expect(card).toMatchObject({
      statusLabel: '已完成',
      tone: 'success',
      title: '红烧肉',
      wordCount: 6,
      videoUrl: 'v.mp4',
      reason: '',
      canRetry: false,
      canCancel: false,
      percent: 100,
      createdText: '1 分钟前',
    });
  });
  it('names an untitled task after its platform', () => {
    expect(presentTask(view({ platform: 'bilibili' }), NOW).title).toBe('哔哩哔哩视频');
  });
});

import { ERROR_MESSAGES, FAILURE_MESSAGES } from './errors';
import {
  EXPIRY_GRACE_MS,
  SUPPORTED_PLATFORMS_TEXT,
  answerErrorMessage,
  countWords,
  effectiveStatus,
  failureReason,
  isSilentPastExpiry,
  FAILURE_OUTCOMES,
  durationText,
  failureOutcome,
  presentSummary,
  presentTask,
  busyRefusalText,
  longDurationText,
  quotaText,
  progressPercent,
  relativeTime,
  shortLink,
  statusLabel,
  typicalWaitMs,
  waitText,
} from './presentation';
import type { TaskSummary } from './api';
import { FAILURE_CODES } from './errors';
import { TASK_STATUSES, TaskStatus } from './status';
import type { TaskView } from './task';

const NOW = new Date('2024-05-20T06:00:00.000Z'); // 14:00 in Shanghai

function summaryOf(id: string): TaskSummary {
  return {
    taskId: id,
    status: TaskStatus.Completed,
    platform: 'douyin',
    title: null,
    caption: null,
    snippet: null,
    cover: null,
    kind: 'transcript',
    errorCode: null,
    progress: 100,
    createdAt: new Date(NOW.getTime() - 180_000).toISOString(),
    startedAt: null,
    completedAt: null,
    updatedAt: NOW.toISOString(),
    expiresAt: new Date(NOW.getTime() + 600_000).toISOString(),
  };
}

function view(patch: Partial<TaskView> = {}): TaskView {
  return {
    _id: 't1',
    status: TaskStatus.Pending,
    platform: 'douyin',
    input_url: 'https://v.douyin.com/abc/',
    caption: null,
    coze_execute_id: null,
    result: null,
    error_code: null,
    error_message: null,
    progress: 0,
    queue: null,
    created_at: new Date(NOW.getTime() - 60_000).toISOString(),
    updated_at: new Date(NOW.getTime() - 60_000).toISOString(),
    started_at: null,
    completed_at: null,
    expires_at: new Date(NOW.getTime() + 240_000).toISOString(),
    ...patch,
  };
}

describe('status labels', () => {
  it('has a Chinese label for every status', () => {
    for (const s of TASK_STATUSES) expect(statusLabel(s)).toMatch(/[\u4e00-\u9fff]/);
  });
  it('states the supported platforms', () => {
    expect(SUPPORTED_PLATFORMS_TEXT).toBe('抖音、快手、小红书、哔哩哔哩');
  });
});

describe('progress', () => {
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
      headline: '提取完成',
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
  it('titles a task without a result by the caption of its share text', () => {
    const t = {
      ...view({ status: TaskStatus.Failed, error_code: 'NO_SPEECH' }),
      caption: ' 好可爱 ',
    };
    expect(presentTask(t, NOW).title).toBe('好可爱');
  });
  it('says the running state once, with the percentage and the usual wait', () => {
    const queued = presentTask(view(), NOW);
    expect(queued).toMatchObject({ headline: '排队中', progressText: '马上开始', canCancel: true });
    expect(queued.waitText).toBe('通常约 1 分钟');
    const running = presentTask(view({ status: TaskStatus.Processing, progress: 40 }), NOW, 45_000);
    expect(running).toMatchObject({ headline: '正在提取文案', progressText: '40%' });
    expect(running.waitText).toBe('最近的提取一般约 45 秒完成');
  });
  it('a permanent failure leads to another link; a transient one to a retry', () => {
    const photo = presentTask(view({ status: TaskStatus.Failed, error_code: 'PHOTO_NOTE' }), NOW);
    expect(photo).toMatchObject({ mainAction: 'new_link', permanent: true, canRetry: false });
    expect(photo.reason).toBe(FAILURE_MESSAGES.PHOTO_NOTE);
    const busy = presentTask(
      view({ status: TaskStatus.Failed, error_code: 'PROVIDER_ERROR' }),
      NOW,
    );
    expect(busy).toMatchObject({ mainAction: 'retry', permanent: false, canRetry: true });
    const done = presentTask(view({ status: TaskStatus.Completed, progress: 100 }), NOW);
    expect(done).toMatchObject({ mainAction: '', canRetry: false, waitText: '' });
  });
  it("a photo note's text is labelled as the note's, not a transcript", () => {
    const note = presentTask(
      view({
        status: TaskStatus.Completed,
        result: {
          title: '咖啡店合集',
          content: '第一家在巷子里',
          cover: '',
          video_url: '',
          kind: 'note',
        },
      }),
      NOW,
    );
    expect(note).toMatchObject({
      succeeded: true,
      isNote: true,
      contentLabel: '笔记正文',
      headline: '已取出笔记的文字',
      content: '第一家在巷子里',
    });
    const transcript = presentTask(
      view({
        status: TaskStatus.Completed,
        result: { title: 't', content: 'c', cover: '', video_url: '' },
      }),
      NOW,
    );
    expect(transcript).toMatchObject({ isNote: false, contentLabel: '文案', headline: '提取完成' });
    expect(
      presentSummary(
        {
          ...summaryOf(transcript.id),
          kind: 'note',
        },
        NOW,
      ).meta,
    ).toBe('抖音图文 · 3 分钟前');
  });

  it('a task that waited too long says it never started, with a retry', () => {
    const card = presentTask(
      view({ status: TaskStatus.Failed, error_code: 'TOO_BUSY', error_message: 'x' }),
      NOW,
    );
    expect(card).toMatchObject({
      headline: '排队太久，没能开始',
      reason: FAILURE_MESSAGES.TOO_BUSY,
      mainAction: 'retry',
      permanent: false,
    });
  });

  it('while it waits in the queue: how many are ahead and when it starts', () => {
    const waiting = presentTask(view(), NOW, null, { ahead: 12, waitS: 95 });
    expect(waiting).toMatchObject({
      headline: '排队中',
      queued: true,
      progressText: '前面还有 12 个',
      waitText: '现在提取的人多，预计约 2 分钟后开始',
    });
    expect(presentTask(view(), NOW, null, { ahead: 0, waitS: 2 })).toMatchObject({
      queued: false,
      progressText: '马上开始',
    });
    // Started: the queue no longer speaks.
    const started = presentTask(view({ status: TaskStatus.Processing, progress: 40 }), NOW, null, {
      ahead: 3,
      waitS: 10,
    });
    expect(started).toMatchObject({ queued: false, progressText: '40%' });
  });

  it('shows links as one short line', () => {
    const card = presentTask(
      view({
        status: TaskStatus.Completed,
        result: {
          title: 't',
          content: 'c',
          cover: '',
          video_url: 'https://v26-web.douyinvod.com/0f3c9a1b2e4d/665f/video/tos/cn/?a=6383&br=1212',
        },
      }),
      NOW,
    );
    expect(card.videoLinkText).toBe('v26-web.douyinvod.com/…');
    expect(card.sourceText).toBe('v.douyin.com/abc');
  });
});

describe('failure outcomes', () => {
  it('one row per failure code; photo notes, silence, length and gone videos are permanent', () => {
    expect(Object.keys(FAILURE_OUTCOMES).sort()).toEqual([...FAILURE_CODES].sort());
    const permanent = FAILURE_CODES.filter((c) => FAILURE_OUTCOMES[c].nature === 'permanent');
    expect(permanent.sort()).toEqual(['NO_SPEECH', 'PHOTO_NOTE', 'TOO_LONG', 'VIDEO_UNAVAILABLE']);
    for (const c of FAILURE_CODES) {
      const o = FAILURE_OUTCOMES[c];
      expect(o.action).toBe(o.nature === 'permanent' ? 'new_link' : 'retry');
    }
  });
  it('unknown codes, timeouts and cancels are transient', () => {
    expect(failureOutcome({ status: TaskStatus.Failed, error_code: 'WHAT' }).nature).toBe(
      'transient',
    );
    expect(failureOutcome({ status: TaskStatus.Timeout, error_code: null }).action).toBe('retry');
    expect(failureOutcome({ status: TaskStatus.Cancelled, error_code: 'CANCELLED' }).action).toBe(
      'retry',
    );
  });
});

describe('short links', () => {
  it('keeps a short link whole and cuts a long one to its host', () => {
    expect(shortLink('https://v.douyin.com/iRNBho6u/')).toBe('v.douyin.com/iRNBho6u');
    expect(shortLink('https://v3.example.com/video.mp4?expires=1')).toBe('v3.example.com/…');
    expect(shortLink('https://www.bilibili.com/video/BV1xx411c7mD/extra/long/path')).toBe(
      'www.bilibili.com/…',
    );
    expect(shortLink('b23.tv')).toBe('b23.tv');
  });
});

describe('the wait', () => {
  const done = (ms: number): Pick<TaskSummary, 'status' | 'createdAt' | 'completedAt'> => ({
    status: TaskStatus.Completed,
    createdAt: NOW.toISOString(),
    completedAt: new Date(NOW.getTime() + ms).toISOString(),
  });
  it('is the median of recent completed tasks, and unknown with too few of them', () => {
    expect(typicalWaitMs([done(10_000), done(40_000)])).toBeNull();
    expect(typicalWaitMs([done(10_000), done(40_000), done(600_000)])).toBe(40_000);
    expect(typicalWaitMs([done(10_000), done(20_000), done(40_000), done(50_000)])).toBe(30_000);
    const failed = { ...done(5000), status: TaskStatus.Failed };
    const broken = { ...done(5000), completedAt: 'nonsense' };
    expect(typicalWaitMs([failed, failed, broken, done(20_000)])).toBeNull();
  });
  it('says the usual wait honestly, and when this one is slower', () => {
    expect(waitText(null, 10_000)).toBe('通常约 1 分钟');
    expect(waitText(45_000, 10_000)).toBe('最近的提取一般约 45 秒完成');
    expect(waitText(45_000, 200_000)).toBe('这次比平时慢一些，请再稍等');
    expect(waitText(null, 200_000)).toBe('这次比平时慢一些，请再稍等');
  });
  it('rounds durations as a person says them', () => {
    expect(durationText(3_200)).toBe('3 秒');
    expect(durationText(23_000)).toBe('25 秒');
    expect(durationText(70_000)).toBe('1 分钟');
    expect(durationText(200_000)).toBe('3 分钟');
  });
});

describe('history rows', () => {
  const summary = (patch: Partial<TaskSummary> = {}): TaskSummary => ({
    ...summaryOf('s1'),
    ...patch,
  });
  it('shows a task silent past its expiry as timed out, as the task page does', () => {
    const silent = summary({
      status: TaskStatus.Processing,
      expiresAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
    });
    expect(presentSummary(silent, NOW).statusLabel).toBe(
      presentSummary(summary({ status: TaskStatus.Timeout }), NOW).statusLabel,
    );
    expect(presentSummary(silent, NOW).running).toBe(false);
  });
  it('titles by the result, else the caption, else the platform', () => {
    expect(presentSummary(summary({ title: '红烧肉', caption: '好吃' }), NOW).title).toBe('红烧肉');
    expect(presentSummary(summary({ caption: '好吃' }), NOW).title).toBe('好吃');
    expect(presentSummary(summary({ platform: 'kuaishou' }), NOW).title).toBe('快手视频');
  });
  it('shows a line of text, the reason, or the progress', () => {
    const ok = presentSummary(summary({ snippet: '大家好，\n今天教大家', cover: 'c.jpg' }), NOW);
    expect(ok).toMatchObject({
      detail: '大家好， 今天教大家',
      cover: 'c.jpg',
      canCopy: true,
      statusLabel: '已完成',
      meta: '抖音 · 3 分钟前',
    });
    const bad = presentSummary(
      summary({ status: TaskStatus.Failed, errorCode: 'PHOTO_NOTE' }),
      NOW,
    );
    expect(bad).toMatchObject({ detail: FAILURE_MESSAGES.PHOTO_NOTE, detailIsReason: true });
    expect(bad.canCopy).toBe(false);
    const running = presentSummary(summary({ status: TaskStatus.Processing, progress: 40 }), NOW);
    expect(running).toMatchObject({ detail: '正在提取 40%', running: true, initial: '抖' });
    const long = presentSummary(summary({ snippet: '字'.repeat(80) }), NOW);
    expect(long.detail).toHaveLength(61);
  });
});

describe("today's uses and a busy refusal", () => {
  const resetsAt = '2024-05-20T16:00:00.000Z'; // midnight in Shanghai, 10 hours on
  it('says what is left, or that it is spent and for how long', () => {
    expect(quotaText({ used: 3, limit: 50, resetsAt }, NOW)).toEqual({
      text: '今天还可以提取 47 次（每天 0 点重置）',
      usedUp: false,
    });
    expect(quotaText({ used: 50, limit: 50, resetsAt }, NOW)).toEqual({
      text: '今天的 50 次已用完，0 点后可以再提取，还有约 10 小时',
      usedUp: true,
    });
  });
  it('says when to try again as a wait and a Shanghai clock time', () => {
    expect(busyRefusalText(180, NOW)).toBe(
      '现在提取的人太多了，排不上队，这次没有扣次数。请 3 分钟后（14:03 左右）再试',
    );
    expect(busyRefusalText(undefined, NOW)).toContain('5 分钟后（14:05 左右）');
    expect(longDurationText(45_000)).toBe('45 秒');
    expect(longDurationText(3 * 3600_000)).toBe('3 小时');
  });
});

/**
 * What the stand-in's simulated workflow does with a run: the outcome it plays for a share link
 * (plainly marked as simulated) and the callbacks it posts on the way, by fault mode.
 */
import type { CallbackType } from '../shared/callback';
import { FAILURE_MESSAGES, type WorkflowFailureCode } from '../shared/errors';
import type { TaskResult } from '../shared/result';
import { PLATFORM_LABELS, parseShareText, type Platform } from '../shared/share-text';

export const CALLBACK_MODES = ['normal', 'drop', 'duplicate', 'reorder'] as const;
export type CallbackMode = (typeof CALLBACK_MODES)[number];

export function isCallbackMode(v: string): v is CallbackMode {
  return (CALLBACK_MODES as readonly string[]).includes(v);
}

/** How a simulated run will end, decided at its start. */
export type PlannedOutcome =
  | { kind: 'completed'; result: TaskResult }
  | { kind: 'failed'; errorCode: WorkflowFailureCode; errorMessage: string };

export const SIMULATED_MEDIA = 'https://example.invalid/coze-standin';

interface FoundLink {
  platform: Platform | null;
  url: string;
  path: string;
}

function findLink(shareText: string): FoundLink | null {
  const parsed = parseShareText(shareText);
  // Links the product would refuse still get an answer here: the stand-in plays the workflow,
  // and a `.../fail` link must fail even where the parser would not accept its path.
  const raw = parsed.ok
    ? parsed.url
    : /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/i.exec(shareText)?.[0];
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return { platform: parsed.ok ? parsed.platform : null, url: raw, path: u.pathname };
  } catch {
    return null;
  }
}

function simulatedFailure(code: 'VIDEO_UNAVAILABLE' | 'PHOTO_NOTE', why: string): PlannedOutcome {
  return {
    kind: 'failed',
    errorCode: code,
    errorMessage: `${FAILURE_MESSAGES[code]}（本地模拟：${why}）`,
  };
}

/** The outcome the simulated workflow plays for the `share_text` input. */
export function simulateOutcome(shareText: string, executeId: string): PlannedOutcome {
  const link = findLink(shareText);
  if (!link) return simulatedFailure('VIDEO_UNAVAILABLE', '分享内容里没有可访问的链接');
  if (/fail/i.test(link.path)) return simulatedFailure('VIDEO_UNAVAILABLE', '链接路径含 fail');
  if (link.platform === 'douyin' && /\/note\//.test(link.path)) {
    // A photo note with no words of its own: nothing to give back.
    return simulatedFailure('PHOTO_NOTE', '抖音 /note/ 链接是没有文字的图文笔记');
  }
  const segment = link.path.split('/').filter(Boolean).pop() ?? '';
  if (link.platform === 'xiaohongshu' && /note/i.test(link.path)) {
    // A photo note (most Xiaohongshu posts): its own title and body are the result.
    return {
      kind: 'completed',
      result: {
        title: `【模拟】小红书图文笔记 ${segment}`,
        content:
          `（本地模拟结果）这是一篇图文笔记，没有语音；这里是笔记自己的正文，由本地开发环境的 Coze 替身生成。` +
          `链接是 ${link.url}。\n\n周末去了三家小众咖啡店，第一家在巷子里，手冲很稳；第二家有露台；第三家的甜品值得专门去。#咖啡 #周末去哪儿`,
        cover: `${SIMULATED_MEDIA}/cover/${executeId}.jpg`,
        video_url: '',
        kind: 'note',
      },
    };
  }
  const label = link.platform ? PLATFORM_LABELS[link.platform] : '';
  return {
    kind: 'completed',
    result: {
      title: `【模拟】${label}视频 ${segment}`.replace(/\s+$/, ''),
      content:
        `（本地模拟结果，非真实识别）这段文字由本地开发环境的 Coze 替身生成，不是视频里真正说的话。` +
        `链接是 ${link.url}。接入真正的 Coze 工作流后，这里会是视频语音的逐字文案。` +
        `大家好，欢迎收看本期视频，记得点赞关注哦 😊。`,
      cover: `${SIMULATED_MEDIA}/cover/${executeId}.jpg`,
      video_url: `${SIMULATED_MEDIA}/video/${executeId}.mp4`,
    },
  };
}

/** One step of a run's callback plan. */
export interface Step {
  /** ms after the start */
  at: number;
  type: CallbackType;
  progress: number;
  /** deliveries of this step, all with its one webhook-id */
  copies: number;
  /** the step that ends the run (its history turns final) */
  final: boolean;
}

export function planFor(run: {
  delayMs: number;
  mode: CallbackMode;
  outcome: PlannedOutcome;
}): Step[] {
  const d = run.delayMs;
  const finalType: CallbackType =
    run.outcome.kind === 'completed' ? 'workflow.execution.completed' : 'workflow.execution.failed';
  const p30: Step = {
    at: Math.round(d / 3),
    type: 'workflow.execution.progress',
    progress: 30,
    copies: 1,
    final: false,
  };
  const p70: Step = { ...p30, at: Math.round((2 * d) / 3), progress: 70 };
  const end: Step = { at: d, type: finalType, progress: 100, copies: 1, final: true };
  switch (run.mode) {
    case 'normal':
      return [p30, p70, end];
    case 'drop':
      // The run still ends on time: the history tells the truth though nobody was called.
      return [p30, p70, end].map((s) => ({ ...s, copies: 0 }));
    case 'duplicate':
      // Each delivery twice under one id (a transport retry), then the final once more under a
      // new id (the user re-ran the last node): the webhook must take both as no-ops.
      return [
        { ...p30, copies: 2 },
        { ...p70, copies: 2 },
        { ...end, copies: 2 },
        { ...end, final: false },
      ];
    case 'reorder':
      return [p30, end, { ...p70, at: d }];
  }
}

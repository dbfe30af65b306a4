/**
 * The only door from the mini-program into the repo's `shared/` domain. The build turns this file
 * into one module (`domain.js`, with zod inside) that every page requires, so the domain code is
 * in the package once; it refuses `../shared` imports from any other file.
 */
import { config as zodConfig } from 'zod/mini';

// WeChat forbids `new Function`; zod only probes for it, but never let it try.
zodConfig({ jitless: true });

export type { ExtractAnswer, ExtractRequest } from '../shared/api';
export { LIST_DEFAULT_LIMIT, quotaResetsAt, type Quota, type SharedResult } from '../shared/api';
export { isErrorCode, type ErrorCode } from '../shared/errors';
export {
  EXPIRY_GRACE_MS,
  NETWORK_ERROR_MESSAGE,
  SUPPORTED_PLATFORMS_TEXT,
  VIDEO_LINK_NOTE,
  answerErrorMessage,
  countWords,
  dateTimeText,
  isSilentPastExpiry,
  presentSummary,
  presentTask,
  quotaText,
  busyRefusalText,
  shortLink,
  typicalWaitMs,
  type CardTask,
  type HistoryRow,
  type QueueSpot,
  type TaskCard,
} from '../shared/presentation';
export { PLATFORM_LABELS, parseShareText, type Platform } from '../shared/share-text';
export { TaskStatus, isTerminal } from '../shared/status';
export {
  QUEUE_COLLECTION,
  QUEUE_STATE_ID,
  queuePosition,
  queueProgressFromRaw,
  type QueueProgress,
} from '../shared/queue';
export { viewFromRaw, type TaskSummary, type TaskView } from '../shared/task';

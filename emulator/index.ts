/**
 * The local stack's public entry: `startLocalStack` (stack.ts) and what scripts, tests, the bench, the
 * console and the Coze stand-in use of it. Each service lives in its own folder (README.md).
 */
export { startLocalStack, LOCAL_ENV_ID, type LocalStack, type LocalStackOptions } from './stack';
export { FunctionCallError } from './functions/service';
export type { SentMessage, TemplateSpec } from './wechat/subscribe';
export type {
  WatchSnapshot,
  DocChange,
  WatchPushes,
  WatchLimits,
  ClientReadRules,
} from './watch/watch';
export { DOCUMENTED_WATCH_LIMITS } from './watch/watch';
export { adminActions, AdminError, type AdminAction, type AdminContext } from './admin';
export { Monitor, dbOpKind, type MonitorEvent, type InvocationRecord } from './monitor/monitor';
export type { ChangeEvent, FindOptions } from './database/store';
export { DEFAULT_APPID, LOCAL_SECRET_ID, LOCAL_SECRET_KEY } from './functions/pool';
export type { RequestContext, Route } from './http/router';
export type { EmulatorService, ServiceName } from './service';

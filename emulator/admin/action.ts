/**
 * What an admin action is: a function of the request's parameters and the stack's services, answering
 * a JSON object or raw bytes, or throwing an AdminError the SDK reads as `{code, message}`. Each service
 * keeps its own actions beside it (database/actions.ts, storage/actions.ts, ...); admin/index.ts serves them.
 */
import type { Doc } from '../database/ejson';
import type { Store } from '../database/store';
import type { TransactionManager } from '../database/transaction';
import type { FunctionRuntime } from '../functions/pool';
import type { Monitor } from '../monitor/monitor';
import type { StorageService } from '../storage/storage';
import type { SubscriptionService } from '../wechat/subscribe';

export interface AdminContext {
  store: Store;
  runtime: FunctionRuntime;
  subscriptions: SubscriptionService;
  transactions: TransactionManager;
  storage: StorageService;
  log: (line: string) => void;
  /** The caller's `X-TCB-Source` header (`<TCB_SOURCE>,<run env tag>`), when it sent one. */
  source?: string;
  monitor?: Monitor;
  /** Whether a function's openapi calls are held to its config.json's `permissions.openapi`. */
  openApiPermissions: boolean;
  /** The request's `seqId` query parameter: names the function invocation that made it. */
  seqId?: string | null;
}

export type AdminParams = Record<string, unknown>;

/** What an action answers: a JSON object (becomes the body plus `requestId`) or raw bytes. */
export type ActionResult = Doc | { raw: Buffer; contentType: string };

export type AdminAction = (
  params: AdminParams,
  ctx: AdminContext,
) => ActionResult | Promise<ActionResult>;

/** An error the SDK receives as `{code, message}`; `code` is a tcb code such as `INVALID_PARAM`. */
export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function invalid(message: string): AdminError {
  return new AdminError('INVALID_PARAM', message);
}

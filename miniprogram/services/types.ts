/**
 * The service layer's contract: what the pages need from a backend, whichever one it is.
 */
import type { BackendMode } from '../config';
import type { ExtractAnswer, ExtractRequest } from '../domain';

/** One change of a watched document (same shape as wx.cloud's `ISingleDBEvent`). */
export interface WatchDocChange {
  id?: number;
  dataType?: string;
  queueType?: string;
  docId?: string;
  doc?: unknown;
  updatedFields?: unknown;
  removedFields?: unknown;
}

/** What a watch delivers (same shape as wx.cloud's `ISnapshot`; local dates are ISO text). */
export interface WatchSnapshot {
  id?: number;
  type?: string;
  docChanges: WatchDocChange[];
  docs: unknown[];
}

export interface WatchHandlers {
  onChange(snapshot: WatchSnapshot): void;
  onError(error: unknown): void;
}

export interface WatchHandle {
  close(): void;
}

export interface Backend {
  readonly mode: BackendMode;
  /** Calls `extractText`. Rejects only when the call did not get through (network, no cloud). */
  call(request: ExtractRequest): Promise<ExtractAnswer>;
  /** Watches one task of the current user; errors arrive through `onError`. */
  watchTask(taskId: string, handlers: WatchHandlers): WatchHandle;
  /**
   * Watches the queue's one state document (collection `queue`, readable by any signed-in user:
   * no user data), for a waiting task's live position. A backend that does not serve it answers
   * an error or a snapshot without it; the caller then asks the function instead.
   */
  watchQueue(handlers: WatchHandlers): WatchHandle;
  /** Records accepted subscription templates where nothing else would (the local stack). */
  recordGrants(templateIds: string[]): Promise<void>;
}

/** A call that never reached the function. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

/** A wx callback error, reduced to text for a log line. */
export function errText(err: unknown): string {
  if (err && typeof err === 'object') {
    const o = err as { errMsg?: unknown; message?: unknown; errCode?: unknown };
    const msg =
      typeof o.errMsg === 'string' ? o.errMsg : typeof o.message === 'string' ? o.message : '';
    return o.errCode !== undefined ? `${msg} (${String(o.errCode)})` : msg || 'error';
  }
  return String(err);
}

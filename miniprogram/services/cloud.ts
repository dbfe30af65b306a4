/**
 * The cloud backend: `wx.cloud.callFunction` and a database watch on the user's own task.
 */
import { getConfig } from '../config';
import {
  QUEUE_COLLECTION,
  QUEUE_STATE_ID,
  type ExtractAnswer,
  type ExtractRequest,
} from '../domain';
import {
  TransportError,
  errText,
  type Backend,
  type WatchHandle,
  type WatchHandlers,
} from './types';

const FUNCTION_NAME = 'extractText';
const TASKS = 'tasks';

let initialized = false;

function cloud(): WxCloud {
  if (!wx.cloud) throw new TransportError('wx.cloud is unavailable (base library too old?)');
  if (!initialized) {
    const env = getConfig().cloud.env;
    wx.cloud.init(env ? { env, traceUser: true } : { traceUser: true });
    initialized = true;
  }
  return wx.cloud;
}

export function createCloudBackend(): Backend {
  return {
    mode: 'cloud',

    async call(request: ExtractRequest): Promise<ExtractAnswer> {
      let res: ICloud.CallFunctionResult;
      try {
        res = await cloud().callFunction({ name: FUNCTION_NAME, data: request });
      } catch (err) {
        throw new TransportError(errText(err));
      }
      const answer = res.result;
      if (!answer || typeof answer !== 'object' || typeof answer.ok !== 'boolean') {
        throw new TransportError('extractText answered no result');
      }
      return answer as ExtractAnswer;
    },

    watchTask(taskId: string, handlers: WatchHandlers): WatchHandle {
      // The security rule only lets a user read their own tasks, so the query must carry
      // `_openid`; '{openid}' is replaced by the SDK with the caller's openid.
      return watchWhere(TASKS, { _id: taskId, _openid: '{openid}' }, handlers);
    },

    watchQueue(handlers: WatchHandlers): WatchHandle {
      // Readable by any signed-in user (database/collections.json): one shared document.
      return watchWhere(QUEUE_COLLECTION, { _id: QUEUE_STATE_ID }, handlers);
    },

    async recordGrants(): Promise<void> {
      // WeChat itself records what the user accepted.
    },
  };
}

/** A database watch over `where`, its snapshots in the service layer's shape. */
function watchWhere(
  collection: string,
  where: Record<string, string>,
  handlers: WatchHandlers,
): WatchHandle {
  const listener = cloud()
    .database()
    .collection(collection)
    .where(where)
    .watch({
      onChange: (snapshot) =>
        handlers.onChange({
          id: snapshot.id,
          ...(snapshot.type ? { type: snapshot.type } : {}),
          docChanges: Array.isArray(snapshot.docChanges) ? snapshot.docChanges : [],
          // Typed as a record by the typings; it is an array of documents.
          docs: Array.isArray(snapshot.docs) ? (snapshot.docs as unknown[]) : [],
        }),
      onError: (err: unknown) => handlers.onError(err),
    });
  return {
    close() {
      // Closing an already-failed listener throws or rejects; nothing is left to do then.
      try {
        listener.close().catch(() => undefined);
      } catch {
        // already closed
      }
    },
  };
}

/**
 * The one place that touches wx-server-sdk's globals. In the cloud and on the local stack the
 * runtime injects the service address and credentials through environment variables, so `init`
 * needs nothing but the dynamic env; tests outside a function pass `serviceUrl` and dummy keys.
 */
import cloud from 'wx-server-sdk';

export type Database = ReturnType<typeof cloud.database>;
export type Command = Database['command'];

export interface CloudHandles {
  db: Database;
  _: Command;
  /** subscribeMessage.send, typed to what we use */
  sendSubscribeMessage(message: object): Promise<unknown>;
  /** caller identity; HTTP access and timers have none */
  openid(): string | undefined;
}

export interface CloudInitOverrides {
  serviceUrl?: string;
  secretId?: string;
  secretKey?: string;
  env?: string;
  /** outside a function, the environment's region when it is not ap-shanghai */
  region?: string;
}

/** Who invoked this run, from WXContext: a client call has an OPENID and a `wx_…` SOURCE. */
export interface CallerContext {
  openid?: string;
  source?: string;
}

/** Reads WXContext (per-invocation environment); needs no `init`, so it works before config. */
export function callerContext(): CallerContext {
  const ctx = cloud.getWXContext() as { OPENID?: unknown; SOURCE?: unknown };
  const out: CallerContext = {};
  if (typeof ctx.OPENID === 'string' && ctx.OPENID !== '') out.openid = ctx.OPENID;
  if (typeof ctx.SOURCE === 'string' && ctx.SOURCE !== '') out.source = ctx.SOURCE;
  return out;
}

let handles: CloudHandles | null = null;

export function initCloud(overrides?: CloudInitOverrides): CloudHandles {
  if (handles && !overrides) return handles;
  // DYNAMIC_CURRENT_ENV is a Symbol in 4.x while init's typing wants a string.
  const env = overrides?.env ?? (cloud.DYNAMIC_CURRENT_ENV as unknown as string);
  cloud.init({ ...overrides, env } as Parameters<typeof cloud.init>[0]);
  // throwOnNotFound is real (docs/platform-notes.md) but missing from the typings.
  const db = cloud.database({ throwOnNotFound: false } as Parameters<typeof cloud.database>[0]);
  handles = {
    db,
    _: db.command,
    sendSubscribeMessage: (message) =>
      (
        cloud.openapi as { subscribeMessage: { send(m: object): Promise<unknown> } }
      ).subscribeMessage.send(message),
    openid: () => callerContext().openid,
  };
  return handles;
}

/** The node-sdk database under wx-server-sdk's wrapper: the part of it we reach for. */
interface NodeSdkDatabase {
  collection(name: string): {
    where(condition: object): {
      updateAndReturn(
        data: object,
      ): Promise<{ updated?: number; doc?: unknown; code?: string; message?: string }>;
    };
  };
}

/**
 * A conditional update that answers the document as written (`database.modifyAndReturnDoc`):
 * one round trip where a compare-and-set and a read would be two. wx-server-sdk does not expose
 * it, but the node-sdk database it wraps (`_db`) does; the condition must match at most one
 * document (we always pin `_id`). Null when nothing matched.
 */
export async function updateAndReturn(
  db: Database,
  collection: string,
  where: object,
  data: object,
): Promise<unknown> {
  const inner = (db as unknown as { _db?: NodeSdkDatabase })._db;
  if (!inner) throw new Error('this wx-server-sdk has no node-sdk database under it');
  const res = await inner.collection(collection).where(where).updateAndReturn(data);
  if (res.code) {
    const err = new Error(`modifyAndReturnDoc failed: ${res.code} ${res.message ?? ''}`);
    throw Object.assign(err, { errMsg: err.message });
  }
  return (res.updated ?? 0) > 0 ? (res.doc ?? null) : null;
}

/**
 * `POST /admin`: the tcb admin API the unmodified server SDK talks to. node-sdk posts
 * `<URL>?env=..&seqId=..` with `{action, ...params}` (JSON, or multipart for `wx.openApi`) and decodes
 * `{code, message}` as an error, anything else as the result. Each action is one entry of `adminActions`.
 */
import { randomUUID } from 'node:crypto';
import { isPlainObject, parseBoundedJson } from '../database/ejson';
import { databaseActions } from '../database/actions';
import { DbError } from '../database/model';
import { functionActions } from '../functions/actions';
import { dbOpKind } from '../monitor/monitor';
import { storageActions } from '../storage/actions';
import { StorageError } from '../storage/storage';
import { wechatActions } from '../wechat/actions';
import { parseMultipart } from '../wechat/wire';
import { type AdminAction, type AdminContext, type AdminParams, AdminError } from './action';

export { AdminError, type AdminAction, type AdminContext } from './action';

/**
 * Served actions, each service's own. To add one: `adminActions['module.action'] = (params, ctx) => ({ data: ... })`
 * (or in the service's actions.ts); throw AdminError for failures.
 */
export const adminActions: Record<string, AdminAction> = {
  ...databaseActions,
  ...storageActions,
  ...functionActions,
  ...wechatActions,
};

export interface AdminResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

function json(obj: unknown): AdminResponse {
  return {
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body: Buffer.from(JSON.stringify(obj), 'utf8'),
  };
}

function parseParams(body: Buffer, contentType: string): AdminParams {
  if (/^multipart\/form-data/i.test(contentType)) {
    const params: AdminParams = {};
    for (const part of parseMultipart(body, contentType)) {
      params[part.name] = part.name === 'requestData' ? part.data : part.data.toString('utf8');
    }
    return params;
  }
  const parsed = parseBoundedJson(body.toString('utf8'));
  if (!isPlainObject(parsed)) throw new Error('body must be a JSON object');
  return parsed;
}

/** Always HTTP 200 (node-sdk turns other statuses into transport errors); failures are `{code, message}`. */
export async function handleAdmin(
  body: Buffer,
  contentType: string,
  ctx: AdminContext,
): Promise<AdminResponse> {
  const requestId = randomUUID();
  let params: AdminParams;
  try {
    params = parseParams(body, contentType);
  } catch (e) {
    return json({
      code: 'INVALID_PARAM',
      message: `malformed request: ${(e as Error).message}`,
      requestId,
    });
  }
  const action = typeof params.action === 'string' ? params.action : '';
  const handler = adminActions[action];
  if (!handler) {
    return json({
      code: 'INVALID_PARAM',
      message: `action not supported by the local stack: ${action}`,
      requestId,
    });
  }
  const op = dbOpKind(action);
  const started = Date.now();
  const observe = (code: string): void => {
    if (!ctx.monitor || !op) return;
    ctx.monitor.record({
      type: 'db',
      invocationId: ctx.monitor.invocationOfSeqId(ctx.seqId),
      fn: null,
      action,
      op,
      collection: typeof params.collectionName === 'string' ? params.collectionName : '',
      durationMs: Date.now() - started,
      code,
    });
  };
  try {
    const result = await handler(params, ctx);
    observe('OK');
    if ('raw' in result && Buffer.isBuffer(result.raw)) {
      return { status: 200, contentType: String(result.contentType), body: result.raw };
    }
    return json({ ...result, requestId });
  } catch (e) {
    observe(
      e instanceof AdminError || e instanceof DbError || e instanceof StorageError
        ? e.code
        : 'SYS_ERR',
    );
    if (e instanceof AdminError || e instanceof DbError || e instanceof StorageError)
      return json({ code: e.code, message: e.message, requestId });
    ctx.log(`admin ${action} failed: ${(e as Error).stack ?? String(e)}`);
    return json({ code: 'SYS_ERR', message: (e as Error).message, requestId });
  }
}

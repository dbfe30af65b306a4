/**
 * WeChat's admin actions: `wx.openApi` (cloud.openapi.*, getOpenData), answered by openapi.ts once
 * the calling function's `permissions.openapi` allows it, and `wx.wxPayApi` (cloud.cloudPay.*),
 * which the stack does not emulate.
 */
import { type AdminAction, invalid } from '../admin/action';
import { DEFAULT_APPID } from '../functions/pool';
import { answerOpenApi, noPermission, notEmulated } from './openapi';

/** The response content type wx-server-sdk reads as a WeChat answer (any but JSON's exact one). */
const WECHAT_ANSWER = 'application/octet-stream';

const wxOpenApi: AdminAction = (p, ctx) => {
  const apiName = typeof p.apiName === 'string' ? p.apiName : '';
  const raw = p.requestData;
  if (!Buffer.isBuffer(raw)) throw invalid('requestData must be a protobuf buffer');
  // As the cloud: a function may call only the openapi its config.json declares (getOpenData, a
  // svrkit call named `ApiGetOpenDataByCloudId`, needs no declaration). Outside a function: no check.
  const caller = ctx.runtime.callerOf(ctx.seqId);
  if (
    ctx.openApiPermissions &&
    caller &&
    apiName.includes('.') &&
    !caller.openapi.includes(apiName)
  ) {
    ctx.log(
      `${caller.name}: ${apiName} refused (-604101): not in permissions.openapi of its config.json`,
    );
    return { raw: noPermission(), contentType: WECHAT_ANSWER };
  }
  let body: Buffer;
  try {
    const { monitor, seqId } = ctx;
    body = answerOpenApi(apiName, raw, {
      ...ctx,
      appid: DEFAULT_APPID,
      onMessageSent: (params, reply) =>
        monitor?.record({
          type: 'message',
          invocationId: monitor.invocationOfSeqId(seqId),
          fn: null,
          api: apiName,
          touser: typeof params.touser === 'string' ? params.touser : '',
          templateId: typeof params.template_id === 'string' ? params.template_id : '',
          errcode: typeof reply.errcode === 'number' ? reply.errcode : -1,
          errmsg: typeof reply.errmsg === 'string' ? reply.errmsg : '',
        }),
    });
  } catch (e) {
    throw invalid(`cannot decode requestData: ${(e as Error).message}`);
  }
  // wx-server-sdk tells a WeChat answer from a tcb error by the HTTP content type: never send JSON's exact one.
  return { raw: body, contentType: WECHAT_ANSWER };
};

/** cloud.cloudPay.*: the documented 48001 answer (JSON, which the SDK throws as its errcode). */
const wxPayApi: AdminAction = (p) =>
  notEmulated(`cloudPay.${typeof p.apiName === 'string' ? p.apiName : ''}`);

export const wechatActions: Record<string, AdminAction> = {
  'wx.openApi': wxOpenApi,
  'wx.wxPayApi': wxPayApi,
};

/** WeChat's admin action: `wx.openApi` (cloud.openapi.*), answered by openapi.ts. */
import { type AdminAction, invalid } from '../admin/action';
import { answerOpenApi } from './openapi';

const wxOpenApi: AdminAction = (p, ctx) => {
  const apiName = typeof p.apiName === 'string' ? p.apiName : '';
  const raw = p.requestData;
  if (!Buffer.isBuffer(raw)) throw invalid('requestData must be a protobuf buffer');
  let body: Buffer;
  try {
    const { monitor, seqId } = ctx;
    body = answerOpenApi(apiName, raw, {
      ...ctx,
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
  return { raw: body, contentType: 'application/octet-stream' };
};

export const wechatActions: Record<string, AdminAction> = {
  'wx.openApi': wxOpenApi,
};

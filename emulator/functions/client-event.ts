/**
 * What the cloud adds to the event of a call from the mini-program (wx.cloud.callFunction) before the
 * function sees it: `userInfo: {appId, openId}` (WeChat's guide: 从小程序端调用云函数时，event 会被
 * 注入一个 userInfo 对象), replacing any `userInfo` the client sent, since it is the trusted caller; and
 * each top-level CloudID (`wx.cloud.CloudID(id)`, sent as `{cloudID: id}`) replaced by its open data,
 * at most 5 per call. A nested CloudID arrives as its plain id string, as documented.
 */
import { isPlainObject } from '../database/ejson';
import { MAX_CLOUDIDS_PER_CALL, openDataOf } from '../wechat/open-data';

/** A CloudID as the client sends it: an object whose only field is `cloudID`. */
function cloudIdOf(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'cloudID' && typeof value.cloudID === 'string'
    ? value.cloudID
    : undefined;
}

/** Below the top level a CloudID reaches the function as its plain id string (documented). */
function flattenCloudIds(value: unknown): unknown {
  const id = cloudIdOf(value);
  if (id !== undefined) return id;
  if (Array.isArray(value)) return value.map(flattenCloudIds);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = flattenCloudIds(v);
    return out;
  }
  return value;
}

export function clientEvent(event: unknown, caller: { appid: string; openid?: string }): unknown {
  if (!isPlainObject(event)) return event;
  const out: Record<string, unknown> = {};
  let resolved = 0;
  for (const [key, value] of Object.entries(event)) {
    const cloudID = key === 'userInfo' ? undefined : cloudIdOf(value);
    if (cloudID !== undefined && resolved < MAX_CLOUDIDS_PER_CALL) {
      out[key] = openDataOf(cloudID, caller.appid);
      resolved++;
    } else {
      out[key] = key === 'userInfo' ? value : flattenCloudIds(value);
    }
  }
  out.userInfo = { appId: caller.appid, ...(caller.openid ? { openId: caller.openid } : {}) };
  return out;
}

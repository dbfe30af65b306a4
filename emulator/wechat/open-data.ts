/**
 * Open data behind a CloudID (开放数据), faked: the emulator has no WeChat user data, so a CloudID
 * resolves to data that says it is fake, shaped as WeChat documents it (`{cloudID, data: {...,
 * watermark: {appid, timestamp}}}`). A CloudID starting `expired` answers as an expired one does,
 * one that is not a plausible id as an invalid one (README.md, "CloudID and open data").
 */

/** At most this many top-level CloudIDs of one call are replaced (WeChat's documented bound). */
export const MAX_CLOUDIDS_PER_CALL = 5;

const CLOUD_ID = /^[\w-]{1,256}$/;

export type OpenData =
  | { cloudID: string; data: Record<string, unknown> }
  | { cloudID: string; errCode: number; errMsg: string };

/** What a CloudID resolves to for a caller of `appid`. */
export function openDataOf(cloudID: string, appid: string, now = Date.now()): OpenData {
  if (!CLOUD_ID.test(cloudID)) return { cloudID, errCode: -601005, errMsg: 'invalid cloudID' };
  if (cloudID.startsWith('expired'))
    return { cloudID, errCode: -601006, errMsg: 'cloudID expired.' };
  return {
    cloudID,
    data: {
      localStackFake: `local stack fake open data for cloudID ${cloudID}: no real WeChat data`,
      watermark: { appid, timestamp: Math.floor(now / 1000) },
    },
  };
}

/**
 * `wx.openApi` (cloud.openapi.*): wx-server-sdk sends a protobuf `CommApiData` and reads back a `CommOpenApiResp`
 * whose content type decides how it answers (JSON → an object, anything else → `{contentType, buffer}`).
 * subscribeMessage.send is checked as WeChat checks it; security.msgSecCheck, security.imgSecCheck,
 * wxacode.getUnlimited and getOpenData (a svrkit call) are local fakes that say so; every other API
 * is refused with 48001 naming it.
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { SubscriptionService } from './subscribe';
import { parseBoundedJson } from '../database/ejson';
import { openDataOf } from './open-data';
import {
  decodeCommApiData,
  decodeOpenDataRequest,
  encodeCommOpenApiResp,
  encodeOpenDataResponse,
  type OpenApiPair,
} from './wire';

export interface OpenApiContext {
  subscriptions: SubscriptionService;
  log: (line: string) => void;
  /** Told of every subscription-message answer (the stack's monitor records sends). */
  onMessageSent?: (params: Record<string, unknown>, reply: Record<string, unknown>) => void;
}

export type OpenApiReply =
  { json: Record<string, unknown> } | { bytes: Buffer; contentType: string };

type OpenApiHandler = (params: Record<string, unknown>, ctx: OpenApiContext) => OpenApiReply;

/** Text containing this marker is judged risky by the msgSecCheck fake, so both answers can be exercised. */
const RISKY_MARKER = 'local-risky';

const FAKE_TRACE = 'local-stack-fake';

const msgSecCheck: OpenApiHandler = (params, { log }) => {
  const content = params.content;
  if (typeof content !== 'string' || !content) {
    return { json: { errcode: 47001, errmsg: 'data format error: content is required' } };
  }
  const risky = content.includes(RISKY_MARKER);
  log(`security.msgSecCheck (local fake, no real check): ${risky ? 'risky' : 'pass'}`);
  if (params.version === 2 || params.version === '2') {
    const result = { suggest: risky ? 'risky' : 'pass', label: risky ? 20001 : 100 };
    return {
      json: {
        errcode: 0,
        errmsg: 'ok',
        result,
        detail: [{ strategy: 'content_model', errcode: 0, ...result, prob: risky ? 90 : 0 }],
        trace_id: `${FAKE_TRACE}-${randomBytes(6).toString('hex')}`,
      },
    };
  }
  return {
    json: risky ? { errcode: 87014, errmsg: 'risky content' } : { errcode: 0, errmsg: 'ok' },
  };
};

/** An image is judged risky when its bytes contain the marker (e.g. in a PNG text chunk). */
const imgSecCheck: OpenApiHandler = (params, { log }) => {
  const media = params.media;
  if (!isMedia(media) || !media.value.length) {
    return { json: { errcode: 41005, errmsg: 'media data missing' } };
  }
  const risky = media.value.includes(RISKY_MARKER);
  log(`security.imgSecCheck (local fake, no real check): ${risky ? 'risky' : 'pass'}`);
  return {
    json: risky ? { errcode: 87014, errmsg: 'risky content' } : { errcode: 0, errmsg: 'ok' },
  };
};

function isMedia(v: unknown): v is { contentType: string; value: Buffer } {
  return typeof v === 'object' && v !== null && Buffer.isBuffer((v as { value?: unknown }).value);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([head, typed, crc]);
}

/** A real (grey, square) PNG whose text chunk says it is the local stack's stand-in for a mini-program code. */
function fakeCodePng(comment: string, size = 64): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((size + 1) * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // A checkerboard so it is visibly a placeholder.
      raw[y * (size + 1) + 1 + x] = (Math.floor(x / 8) + Math.floor(y / 8)) % 2 ? 0x30 : 0xd0;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('tEXt', Buffer.from(`Comment\u0000${comment}`, 'latin1')),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const getUnlimited: OpenApiHandler = (params, { log }) => {
  const scene = params.scene;
  // WeChat: scene is required, at most 32 visible characters.
  if (typeof scene !== 'string' || !scene || scene.length > 32 || !/^[\x21-\x7e]+$/.test(scene)) {
    return { json: { errcode: 40097, errmsg: 'invalid args: scene' } };
  }
  const page = typeof params.page === 'string' ? params.page : '';
  log(`wxacode.getUnlimited (local fake) scene=${scene}`);
  return {
    bytes: fakeCodePng(`local stack fake wxacode: scene=${scene} page=${page}`),
    contentType: 'image/png',
  };
};

const openApiHandlers: Record<string, OpenApiHandler> = {
  'subscribeMessage.send': (params, { subscriptions, onMessageSent }) => {
    const reply = { ...subscriptions.send(params) };
    onMessageSent?.(params, reply);
    return { json: reply };
  },
  'security.msgSecCheck': msgSecCheck,
  'security.imgSecCheck': imgSecCheck,
  'wxacode.getUnlimited': getUnlimited,
};

/**
 * A parameter's value: JSON, or a media file's bytes. wx-server-sdk means to send a media's content
 * type in the pair, but its protobuf field is spelled `contenttype` while the converter sets
 * `contentType`, so no SDK version sends it: bytes that are not JSON are a file.
 */
function paramOf(pair: OpenApiPair): unknown {
  if (!pair.contentType) {
    try {
      return parseBoundedJson(pair.value.toString('utf8'));
    } catch {
      // not JSON: a file
    }
  }
  return { contentType: pair.contentType ?? '', value: pair.value };
}

/** The 48001 answer WeChat gives an API the caller may not use; here, one the stack does not emulate. */
export function notEmulated(apiName: string): Record<string, unknown> {
  return {
    errcode: 48001,
    errmsg: `api unauthorized: ${apiName} is not emulated by the local stack (emulated: ${Object.keys(openApiHandlers).join(', ')}, getOpenData)`,
  };
}

/** getOpenData: `ApiGetOpenDataByCloudId`, answered with fake open data per CloudID. */
function answerSvrkit(apiName: string, reqData: Buffer, appid: string): Buffer {
  if (apiName !== 'ApiGetOpenDataByCloudId') {
    return encodeCommOpenApiResp(
      Buffer.from(JSON.stringify(notEmulated(apiName))),
      'application/json',
    );
  }
  const items = decodeOpenDataRequest(reqData).map((cloudId) => ({
    cloudId,
    json: JSON.stringify(openDataOf(cloudId, appid)),
  }));
  return encodeCommOpenApiResp(encodeOpenDataResponse(items), 'application/octet-stream');
}

/** Answers one `wx.openApi` request body (`requestData`) as the CommOpenApiResp bytes. */
export function answerOpenApi(
  apiName: string,
  requestData: Buffer,
  ctx: OpenApiContext & { appid: string },
): Buffer {
  const req = decodeCommApiData(requestData);
  if (req.svrkit)
    return answerSvrkit(req.svrkit.apiName, req.svrkit.reqData, req.appid ?? ctx.appid);
  const params: Record<string, unknown> = {};
  for (const [k, v] of req.pairs) params[k] = paramOf(v);
  const handler = openApiHandlers[apiName];
  const reply: OpenApiReply = handler ? handler(params, ctx) : { json: notEmulated(apiName) };
  if ('bytes' in reply) return encodeCommOpenApiResp(reply.bytes, reply.contentType);
  return encodeCommOpenApiResp(Buffer.from(JSON.stringify(reply.json), 'utf8'), 'application/json');
}

/** The cloud's refusal of an openapi call its function's config.json does not declare. */
export function noPermission(): Buffer {
  return encodeCommOpenApiResp(Buffer.alloc(0), '', { errorCode: -604101 });
}

/**
 * Wire helpers for `wx.openApi`: node-sdk posts it as multipart/form-data (form-data package), with
 * `requestData` = a protobuf `CommApiData` built by wx-server-sdk, and expects a protobuf `CommOpenApiResp` back.
 * Field numbers come from wx-server-sdk/index.js (src/protobuf/openapi.js).
 */

export interface MultipartPart {
  name: string;
  data: Buffer;
}

/** Parses multipart/form-data; enough for what form-data produces (no nested multiparts). */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new Error('multipart body without boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) break;
    const next = body.indexOf(delimiter, headerEnd + 4);
    if (next < 0) break;
    const headers = body.subarray(start, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    // The part's data ends right before the CRLF that precedes the next delimiter.
    const data = body.subarray(headerEnd + 4, next - 2);
    if (name !== undefined) parts.push({ name, data: Buffer.from(data) });
    pos = next;
  }
  return parts;
}

interface PbField {
  no: number;
  wire: number;
  varint?: number;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [result, pos];
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

function readFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ no, wire, varint: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2 + len;
      if (pos > buf.length) throw new Error('truncated field');
      out.push({ no, wire, bytes: buf.subarray(p2, pos) });
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** One parameter: JSON bytes, or a media file (wx-server-sdk's `{contentType, value: Buffer}`). */
export interface OpenApiPair {
  value: Buffer;
  /** Set for a media parameter: its bytes are the file, not JSON. */
  contentType?: string;
}

export interface OpenApiRequest {
  appid?: string;
  /** key → the parameter as wx-server-sdk encoded it. */
  pairs: Map<string, OpenApiPair>;
  /** A svrkit call (`CommApiData.svrkitData`): getOpenData's `ApiGetOpenDataByCloudId`. */
  svrkit?: { apiName: string; reqData: Buffer };
}

function decodePair(buf: Buffer): [string, OpenApiPair] | undefined {
  let key: string | undefined;
  const pair: OpenApiPair = { value: Buffer.alloc(0) };
  for (const kv of readFields(buf)) {
    if (kv.no === 1 && kv.bytes) key = kv.bytes.toString('utf8');
    if (kv.no === 2 && kv.bytes) pair.value = Buffer.from(kv.bytes);
    if (kv.no === 3 && kv.bytes) pair.contentType = kv.bytes.toString('utf8');
  }
  return key === undefined ? undefined : [key, pair];
}

/**
 * Decodes `CommApiData { apiType=1; openapiData=2 { pairs=1 { key=1; value=2; contentType=3;
 * filename=4 } }; svrkitData=4 { apiName=1; reqData=2 }; appid=6 }`.
 */
export function decodeCommApiData(buf: Buffer): OpenApiRequest {
  const out: OpenApiRequest = { pairs: new Map() };
  for (const f of readFields(buf)) {
    if (f.no === 2 && f.bytes) {
      for (const pf of readFields(f.bytes)) {
        const pair = pf.no === 1 && pf.bytes ? decodePair(pf.bytes) : undefined;
        if (pair) out.pairs.set(pair[0], pair[1]);
      }
    } else if (f.no === 4 && f.bytes) {
      let apiName = '';
      let reqData = Buffer.alloc(0);
      for (const sf of readFields(f.bytes)) {
        if (sf.no === 1 && sf.bytes) apiName = sf.bytes.toString('utf8');
        if (sf.no === 2 && sf.bytes) reqData = Buffer.from(sf.bytes);
      }
      out.svrkit = { apiName, reqData };
    } else if (f.no === 6 && f.bytes) {
      out.appid = f.bytes.toString('utf8');
    }
  }
  return out;
}

/** `ApiGetOpenDataByCloudIdReq { cloudidList=2 (repeated); appid=3 }`: the cloudIDs asked for. */
export function decodeOpenDataRequest(buf: Buffer): string[] {
  return readFields(buf)
    .filter((f) => f.no === 2 && f.bytes)
    .map((f) => f.bytes!.toString('utf8'));
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function lenField(no: number, data: Buffer): Buffer {
  return Buffer.concat([varint(no * 8 + 2), varint(data.length), data]);
}

/** An int32 as protobuf writes it: a negative one as its 64-bit two's complement (10 bytes). */
function int32(n: number): Buffer {
  if (n >= 0) return varint(n);
  let v = BigInt.asUintN(64, BigInt(n));
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

/**
 * Encodes `CommOpenApiResp { respData=1; contentType=2; errorCode=3; httpCode=4; svrkitErrorCode=6 }`.
 * A non-zero `errorCode` is the cloud's own refusal (e.g. -604101 no permission), read before respData.
 */
export function encodeCommOpenApiResp(
  respData: Buffer,
  contentType: string,
  opts: { httpCode?: number; errorCode?: number } = {},
): Buffer {
  const parts = [
    lenField(1, respData),
    lenField(2, Buffer.from(contentType, 'utf8')),
    varint(4 * 8),
    varint(opts.httpCode ?? 200),
  ];
  if (opts.errorCode) parts.push(varint(3 * 8), int32(opts.errorCode));
  return Buffer.concat(parts);
}

/** `ApiGetOpenDataByCloudIdResp { dataList=1 (repeated) { cloudId=1; json=2 } }`. */
export function encodeOpenDataResponse(items: { cloudId: string; json: string }[]): Buffer {
  return Buffer.concat(
    items.map((item) =>
      lenField(
        1,
        Buffer.concat([
          lenField(1, Buffer.from(item.cloudId, 'utf8')),
          lenField(2, Buffer.from(item.json, 'utf8')),
        ]),
      ),
    ),
  );
}

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

export interface OpenApiRequest {
  appid?: string;
  /** key → raw JSON bytes as wx-server-sdk encoded each parameter. */
  pairs: Map<string, Buffer>;
}

/** Decodes `CommApiData { apiType=1; openapiData=2 { pairs=1 { key=1; value=2 } }; appid=6 }`. */
export function decodeCommApiData(buf: Buffer): OpenApiRequest {
  const pairs = new Map<string, Buffer>();
  let appid: string | undefined;
  for (const f of readFields(buf)) {
    if (f.no === 2 && f.bytes) {
      for (const pf of readFields(f.bytes)) {
        if (pf.no !== 1 || !pf.bytes) continue;
        let key: string | undefined;
        let value = Buffer.alloc(0);
        for (const kv of readFields(pf.bytes)) {
          if (kv.no === 1 && kv.bytes) key = kv.bytes.toString('utf8');
          if (kv.no === 2 && kv.bytes) value = Buffer.from(kv.bytes);
        }
        if (key !== undefined) pairs.set(key, value);
      }
    } else if (f.no === 6 && f.bytes) {
      appid = f.bytes.toString('utf8');
    }
  }
  return appid ? { appid, pairs } : { pairs };
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

/** Encodes `CommOpenApiResp { respData=1; contentType=2; errorCode=3; httpCode=4 }`. */
export function encodeCommOpenApiResp(
  respData: Buffer,
  contentType: string,
  httpCode = 200,
): Buffer {
  return Buffer.concat([
    lenField(1, respData),
    lenField(2, Buffer.from(contentType, 'utf8')),
    varint(4 * 8),
    varint(httpCode),
  ]);
}

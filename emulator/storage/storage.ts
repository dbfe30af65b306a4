/**
 * Cloud storage (云存储): files under `<dataDir>/storage/files/<cloudPath>`, ids `cloud://<env>.<bucket>/<cloudPath>`.
 * node-sdk's uploadFile asks `storage.getUploadMetadata` for a URL and PUTs the bytes there with the answered
 * `authorization`; getTempFileURL asks `storage.batchGetDownloadUrl` for signed, expiring URLs that this server
 * really serves (downloadFile fetches one); deleteFile is `storage.batchDeleteFile`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { isPlainObject } from '../database/ejson';

export const STORAGE_ROUTE = '/_storage/';
/** The bucket part of local file ids. */
const LOCAL_BUCKET = 'local-stack-bucket';
/** Seconds a temp URL lives when the caller gives no maxAge (the cloud's default; unverified, see README). */
const DEFAULT_MAX_AGE_S = 86_400;
const UPLOAD_TTL_MS = 10 * 60 * 1000;
const UPLOAD_LIMIT = 100 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.pdf': 'application/pdf',
};

/** An error the SDK receives as `{code, message}`. */
export class StorageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DownloadEntry {
  fileID: string;
  code: string;
  tempFileURL?: string;
  maxAge?: number;
  message?: string;
}

function cosError(res: ServerResponse, status: number, code: string, message: string): void {
  const id = randomBytes(12).toString('hex');
  const body = `<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <Resource>local</Resource>\n  <RequestId>${id}</RequestId>\n  <TraceId>${id}</TraceId>\n</Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A cloud path as the cloud accepts it: relative, no `.`/`..` segments, no empty segments. */
function checkCloudPath(p: unknown): string {
  if (typeof p !== 'string' || !p || p.length > 850)
    throw new StorageError('INVALID_PARAM', 'cloudPath must be a non-empty string');
  const segments = p.split('/');
  if (
    p.startsWith('/') ||
    segments.some((s) => s === '' || s === '.' || s === '..') ||
    p.includes('\\')
  )
    throw new StorageError('INVALID_PARAM', `invalid cloudPath: ${p}`);
  return p;
}

export class StorageService {
  private readonly filesDir: string;
  private readonly secret: Buffer;
  private readonly uploads = new Map<string, { path: string; expires: number }>();
  private baseUrl = '';

  constructor(
    dir: string,
    private readonly envId: string,
    private readonly log: (line: string) => void,
  ) {
    this.filesDir = path.join(dir, 'files');
    fs.mkdirSync(this.filesDir, { recursive: true });
    // Persisted so temp URLs stay valid across restarts until they expire, as in the cloud.
    const secretFile = path.join(dir, 'url-secret');
    try {
      this.secret = fs.readFileSync(secretFile);
      if (this.secret.length < 16) throw new Error('short');
    } catch {
      this.secret = randomBytes(32);
      fs.writeFileSync(secretFile, this.secret, { mode: 0o600 });
    }
  }

  /** The server's own URL, known once it listens. */
  setBaseUrl(url: string): void {
    this.baseUrl = url;
  }

  fileId(cloudPath: string): string {
    return `cloud://${this.envId}.${LOCAL_BUCKET}/${cloudPath}`;
  }

  /** `cloud://<env>.<bucket>/<path>` → path, for this stack's bucket; undefined for anything else. */
  pathOf(fileId: unknown): string | undefined {
    if (typeof fileId !== 'string') return undefined;
    const m = /^cloud:\/\/([^/.]+)\.([^/]+)\/(.+)$/.exec(fileId);
    if (!m || m[1] !== this.envId || m[2] !== LOCAL_BUCKET) return undefined;
    try {
      return checkCloudPath(m[3]);
    } catch {
      return undefined;
    }
  }

  private file(cloudPath: string): string {
    return path.join(this.filesDir, ...cloudPath.split('/'));
  }

  exists(cloudPath: string): boolean {
    try {
      return fs.statSync(this.file(cloudPath)).isFile();
    } catch {
      return false;
    }
  }

  private sign(cloudPath: string, expires: number): string {
    return createHmac('sha256', this.secret)
      .update(`${cloudPath}\n${expires}`)
      .digest('hex')
      .slice(0, 32);
  }

  private urlPath(kind: 'upload' | 'files', cloudPath: string): string {
    return `${this.baseUrl}${STORAGE_ROUTE}${kind}/${cloudPath.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** `storage.getUploadMetadata`. */
  uploadMetadata(cloudPathRaw: unknown): Record<string, string> {
    const cloudPath = checkCloudPath(cloudPathRaw);
    const token = randomBytes(16).toString('hex');
    this.uploads.set(token, { path: cloudPath, expires: Date.now() + UPLOAD_TTL_MS });
    for (const [t, u] of this.uploads) if (u.expires < Date.now()) this.uploads.delete(t);
    const fileId = this.fileId(cloudPath);
    return {
      url: this.urlPath('upload', cloudPath),
      token,
      authorization: `local-upload ${token}`,
      fileId,
      cosFileId: token,
      download_url: this.urlPath('files', cloudPath),
    };
  }

  /** `storage.batchGetDownloadUrl`: one entry per file, in order. */
  downloadUrls(list: unknown): DownloadEntry[] {
    if (!Array.isArray(list)) throw new StorageError('INVALID_PARAM', 'file_list must be an array');
    return list.map((item) => {
      const fileID = isPlainObject(item) ? item.fileid : undefined;
      const maxAgeRaw = isPlainObject(item) ? Number(item.max_age) : NaN;
      const maxAge =
        Number.isFinite(maxAgeRaw) && maxAgeRaw > 0 ? Math.floor(maxAgeRaw) : DEFAULT_MAX_AGE_S;
      const cloudPath = this.pathOf(fileID);
      if (!cloudPath || !this.exists(cloudPath)) {
        return {
          fileID: String(fileID),
          code: 'STORAGE_FILE_NONEXIST',
          message: 'file not exist',
          tempFileURL: '',
        };
      }
      const expires = Math.floor(Date.now() / 1000) + maxAge;
      // Unencoded, like the cloud's: node-sdk's downloadFile (and callers) run encodeURI over it.
      const tempFileURL = `${this.baseUrl}${STORAGE_ROUTE}files/${cloudPath}?sign=${this.sign(cloudPath, expires)}&t=${expires}`;
      return { fileID: String(fileID), code: 'SUCCESS', tempFileURL, maxAge };
    });
  }

  /** `storage.batchDeleteFile`. */
  delete(list: unknown): { fileID: string; code: string; message?: string }[] {
    if (!Array.isArray(list))
      throw new StorageError('INVALID_PARAM', 'fileid_list must be an array');
    return list.map((fileID) => {
      const cloudPath = this.pathOf(fileID);
      if (!cloudPath || !this.exists(cloudPath))
        return { fileID: String(fileID), code: 'STORAGE_FILE_NONEXIST', message: 'file not exist' };
      fs.unlinkSync(this.file(cloudPath));
      this.log(`storage: deleted ${cloudPath}`);
      return { fileID: String(fileID), code: 'SUCCESS' };
    });
  }

  /** `PUT /_storage/upload/<path>` (the upload URL) and `GET|HEAD /_storage/files/<path>?sign&t` (temp URLs). */
  async handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const rest = url.pathname.slice(STORAGE_ROUTE.length);
    const slash = rest.indexOf('/');
    const kind = slash > 0 ? rest.slice(0, slash) : rest;
    let cloudPath: string;
    try {
      cloudPath = checkCloudPath(decodeURIComponent(rest.slice(slash + 1)));
    } catch {
      return cosError(res, 400, 'InvalidURI', 'invalid object key');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (kind === 'upload' && (method === 'PUT' || method === 'POST')) {
      const auth = String(req.headers.authorization ?? '');
      const token = auth.startsWith('local-upload ') ? auth.slice('local-upload '.length) : '';
      const grant = this.uploads.get(token);
      if (!grant || grant.path !== cloudPath || grant.expires < Date.now()) {
        req.resume();
        return cosError(
          res,
          403,
          'AccessDenied',
          'upload authorization is missing, expired or for another path',
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > UPLOAD_LIMIT) return cosError(res, 400, 'EntityTooLarge', 'file too large');
        chunks.push(c);
      }
      this.uploads.delete(token);
      const target = this.file(cloudPath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat(chunks));
      fs.renameSync(tmp, target);
      this.log(`storage: uploaded ${cloudPath} (${size} bytes)`);
      res.writeHead(200, { 'content-length': 0, etag: `"${token}"` });
      res.end();
      return;
    }
    if (kind === 'files' && (method === 'GET' || method === 'HEAD')) {
      const t = Number(url.searchParams.get('t'));
      const sign = url.searchParams.get('sign') ?? '';
      const want = Number.isFinite(t) ? this.sign(cloudPath, t) : '';
      const valid =
        want.length === sign.length &&
        sign.length > 0 &&
        timingSafeEqual(Buffer.from(want), Buffer.from(sign));
      if (!valid) return cosError(res, 403, 'AccessDenied', 'Access Denied.');
      if (t < Date.now() / 1000) return cosError(res, 403, 'AccessDenied', 'Request has expired');
      if (!this.exists(cloudPath))
        return cosError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      const body = fs.readFileSync(this.file(cloudPath));
      res.writeHead(200, {
        'content-type': MIME[path.extname(cloudPath).toLowerCase()] ?? 'application/octet-stream',
        'content-length': body.length,
      });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    req.resume();
    cosError(
      res,
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
    );
  }
}

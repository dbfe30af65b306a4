/** Contract: wx-server-sdk's uploadFile / getTempFileURL / downloadFile / deleteFile against the emulator. */
import * as cloud from 'wx-server-sdk';
import { sdkInitOptions } from '../client';
import type { LocalStack } from '..';
import { removeDir, startFixtureStack, tempDataDir } from '../testing';

jest.setTimeout(20_000);

interface Storage {
  uploadFile(o: {
    cloudPath: string;
    fileContent: Buffer;
  }): Promise<{ fileID: string; statusCode: number }>;
  getTempFileURL(o: { fileList: (string | { fileID: string; maxAge: number })[] }): Promise<{
    fileList: { fileID: string; status: number; tempFileURL: string; maxAge?: number }[];
  }>;
  downloadFile(o: { fileID: string }): Promise<{ fileContent: Buffer; statusCode: number }>;
  deleteFile(o: {
    fileList: string[];
  }): Promise<{ fileList: { fileID: string; status: number }[] }>;
}

let stack: LocalStack;
let dataDir: string;
const storage = cloud as unknown as Storage;
const bytes = Buffer.from([0, 1, 2, 250, 255, 0x89, 0x50, 0x4e, 0x47, 10, 13]);

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir });
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

describe('cloud storage', () => {
  it('uploads, serves the bytes at a temp URL, downloads and deletes', async () => {
    const up = await storage.uploadFile({ cloudPath: 'avatars/u1/头像.png', fileContent: bytes });
    expect(up.fileID).toBe('cloud://local.local-stack-bucket/avatars/u1/头像.png');

    const urls = await storage.getTempFileURL({ fileList: [{ fileID: up.fileID, maxAge: 120 }] });
    const entry = urls.fileList[0];
    expect(entry).toMatchObject({ fileID: up.fileID, status: 0, maxAge: 120 });
    const got = await fetch(encodeURI(entry?.tempFileURL ?? ''));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);

    const down = await storage.downloadFile({ fileID: up.fileID });
    expect(down.statusCode).toBe(200);
    expect(Buffer.from(down.fileContent)).toEqual(bytes);

    const del = await storage.deleteFile({
      fileList: [up.fileID, 'cloud://local.local-stack-bucket/nope'],
    });
    expect(del.fileList).toEqual([
      { fileID: up.fileID, status: 0, errMsg: 'ok' },
      expect.objectContaining({ fileID: 'cloud://local.local-stack-bucket/nope', status: -503003 }),
    ]);
    const after = await fetch(encodeURI(entry?.tempFileURL ?? ''));
    expect(after.status).toBe(404);
  });

  it('a missing file has status -503003 in getTempFileURL and fails downloadFile', async () => {
    const urls = await storage.getTempFileURL({
      fileList: ['cloud://local.local-stack-bucket/missing.txt'],
    });
    expect(urls.fileList[0]).toMatchObject({ status: -503003, tempFileURL: '' });
    await expect(
      storage.downloadFile({ fileID: 'cloud://local.local-stack-bucket/missing.txt' }),
    ).rejects.toBeDefined();
  });

  it('temp URLs are signed and expire', async () => {
    const up = await storage.uploadFile({ cloudPath: 'a.txt', fileContent: Buffer.from('hi') });
    const { fileList } = await storage.getTempFileURL({
      fileList: [{ fileID: up.fileID, maxAge: 1 }],
    });
    const url = new URL(fileList[0]?.tempFileURL ?? '');
    url.searchParams.set('sign', '0'.repeat(32));
    expect((await fetch(url)).status).toBe(403);
    const expired = new URL(fileList[0]?.tempFileURL ?? '');
    expired.searchParams.set('t', String(Math.floor(Date.now() / 1000) - 10));
    // A changed expiry breaks the signature too.
    expect((await fetch(expired)).status).toBe(403);
    expect((await fetch(fileList[0]?.tempFileURL ?? '')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await fetch(fileList[0]?.tempFileURL ?? '');
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');
  });

  it('refuses an upload without the authorization getUploadMetadata answered, and bad paths', async () => {
    const res = await fetch(`${stack.url}/_storage/upload/x.txt`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    await expect(
      storage.uploadFile({ cloudPath: '../escape.txt', fileContent: Buffer.from('x') }),
    ).rejects.toMatchObject({ errCode: expect.any(Number) });
  });
});

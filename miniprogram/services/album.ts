/**
 * 保存视频 / 保存封面: the album permission, the download, the save, and what to tell the user
 * when one of them fails. Call `saveToAlbum` from the tap: the permission prompt (the first time)
 * comes right after the tap, before a download that may take a while.
 *
 * The file's host must be a downloadFile domain of the mini-program (docs/operations.md lists
 * each platform's); a host that is not fails at once with "url not in domain list", which is
 * said as such, with the way around it (copy the link; long-press the opened cover).
 */
import { errText } from './types';

export type SaveKind = 'video' | 'cover';

export type SaveFailure =
  /** the album permission was refused (now or before): only the settings page can undo it */
  | 'denied'
  /** the file's host is not a downloadFile domain of the mini-program */
  | 'domain'
  /** the platform no longer serves the link (its signature expired) */
  | 'expired'
  /** the platform serves its files to its own pages only (it checks the Referer, which
   * wx.downloadFile cannot set): Bilibili's video CDN */
  | 'refused'
  | 'too_big'
  /** the album refused the file (not an MP4, or an image format it cannot take) */
  | 'format'
  /** the user cancelled the system's save sheet */
  | 'cancelled'
  | 'network';

export type SaveOutcome = { ok: true } | { ok: false; reason: SaveFailure; message: string };

export const ALBUM_SCOPE = 'scope.writePhotosAlbum';
/** wx.downloadFile takes at most 200 MB per file. */
const MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024;

const WHAT: Record<SaveKind, string> = { video: '视频', cover: '封面' };

/** The way around a failure the mini-program cannot fix, per kind. */
const INSTEAD: Record<SaveKind, string> = {
  video: '可以先复制链接，到浏览器里下载',
  cover: '可以点开封面，长按图片保存',
};

export function failureMessage(kind: SaveKind, reason: SaveFailure, host = ''): string {
  switch (reason) {
    case 'denied':
      return `没有相册权限，${WHAT[kind]}存不进相册。点「去设置」打开「添加到相册」后会接着保存`;
    case 'domain':
      return `${WHAT[kind]}所在的网站${host ? `（${host}）` : ''}还没加入小程序的下载名单，暂时存不了；${INSTEAD[kind]}`;
    case 'expired':
      return `${WHAT[kind]}链接已失效（平台的链接一般 1 小时左右过期），重新提取这个视频会拿到新链接`;
    case 'refused':
      return `这个平台只让自己的网页下载${WHAT[kind]}，小程序存不了；${INSTEAD[kind]}`;
    case 'too_big':
      return `视频超过 200MB，小程序存不了；${INSTEAD.video}`;
    case 'format':
      return kind === 'video'
        ? `相册只收 MP4 视频，这个视频存不进去；${INSTEAD.video}`
        : `相册不收这种格式的图片；${INSTEAD.cover}`;
    case 'cancelled':
      return '已取消保存';
    case 'network':
      return `${WHAT[kind]}没有下载完，请检查网络后再试`;
  }
}

/** The host of a link, for the message (the link itself is never shown whole). */
export function hostOf(url: string): string {
  const m = /^[a-z]+:\/\/([^/?#]+)/i.exec(url);
  return m?.[1]?.toLowerCase() ?? '';
}

/**
 * Hosts that answer 403 to any Referer but their own site's (public downloaders send
 * `Referer: https://www.bilibili.com` for these); WeChat sends its fixed servicewechat.com
 * Referer and lets no one change it. A 403 from them is a refusal, not an expired link.
 */
const REFERER_CHECKED = /(^|\.)bilivideo\.(com|cn)$|(^|\.)akamaized\.net$/;

/** wx.downloadFile speaks https only; platforms still hand out some http links to https hosts. */
export function secureUrl(url: string): string {
  return url.replace(/^http:\/\//i, 'https://');
}

// ---------------------------------------------------------------------------------------------
// The permission

type Permission = 'granted' | 'denied';

function albumSetting(): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    wx.getSetting({
      success: (res) => resolve(res.authSetting[ALBUM_SCOPE]),
      fail: () => resolve(undefined),
    });
  });
}

/**
 * Granted already, or asked now. A refusal is remembered by WeChat: `wx.authorize` then fails at
 * once without asking, and only the settings page (`open-type="openSetting"`) can change it.
 */
async function ensureAlbumPermission(): Promise<Permission> {
  const setting = await albumSetting();
  if (setting === true) return 'granted';
  if (setting === false) return 'denied';
  return new Promise((resolve) => {
    wx.authorize({
      scope: ALBUM_SCOPE,
      success: () => resolve('granted'),
      fail: (err) => {
        console.warn('[album] permission refused', errText(err));
        resolve('denied');
      },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Download and save

type Step<T> = { ok: true; value: T } | { ok: false; reason: SaveFailure };

const errMsgOf = (err: unknown) => errText(err).toLowerCase();

function download(
  kind: SaveKind,
  url: string,
  onProgress: (percent: number) => void,
): Promise<Step<string>> {
  return new Promise((resolve) => {
    // A video keeps an .mp4 name in the user folder (the album takes MP4 only, and a temporary
    // file is named after the response's type); a cover keeps the temporary file's own type.
    const filePath = kind === 'video' ? `${wx.env.USER_DATA_PATH}/save-video.mp4` : undefined;
    let tooBig = false;
    const task = wx.downloadFile({
      url: secureUrl(url),
      ...(filePath ? { filePath } : {}),
      success: (res) => {
        if (res.statusCode === 200) resolve({ ok: true, value: filePath ?? res.tempFilePath });
        else {
          console.warn('[album] download answered', res.statusCode, hostOf(url));
          // 403/404/410: the platform's signed link expired (or the file is gone), unless the
          // host refuses every foreign Referer.
          const client = res.statusCode >= 400 && res.statusCode < 500;
          const refused = res.statusCode === 403 && REFERER_CHECKED.test(hostOf(url));
          resolve({ ok: false, reason: refused ? 'refused' : client ? 'expired' : 'network' });
        }
      },
      fail: (err) => {
        const msg = errMsgOf(err);
        console.warn('[album] download failed', hostOf(url), errText(err));
        if (tooBig || msg.includes('exceed')) resolve({ ok: false, reason: 'too_big' });
        else if (msg.includes('domain list')) resolve({ ok: false, reason: 'domain' });
        else resolve({ ok: false, reason: 'network' });
      },
    });
    task?.onProgressUpdate?.((p) => {
      if (p.totalBytesExpectedToWrite > MAX_DOWNLOAD_BYTES && !tooBig) {
        tooBig = true;
        task.abort();
        return;
      }
      onProgress(Math.max(0, Math.min(100, Math.round(p.progress))));
    });
  });
}

function saveFile(kind: SaveKind, filePath: string): Promise<Step<null>> {
  return new Promise((resolve) => {
    const done = {
      success: () => resolve({ ok: true, value: null }),
      fail: (err: unknown) => {
        const msg = errMsgOf(err);
        console.warn('[album] save failed', errText(err));
        if (msg.includes('auth') || msg.includes('authorize'))
          resolve({ ok: false, reason: 'denied' });
        else if (msg.includes('cancel')) resolve({ ok: false, reason: 'cancelled' });
        else if (msg.includes('invalid') || msg.includes('format') || msg.includes('support'))
          resolve({ ok: false, reason: 'format' });
        else resolve({ ok: false, reason: 'network' });
      },
    };
    if (kind === 'video') wx.saveVideoToPhotosAlbum({ filePath, ...done });
    else wx.saveImageToPhotosAlbum({ filePath, ...done });
  });
}

function removeFile(filePath: string): void {
  try {
    wx.getFileSystemManager().unlink({ filePath, fail: () => undefined });
  } catch {
    // best effort: the user folder is the app's own and small files are harmless
  }
}

/**
 * Saves the file behind `url` to the album: permission, download (progress in percent), save.
 * Never throws; every failure comes back with what to tell the user.
 */
export async function saveToAlbum(
  kind: SaveKind,
  url: string,
  onProgress: (percent: number) => void = () => undefined,
): Promise<SaveOutcome> {
  const fail = (reason: SaveFailure): SaveOutcome => ({
    ok: false,
    reason,
    message: failureMessage(kind, reason, hostOf(secureUrl(url))),
  });
  if ((await ensureAlbumPermission()) === 'denied') return fail('denied');
  const file = await download(kind, url, onProgress);
  if (!file.ok) return fail(file.reason);
  const saved = await saveFile(kind, file.value);
  if (kind === 'video') removeFile(file.value);
  return saved.ok ? { ok: true } : fail(saved.reason);
}

/** Opens the cover full size (WeChat's viewer, whose long-press menu can also save it). */
export function previewCover(url: string): void {
  const full = secureUrl(url);
  wx.previewImage({ urls: [full], current: full });
}

/**
 * Shared setup of the mini-program tests: miniprogram-simulate (global `Component`, a mock `wx`)
 * plus jest mocks of the wx APIs the pages use, reset before each test. Import it first in every
 * test file (or list it in the jest project's `setupFilesAfterEnv`).
 */
import 'miniprogram-simulate';

type Callbacks = {
  success?: (res: object) => void;
  fail?: (err: object) => void;
  complete?: () => void;
};

/** Answers a wx-style callback API asynchronously, like WeChat does. */
export function respond(opts: Callbacks | undefined, res: object, ok = true): void {
  setTimeout(() => {
    if (ok) opts?.success?.(res);
    else opts?.fail?.(res);
    opts?.complete?.();
  }, 0);
}

export interface WxMocks {
  requestSubscribeMessage: jest.Mock;
  getClipboardData: jest.Mock;
  setClipboardData: jest.Mock;
  showToast: jest.Mock;
  showModal: jest.Mock;
  navigateTo: jest.Mock;
  switchTab: jest.Mock;
  stopPullDownRefresh: jest.Mock;
  openPrivacyContract: jest.Mock;
  onNeedPrivacyAuthorization: jest.Mock;
  getPrivacySetting: jest.Mock;
  showActionSheet: jest.Mock;
  getStorageSync: jest.Mock;
  setStorageSync: jest.Mock;
  removeStorageSync: jest.Mock;
  /** what setStorageSync stored */
  storage: Map<string, unknown>;
  getSetting: jest.Mock;
  authorize: jest.Mock;
  downloadFile: jest.Mock;
  saveVideoToPhotosAlbum: jest.Mock;
  saveImageToPhotosAlbum: jest.Mock;
  previewImage: jest.Mock;
  getFileSystemManager: jest.Mock;
  /** the album: what saveVideoToPhotosAlbum / saveImageToPhotosAlbum received */
  album: string[];
  /** files the page removed from its user folder */
  unlinked: string[];
}

/** A download that answers `statusCode` after reporting progress 50 and 100. */
export function downloadAnswering(statusCode = 200, totalBytes = 1024) {
  return (o: {
    url: string;
    filePath?: string;
    success?: (r: object) => void;
    fail?: (e: object) => void;
  }) => {
    const listeners: ((p: object) => void)[] = [];
    let aborted = false;
    setTimeout(() => {
      for (const progress of [50, 100]) {
        if (aborted) break;
        for (const l of listeners)
          l({
            progress,
            totalBytesWritten: (totalBytes * progress) / 100,
            totalBytesExpectedToWrite: totalBytes,
          });
      }
      if (aborted) o.fail?.({ errMsg: 'downloadFile:fail abort' });
      else
        o.success?.({
          statusCode,
          tempFilePath: 'wxfile://tmp/download.jpg',
          filePath: o.filePath,
          errMsg: 'downloadFile:ok',
        });
    }, 5);
    return {
      onProgressUpdate: (l: (p: object) => void) => listeners.push(l),
      abort: () => {
        aborted = true;
      },
    };
  };
}

const wxGlobal = (globalThis as unknown as { wx: Record<string, unknown> }).wx;

/** Fresh mocks for the APIs the pages call; each test may replace any of them. */
export function installWxMocks(): WxMocks {
  const storage = new Map<string, unknown>();
  const album: string[] = [];
  const unlinked: string[] = [];
  const mocks: WxMocks = {
    requestSubscribeMessage: jest.fn((o: Callbacks) =>
      respond(o, { errMsg: 'requestSubscribeMessage:ok' }),
    ),
    getClipboardData: jest.fn((o: Callbacks) =>
      respond(o, { data: '', errMsg: 'getClipboardData:ok' }),
    ),
    setClipboardData: jest.fn((o: Callbacks) => respond(o, { errMsg: 'setClipboardData:ok' })),
    showToast: jest.fn(),
    showModal: jest.fn((o: Callbacks) => respond(o, { confirm: true, cancel: false })),
    navigateTo: jest.fn(),
    switchTab: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    openPrivacyContract: jest.fn(),
    onNeedPrivacyAuthorization: jest.fn(),
    // Not agreed yet by default: the page must not read the clipboard on its own then.
    getPrivacySetting: jest.fn((o: Callbacks) =>
      respond(o, { needAuthorization: true, privacyContractName: '《用户隐私保护指引》' }),
    ),
    // The first item unless a test says otherwise.
    showActionSheet: jest.fn((o: Callbacks) => respond(o, { tapIndex: 0 })),
    getStorageSync: jest.fn((key: string) => (storage.has(key) ? storage.get(key) : '')),
    setStorageSync: jest.fn((key: string, value: unknown) => {
      storage.set(key, value);
    }),
    removeStorageSync: jest.fn((key: string) => {
      storage.delete(key);
    }),
    storage,
    // The album permission was never asked: wx.authorize prompts, and the user allows.
    getSetting: jest.fn((o: Callbacks) => respond(o, { authSetting: {} })),
    authorize: jest.fn((o: Callbacks) => respond(o, { errMsg: 'authorize:ok' })),
    downloadFile: jest.fn(downloadAnswering(200)),
    saveVideoToPhotosAlbum: jest.fn((o: Callbacks & { filePath: string }) => {
      album.push(o.filePath);
      respond(o, { errMsg: 'saveVideoToPhotosAlbum:ok' });
    }),
    saveImageToPhotosAlbum: jest.fn((o: Callbacks & { filePath: string }) => {
      album.push(o.filePath);
      respond(o, { errMsg: 'saveImageToPhotosAlbum:ok' });
    }),
    previewImage: jest.fn(),
    getFileSystemManager: jest.fn(() => ({
      unlink: (o: { filePath: string }) => unlinked.push(o.filePath),
    })),
    album,
    unlinked,
  };
  Object.assign(wxGlobal, mocks, { env: { USER_DATA_PATH: 'wxfile://usr' } });
  // The services log recoverable failures with console.warn; tests provoke plenty of them.
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  return mocks;
}

export function setWx(patch: Record<string, unknown>): void {
  Object.assign(wxGlobal, patch);
}

/** Lets pending timers (up to `ms`) and promise callbacks run. */
export async function settle(ms = 50): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

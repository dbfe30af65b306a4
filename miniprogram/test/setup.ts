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
  stopPullDownRefresh: jest.Mock;
  openPrivacyContract: jest.Mock;
  onNeedPrivacyAuthorization: jest.Mock;
  getPrivacySetting: jest.Mock;
  showActionSheet: jest.Mock;
  getStorageSync: jest.Mock;
  setStorageSync: jest.Mock;
  /** what setStorageSync stored */
  storage: Map<string, unknown>;
}

const wxGlobal = (globalThis as unknown as { wx: Record<string, unknown> }).wx;

/** Fresh mocks for the APIs the pages call; each test may replace any of them. */
export function installWxMocks(): WxMocks {
  const storage = new Map<string, unknown>();
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
    storage,
  };
  Object.assign(wxGlobal, mocks);
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

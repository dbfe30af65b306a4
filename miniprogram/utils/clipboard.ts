/**
 * Clipboard access. Both calls are privacy APIs (declared as 剪切板 in the privacy guide); when
 * the user has not agreed, they fail and the privacy popup explains why.
 */
import { PLATFORM_LABELS, parseShareText } from '../domain';
import { errText } from '../services/types';

/** Storage key of the last clipboard link offered, so one link is offered once. */
const OFFERED_KEY = 'clipboard.offeredLink';

/** The clipboard text, or null when it could not be read (refused, empty, not supported). */
export function readClipboard(): Promise<string | null> {
  return new Promise((resolve) => {
    wx.getClipboardData({
      success: (res) => resolve(typeof res.data === 'string' ? res.data : null),
      fail: (err) => {
        console.warn('[clipboard] read failed', errText(err));
        resolve(null);
      },
    });
  });
}

export function copyText(text: string, toast: string): Promise<boolean> {
  return new Promise((resolve) => {
    wx.setClipboardData({
      data: text,
      success: () => {
        wx.showToast({ title: toast, icon: 'success' });
        resolve(true);
      },
      fail: (err) => {
        console.warn('[clipboard] write failed', errText(err));
        wx.showToast({ title: '复制失败，请长按文字手动复制', icon: 'none' });
        resolve(false);
      },
    });
  });
}

/** A supported link found on the clipboard, offered to the user on show. */
export interface ClipboardOffer {
  /** the whole clipboard text (what gets filled in) */
  text: string;
  /** e.g. 抖音 */
  platformLabel: string;
  url: string;
}

/** True only when reading the clipboard will not stop for the privacy sheet. */
function privacyAlreadyAgreed(): Promise<boolean> {
  return new Promise((resolve) => {
    if (typeof wx.getPrivacySetting !== 'function') {
      resolve(false);
      return;
    }
    wx.getPrivacySetting({
      success: (res) => resolve(res.needAuthorization === false),
      fail: () => resolve(false),
    });
  });
}

function lastOffered(): string {
  try {
    const v: unknown = wx.getStorageSync(OFFERED_KEY);
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

/**
 * A link on the clipboard worth offering: supported, and not offered before. Reads the clipboard
 * only when the user already agreed to the privacy guide (which declares it), so showing the
 * page never raises the privacy sheet by itself. Marks the link as offered.
 */
export async function clipboardOffer(): Promise<ClipboardOffer | null> {
  if (!(await privacyAlreadyAgreed())) return null;
  const text = (await readClipboard())?.trim() ?? '';
  if (text === '') return null;
  const parsed = parseShareText(text);
  if (!parsed.ok || parsed.url === lastOffered()) return null;
  try {
    wx.setStorageSync(OFFERED_KEY, parsed.url);
  } catch (err) {
    console.warn('[clipboard] could not note the offered link', errText(err));
  }
  return { text, platformLabel: PLATFORM_LABELS[parsed.platform], url: parsed.url };
}

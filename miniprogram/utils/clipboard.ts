/**
 * Clipboard access. Both calls are privacy APIs (declared as 剪切板 in the privacy guide); when
 * the user has not agreed, they fail and the privacy popup explains why.
 */
import { errText } from '../services/types';

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

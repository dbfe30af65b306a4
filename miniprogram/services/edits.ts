/**
 * The user's corrections of a transcript ("edit before copy"), kept on this phone only, one per
 * task, while the original stays untouched on the server (恢复原文 is always possible).
 *
 * Why the device's storage: an edit is the user's working copy, private until they copy it; it
 * needs no backend change and no call, and works offline. The price: it is not on the user's
 * other devices, and clearing WeChat's storage drops it (the original remains). Bounded so it
 * can never crowd the app's storage (WeChat allows 10 MB per user and app, 1 MB per key, see
 * docs/platform-notes.md): the newest MAX_EDITS edits of at most MAX_EDIT_CHARS characters each,
 * each under its own key, with one small index of ids and times; the oldest edit goes first.
 */
import { errText } from './types';

export const EDITS_INDEX_KEY = 'edits.index';
export const MAX_EDITS = 30;
/** A 30-minute video (the longest we extract) says about 9 000 characters. */
export const MAX_EDIT_CHARS = 50_000;

const editKey = (taskId: string) => `edits.${taskId}`;

interface IndexEntry {
  id: string;
  at: number;
}

function readIndex(): IndexEntry[] {
  try {
    const v: unknown = wx.getStorageSync(EDITS_INDEX_KEY);
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is IndexEntry =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as IndexEntry).id === 'string' &&
        typeof (e as IndexEntry).at === 'number',
    );
  } catch {
    return [];
  }
}

/** The user's version of a task's text, or null when they have not changed it. */
export function loadEdit(taskId: string): string | null {
  try {
    const v: unknown = wx.getStorageSync(editKey(taskId));
    return typeof v === 'string' && v !== '' ? v : null;
  } catch {
    return null;
  }
}

export type SaveEditOutcome = 'saved' | 'restored' | 'empty' | 'too_long' | 'failed';

/** Keeps `text` as the task's text; the same as the original drops the edit instead. */
export function saveEdit(taskId: string, text: string, original: string): SaveEditOutcome {
  if (text === original) {
    dropEdit(taskId);
    return 'restored';
  }
  if (text.trim() === '') return 'empty';
  if (text.length > MAX_EDIT_CHARS) return 'too_long';
  try {
    wx.setStorageSync(editKey(taskId), text);
    const index = [{ id: taskId, at: Date.now() }, ...readIndex().filter((e) => e.id !== taskId)];
    for (const old of index.slice(MAX_EDITS)) wx.removeStorageSync(editKey(old.id));
    wx.setStorageSync(EDITS_INDEX_KEY, index.slice(0, MAX_EDITS));
    return 'saved';
  } catch (err) {
    console.warn('[edits] could not keep the edit', errText(err));
    return 'failed';
  }
}

/** Forgets the edit of one task (restored, or the task was deleted). */
export function dropEdit(taskId: string): void {
  try {
    wx.removeStorageSync(editKey(taskId));
    const index = readIndex();
    if (index.some((e) => e.id === taskId)) {
      wx.setStorageSync(
        EDITS_INDEX_KEY,
        index.filter((e) => e.id !== taskId),
      );
    }
  } catch (err) {
    console.warn('[edits] could not drop the edit', errText(err));
  }
}

/** Forgets every edit (the history was cleared: every task with a text is gone). */
export function dropAllEdits(): void {
  try {
    for (const e of readIndex()) wx.removeStorageSync(editKey(e.id));
    wx.removeStorageSync(EDITS_INDEX_KEY);
  } catch (err) {
    console.warn('[edits] could not drop the edits', errText(err));
  }
}

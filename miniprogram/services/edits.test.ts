import { installWxMocks, type WxMocks } from '../test/setup';
import {
  EDITS_INDEX_KEY,
  MAX_EDITS,
  MAX_EDIT_CHARS,
  dropAllEdits,
  dropEdit,
  loadEdit,
  saveEdit,
} from './edits';

let wx: WxMocks;
beforeEach(() => {
  wx = installWxMocks();
});

it('keeps one edit per task, the newest MAX_EDITS only: the oldest goes first', () => {
  jest.useFakeTimers({ now: 1_000_000 });
  try {
    for (let i = 0; i <= MAX_EDITS; i++) {
      jest.advanceTimersByTime(1000);
      expect(saveEdit(`t${i}`, `改过的 ${i}`, '原文')).toBe('saved');
    }
    expect(loadEdit('t0')).toBeNull(); // the 31st edit pushed the first one out
    expect(wx.storage.has('edits.t0')).toBe(false);
    expect(loadEdit(`t${MAX_EDITS}`)).toBe(`改过的 ${MAX_EDITS}`);
    const index = wx.storage.get(EDITS_INDEX_KEY) as { id: string }[];
    expect(index).toHaveLength(MAX_EDITS);
    expect(index[0]?.id).toBe(`t${MAX_EDITS}`);
    // Editing an old one again makes it the newest, not a second entry.
    saveEdit('t1', '又改了', '原文');
    const again = wx.storage.get(EDITS_INDEX_KEY) as { id: string }[];
    expect(again).toHaveLength(MAX_EDITS);
    expect(again[0]?.id).toBe('t1');
  } finally {
    jest.useRealTimers();
  }
});

it('the original again drops the edit; empty and over-long texts are refused; a full storage says so', () => {
  expect(saveEdit('a', '新的', '原文')).toBe('saved');
  expect(saveEdit('a', '原文', '原文')).toBe('restored');
  expect(loadEdit('a')).toBeNull();
  expect(saveEdit('a', ' \n ', '原文')).toBe('empty');
  expect(saveEdit('a', '字'.repeat(MAX_EDIT_CHARS + 1), '原文')).toBe('too_long');
  wx.setStorageSync.mockImplementationOnce(() => {
    throw new Error('setStorageSync:fail exceed storage max size 10MB');
  });
  expect(saveEdit('a', '新的', '原文')).toBe('failed');
  expect(loadEdit('a')).toBeNull();
});

it('forgets one edit, or all of them', () => {
  saveEdit('a', 'A', '原文');
  saveEdit('b', 'B', '原文');
  dropEdit('a');
  expect(loadEdit('a')).toBeNull();
  expect(loadEdit('b')).toBe('B');
  dropAllEdits();
  expect(loadEdit('b')).toBeNull();
  expect(wx.storage.size).toBe(0);
});

it('a damaged index is read as empty, never thrown', () => {
  wx.storage.set(EDITS_INDEX_KEY, 'not a list');
  expect(saveEdit('a', 'A', '原文')).toBe('saved');
  expect(wx.storage.get(EDITS_INDEX_KEY)).toEqual([{ id: 'a', at: expect.any(Number) }]);
});

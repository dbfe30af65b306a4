/**
 * The subscription prompt. WeChat only shows it when `wx.requestSubscribeMessage` is called
 * synchronously inside a tap handler, so `askToNotify` makes that call before returning its
 * promise: call it first in the handler, before any `await`.
 */
import { activeTemplates } from '../config';
import { getBackend } from './index';
import { errText } from './types';

export interface SubscribeOutcome {
  success: boolean;
  failure: boolean;
  /** template ids the user accepted on this prompt */
  accepted: string[];
}

const NONE: SubscribeOutcome = { success: false, failure: false, accepted: [] };

export function askToNotify(): Promise<SubscribeOutcome> {
  const t = activeTemplates();
  const ids = [t.success, t.failure].filter((id) => id !== '');
  if (ids.length === 0 || typeof wx.requestSubscribeMessage !== 'function') {
    return Promise.resolve(NONE);
  }
  return new Promise((resolve) => {
    // Runs synchronously inside the executor, i.e. still inside the tap.
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => {
        const accepted = ids.filter((id) => res[id] === 'accept');
        resolve({
          success: t.success !== '' && accepted.includes(t.success),
          failure: t.failure !== '' && accepted.includes(t.failure),
          accepted,
        });
      },
      // 20004: the user turned notices off; 10005: in background. Submitting goes on regardless.
      fail: (err) => {
        console.warn('[subscribe] prompt failed', errText(err));
        resolve(NONE);
      },
    });
  });
}

/** Tells the backend what was accepted (only the local stack needs it); never fails the submit. */
export async function recordGrants(outcome: SubscribeOutcome): Promise<void> {
  if (outcome.accepted.length === 0) return;
  try {
    await getBackend().recordGrants(outcome.accepted);
  } catch (err) {
    console.warn('[subscribe] could not record grants', errText(err));
  }
}

/**
 * The privacy flow (app.json `__usePrivacyCheck__`): when a privacy API (here the clipboard)
 * needs consent, WeChat pauses it and calls our listener; the popup on the current page asks the
 * user, and the answer resumes or fails the paused call.
 */

type PrivacyEvent = 'exposureAuthorization' | 'agree' | 'disagree';
type Resolve = (answer: { event: PrivacyEvent; buttonId?: string }) => void;
type PopupListener = (visible: boolean) => void;

/** The id of the `open-type="agreePrivacyAuthorization"` button WeChat checks was tapped. */
export const AGREE_BUTTON_ID = 'privacy-agree';

let pending: Resolve | null = null;
const popups: PopupListener[] = [];
let installed = false;

export function installPrivacyHandler(): void {
  if (installed || typeof wx.onNeedPrivacyAuthorization !== 'function') return;
  installed = true;
  // The typings describe the listener's arguments wrongly; this is the documented shape.
  const on = wx.onNeedPrivacyAuthorization as unknown as (
    listener: (resolve: Resolve) => void,
  ) => void;
  on((resolve) => {
    // A second request while one is open answers the first one's popup too.
    pending = resolve;
    const popup = popups[popups.length - 1];
    if (!popup) {
      // No page can ask right now: refuse so the call fails fast instead of hanging.
      answerPrivacy(false);
      return;
    }
    resolve({ event: 'exposureAuthorization' });
    popup(true);
  });
}

/** A popup component registers while it is on screen; the newest (top page) is used. */
export function registerPopup(listener: PopupListener): () => void {
  popups.push(listener);
  return () => {
    const i = popups.indexOf(listener);
    if (i >= 0) popups.splice(i, 1);
  };
}

export function answerPrivacy(agree: boolean): void {
  const resolve = pending;
  pending = null;
  resolve?.(agree ? { event: 'agree', buttonId: AGREE_BUTTON_ID } : { event: 'disagree' });
  for (const p of popups) p(false);
}

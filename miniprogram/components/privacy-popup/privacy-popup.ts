/**
 * The privacy consent sheet. Shown when WeChat pauses a privacy API (the clipboard) for consent;
 * "同意" is an `agreePrivacyAuthorization` button, as WeChat requires.
 */
import { AGREE_BUTTON_ID, answerPrivacy, registerPopup } from '../../utils/privacy';

const unregister = new WeakMap<object, () => void>();

Component({
  data: { visible: false, agreeId: AGREE_BUTTON_ID },
  lifetimes: {
    attached() {
      unregister.set(
        this,
        registerPopup((visible) => this.setData({ visible })),
      );
    },
    detached() {
      unregister.get(this)?.();
      unregister.delete(this);
    },
  },
  methods: {
    onOpenContract() {
      wx.openPrivacyContract({});
    },
    onAgree() {
      answerPrivacy(true);
    },
    onDisagree() {
      answerPrivacy(false);
    },
  },
});

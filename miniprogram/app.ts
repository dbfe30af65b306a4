/**
 * The app shell: installs the privacy listener and initialises the backend early, so the first
 * tap is not slowed by `wx.cloud.init`.
 */
import { getConfig } from './config';
import { getBackend } from './services/index';
import { errText } from './services/types';
import { installPrivacyHandler } from './utils/privacy';

App({
  onLaunch() {
    installPrivacyHandler();
    if (getConfig().mode === 'cloud' && !wx.cloud) {
      console.error('云开发需要基础库 2.2.3 或以上');
      return;
    }
    try {
      getBackend();
    } catch (err) {
      console.error('[app] backend init failed', errText(err));
    }
  },
});

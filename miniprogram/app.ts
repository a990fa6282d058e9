/** App launch: the cloud initialised whenever the cloud is the backend (always in trial and release), and login started. */
import { appConfig, backendMode } from './config';
import { ensureLogin } from './services/auth';
import { listenForPrivacyAuthorization } from './services/privacy';

App({
  onLaunch() {
    if (backendMode() === 'cloud') wx.cloud.init({ env: appConfig.cloudEnv || undefined, traceUser: true } as never);
    listenForPrivacyAuthorization();
    ensureLogin().catch(() => undefined);
  },
});

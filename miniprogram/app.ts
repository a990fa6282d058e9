/** App launch: the cloud initialised in cloud mode, and login started (pages show its state and can retry it). */
import { appConfig } from './config';
import { ensureLogin } from './services/auth';

App({
  onLaunch() {
    if (appConfig.mode === 'cloud') wx.cloud.init({ env: appConfig.cloudEnv || undefined, traceUser: true } as never);
    ensureLogin().catch(() => undefined);
  },
});

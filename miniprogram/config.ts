/**
 * Which backend the client talks to: the one place to switch.
 *   mode 'cloud': wx.cloud.callFunction and wx.requestPayment (production; set cloudEnv to your environment id).
 *   mode 'local': wx.request to the local cloud (`npm start`), and a cashier sheet instead of wx.requestPayment.
 *     In DevTools tick "Do not verify valid domain names" (project.config.json sets urlCheck false) for 127.0.0.1.
 * The release guard: a trial or release build (wx.getAccountInfoSync) always uses the cloud, whatever mode says, so
 * an uploaded build can never call 127.0.0.1 or show the local cashier.
 */
export type BackendMode = 'cloud' | 'local';
export type EnvVersion = 'develop' | 'trial' | 'release';

export interface AppConfig {
  mode: BackendMode;
  cloudEnv: string;
  localCloudUrl: string;
  /** the local user this device logs in as (each name is a different openid) */
  localUser: string;
  /**
   * the order-progress subscribe message template (the backend's SUBSCRIBE_TEMPLATE_ID), asked on the paid page (WeChat
   * sends its own payment voucher); empty: not asked
   */
  orderUpdateTemplateId: string;
  /** the shop's name on the receipt and in shares */
  merchantName: string;
  /** the 「新订单提醒」 template staff subscribe to (the backend's staff template); empty: not offered */
  staffOrderTemplateId: string;
  /** the alerts template admins may subscribe to (the backend's alert template); empty: not offered */
  alertTemplateId: string;
}

export const appConfig: AppConfig = {
  mode: 'local',
  cloudEnv: '',
  localCloudUrl: 'http://127.0.0.1:8787',
  localUser: 'alice',
  orderUpdateTemplateId: '',
  merchantName: '咖啡小馆',
  alertTemplateId: '',
  staffOrderTemplateId: '',
};

/** The build WeChat is running; unknown counts as release (the guard fails closed). */
export function envVersion(): EnvVersion {
  try {
    const version = wx.getAccountInfoSync().miniProgram.envVersion;
    return version === 'develop' || version === 'trial' ? version : 'release';
  } catch {
    return 'release';
  }
}

/** The backend a build with this config uses: local only in a develop build. */
export function backendModeFor(config: AppConfig, version: EnvVersion = envVersion()): BackendMode {
  return config.mode === 'local' && version === 'develop' ? 'local' : 'cloud';
}

export const backendMode = (): BackendMode => backendModeFor(appConfig);

/**
 * Which backend the client talks to: the one place to switch.
 *   mode 'cloud': wx.cloud.callFunction and wx.requestPayment (production; set cloudEnv to your environment id).
 *   mode 'local': wx.request to the local cloud (`npm start`), and a cashier sheet instead of wx.requestPayment.
 *     In DevTools tick "Do not verify valid domain names" (project.config.json sets urlCheck false) for 127.0.0.1.
 */
export type BackendMode = 'cloud' | 'local';

export interface AppConfig {
  mode: BackendMode;
  cloudEnv: string;
  localCloudUrl: string;
  /** the local user this device logs in as (each name is a different openid) */
  localUser: string;
}

export const appConfig: AppConfig = {
  mode: 'local',
  cloudEnv: '',
  localCloudUrl: 'http://127.0.0.1:8787',
  localUser: 'alice',
};

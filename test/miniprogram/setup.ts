/**
 * miniprogram-simulate runs components in jsdom; the platform globals it does not define are provided here.
 * TDesign renders components as virtual hosts (no node of their own) from base library 2.19.2 on; reporting 2.19.1,
 * as TDesign's own tests do, keeps a host node so tests can send events to components directly. simulate merges this
 * `wx` over its own API; every other `wx` function a page calls is a jest mock set per test (harness.ts).
 */
const g = globalThis as unknown as Record<string, unknown>;
const app: Record<string, unknown> = { globalData: {} };
g.getApp = () => app;
g.getCurrentPages = () => [];
g.wx = {
  getAppBaseInfo: () => ({
    SDKVersion: '2.19.1',
    language: 'zh_CN',
    theme: 'light',
    enableDebug: false,
    host: { env: 'WeChat' },
  }),
};

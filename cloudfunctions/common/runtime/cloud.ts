/**
 * The cloud runtime: builds the domain's dependencies from wx-server-sdk and environment variables. The only module
 * that imports wx-server-sdk. On the local cloud, `wx-server-sdk` resolves to the local cloud's implementation, so
 * this same code runs there.
 *
 * Parsed configuration and keys are kept between invocations of a warm instance, and rebuilt if the environment
 * changes.
 */
import * as cloud from 'wx-server-sdk';
import { AppConfigError, APP_ENV, loadAppConfig } from '../domain/config';
import type { Caller, Deps, Messenger } from '../domain/deps';
import type { CloudDatabase } from '../store/database';
import { Store } from '../store/store';
import { createWechatPay, loadWechatPayConfig, WECHATPAY_ENV } from '../wechatpay';
import { jsonLogger } from './log';
import { httpWxApi } from './wxapi';

const ENV_NAMES = [...Object.values(WECHATPAY_ENV), ...Object.values(WECHATPAY_ENV).map((n) => `${n}_PATH`), ...Object.values(APP_ENV)];

let initialised = false;
let cached: { key: string; deps: Omit<Deps, 'store'> } | undefined;

const messenger: Messenger = {
  async sendSubscribeMessage(message) {
    await (cloud.openapi as { subscribeMessage: { send(p: unknown): Promise<unknown> } }).subscribeMessage.send({
      touser: message.touser,
      templateId: message.templateId,
      page: message.page,
      data: message.data,
    });
  },
};

function build(): Omit<Deps, 'store'> {
  const env = process.env;
  const config = loadAppConfig(env);
  const pay = createWechatPay(loadWechatPayConfig(env), { timeoutMs: config.wechatpayTimeoutMs });
  return { config, pay, clock: Date.now, wxApi: httpWxApi(config), messenger, log: jsonLogger };
}

export function cloudRuntime(): { deps: Deps; caller: Caller } {
  if (!initialised) {
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV as unknown as string });
    initialised = true;
  }
  const key = ENV_NAMES.map((n) => process.env[n] ?? '').join('\u0000');
  if (!cached || cached.key !== key) cached = { key, deps: build() };
  const db = cloud.database({ throwOnNotFound: false } as never) as unknown as CloudDatabase;
  const context = cloud.getWXContext();
  return {
    deps: { ...cached.deps, store: new Store(db) },
    caller: { ...(context.OPENID ? { openid: context.OPENID } : {}), ...(context.APPID ? { appid: context.APPID } : {}) },
  };
}

export { AppConfigError };

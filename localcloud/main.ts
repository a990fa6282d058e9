/**
 * `npm start`: the local cloud on 127.0.0.1. Settings (all optional):
 *   LOCALCLOUD_DATA           data folder (default .localcloud): keys, database, WeChat Pay ledger
 *   LOCALCLOUD_PORT           cloud server port (default 8787; 0 lets the OS choose); `npm run localcloud` looks there too
 *   LOCALCLOUD_PAY_PORT       WeChat Pay simulator port (default 8788; 0 lets the OS choose)
 *   LOCALCLOUD_SIGNING_MODE   publicKey (default: a merchant created today) | certificate | both (mid-migration)
 *   LOCALCLOUD_WECHATPAY_MODE direct (default) | partner (a service provider with two demo sub-merchants)
 *   LOCALCLOUD_TIME_FACTOR    scales WeChat Pay's notification retry schedule (default 1, real timing)
 *   LOCALCLOUD_FUNCTIONS      source (default) | bundles (run dist/cloudfunctions from `npm run build`)
 * and any function setting (ADMIN_OPENIDS, ORDER_EXPIRY_MINUTES, SUBSCRIBE_TEMPLATE_ID, LOG_LEVEL, …).
 */
import { resolve } from 'node:path';
import { LocalCloud } from './cloud';
import { cloudAddress, readPort, readSetting, SettingError } from './env';
import { KEY_FILES } from './keys';
import { useLocalWxServerSdk } from './resolve-sdk';
import { REFUND_ERROR_LIMIT_PER_SECOND, REFUND_INTERVAL_MS, type SigningMode } from './wechatpay-sim/simulator';

/** A bad setting ends the start with its message (exit code 2). */
function orExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

const setting = (name: string, fallback: string, allowed?: string[]): string =>
  orExit(() => readSetting(process.env, name, fallback, allowed));
const port = (name: string, fallback: number): number => orExit(() => readPort(process.env, name, fallback));

async function main(): Promise<void> {
  useLocalWxServerSdk();
  const dataDir = resolve(setting('LOCALCLOUD_DATA', '.localcloud'));
  const timeFactor = Number(setting('LOCALCLOUD_TIME_FACTOR', '1'));
  if (!(timeFactor > 0 && timeFactor <= 10)) {
    console.error('LOCALCLOUD_TIME_FACTOR must be a number in (0, 10]');
    process.exit(2);
  }
  const cloud = new LocalCloud({
    dataDir,
    ...orExit(() => cloudAddress()),
    payPort: port('LOCALCLOUD_PAY_PORT', 8788),
    signingMode: setting('LOCALCLOUD_SIGNING_MODE', 'publicKey', ['publicKey', 'certificate', 'both']) as SigningMode,
    wechatpayMode: setting('LOCALCLOUD_WECHATPAY_MODE', 'direct', ['direct', 'partner']) as 'direct' | 'partner',
    timeFactor,
    refundIntervalMs: REFUND_INTERVAL_MS,
    refundErrorLimitPerSecond: REFUND_ERROR_LIMIT_PER_SECOND,
    functions: setting('LOCALCLOUD_FUNCTIONS', 'source', ['source', 'bundles']) as 'source' | 'bundles',
    timers: true,
    log: (line) => console.error(line),
  });
  const adminOpenid = cloud.wxApi.openidFor('admin');
  if (!process.env.ADMIN_OPENIDS) process.env.ADMIN_OPENIDS = adminOpenid;
  const urls = await cloud.start();
  const k = cloud.keys;
  const lines = [
    `Local cloud running. Data ${cloud.keysCreated ? 'created' : 'reused'}: ${dataDir}`,
    `  console           ${urls.cloud}/console   (orders, deliveries, faults, cashier, clock; Native checkout page: ${urls.http}/checkout/)`,
    `  cloud functions   ${urls.functions}/<name>   (${cloud.host.names().join(', ')})`,
    `  HTTP access       ${urls.http}/<name>/...   WeChat Pay notify URL: ${urls.notifyUrl}`,
    `  timers            POST ${urls.cloud}/timers/<name> runs one now (reconcile runs every 5 minutes)`,
    `  WeChat API        ${urls.wxapi}   (local wx.login: POST ${urls.wxapi}/_local/login {"user":"alice"})`,
    `  WeChat Pay        ${urls.wechatpay}   (APIv3 /v3/..., control /sim/...; signing: ${cloud.pay.signingMode}, time factor ${timeFactor})`,
    cloud.pay.mode === 'partner'
      ? `  service provider sp_mchid ${k.mchid}   sp_appid ${k.appid}; sub-merchants ${cloud.pay.subMerchants.map((s) => `${s.sub_mchid} ${s.name}${s.sub_appid ? ` (sub_appid ${s.sub_appid})` : ''}`).join(', ')}`
      : `  mchid ${k.mchid}   appid ${k.appid}`,
    `  keys              ${resolve(dataDir, 'keys')}  (${Object.values(KEY_FILES).join(', ')})`,
    `  WeChat Pay key id ${k.publicKeyId}   platform certificate serial ${k.platformCertificateSerial}`,
    `  admin             ADMIN_OPENIDS=${process.env.ADMIN_OPENIDS}${process.env.ADMIN_OPENIDS === adminOpenid ? " (the local user 'admin')" : ''}`,
    `  catalogue         ${cloud.seeded ? `seeded ${cloud.seeded} products` : 'kept from the last start'}`,
    `Drive it: npm run localcloud -- help`,
  ];
  console.log(lines.join('\n'));
  const stop = async () => {
    await cloud.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

/**
 * wechatpayKeys: daily timer. In certificate and migration modes downloads /v3/certificates (verified, decrypted,
 * stored for every function to read); in every mode raises an alert when the merchant certificate, a platform
 * certificate or the public key nears expiry, or when the WeChat Pay configuration does not load.
 */
import { cloudRuntime } from '../common/runtime/cloud';
import { timer } from '../common/runtime/handler';
import { runKeyWatch } from '../common/runtime/key-watch';
import { resolveKeyMaterial } from '../common/runtime/key-files';

export const main = timer(cloudRuntime('wechatpayKeys'), (deps, context) =>
  runKeyWatch({
    env: process.env,
    material: context.material ?? resolveKeyMaterial(process.env, undefined),
    ...(context.keeper ? { keeper: context.keeper } : {}),
    ...(context.payProblems ? { payProblems: context.payProblems } : {}),
    clock: deps.clock,
    alerts: context.alerts,
    log: deps.log,
  }),
);

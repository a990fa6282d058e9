/**
 * Expiry warnings with an injected clock: the merchant certificate, the platform certificates (quiet while a newer
 * one is known, as during WeChat Pay's rotation) and the public key (dated by WECHATPAY_PUBLIC_KEY_EXPIRES_AT),
 * through the AlertSink the lead can wire to the alerts of the books issue; and the log sink used until then.
 */
import { rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Alert } from '../../../cloudfunctions/common/domain/deps';
import { logAlerts } from '../../../cloudfunctions/common/runtime/alerts';
import { CertificateKeeper, CertificateStore } from '../../../cloudfunctions/common/runtime/certificates';
import { resolveKeyMaterial } from '../../../cloudfunctions/common/runtime/key-files';
import { DAY_MS, expiryAlerts, runKeyWatch, type WatchedKey } from '../../../cloudfunctions/common/runtime/key-watch';
import { jsonLogger } from '../../../cloudfunctions/common/runtime/log';
import type { CloudDatabase } from '../../../cloudfunctions/common/store/database';
import { createWechatPay, loadWechatPayConfig } from '../../../cloudfunctions/common/wechatpay';
import { LocalDatabaseEngine } from '../../../localcloud/db/database';
import { wechatpayEnvironment } from '../../../localcloud/env';
import type { LocalKeys } from '../../../localcloud/keys';
import { WechatPaySimulator } from '../../../localcloud/wechatpay-sim/simulator';
import { freshLocalKeys } from '../../support/local-keys';
import { captureLogs } from '../../support/logs';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const key = (kind: WatchedKey['kind'], id: string, daysLeft: number): WatchedKey => ({
  kind,
  id,
  expiresAt: T0 + daysLeft * DAY_MS,
});

describe('expiryAlerts', () => {
  test('quiet beyond 30 days, a warning within them, critical within 7 days and after expiry', () => {
    expect(expiryAlerts([key('merchant_certificate', 'M', 31)], T0)).toEqual([]);
    expect(expiryAlerts([key('merchant_certificate', 'M', 30)], T0)).toEqual([
      expect.objectContaining({
        cause: 'key_expiry:merchant_certificate:M',
        severity: 'warning',
        message: expect.stringMatching(/^merchant API certificate M expires in 30 days .*renew it/),
      }),
    ]);
    expect(expiryAlerts([key('merchant_certificate', 'M', 7)], T0)).toEqual([
      expect.objectContaining({ severity: 'critical' }),
    ]);
    expect(expiryAlerts([key('public_key', 'PUB_KEY_ID_1', -1)], T0)).toEqual([
      expect.objectContaining({
        cause: 'key_expiry:public_key:PUB_KEY_ID_1',
        severity: 'critical',
        message: expect.stringContaining('has expired'),
      }),
    ]);
    expect(expiryAlerts([key('merchant_certificate', 'M', 20)], T0, 14)).toEqual([]); // KEY_EXPIRY_WARN_DAYS
  });

  test('a platform certificate near its end is quiet while a newer one is known, and alerts when none is', () => {
    const old = key('platform_certificate', 'OLD', 10);
    expect(expiryAlerts([old, key('platform_certificate', 'NEW', 1800)], T0)).toEqual([]);
    expect(expiryAlerts([old], T0)).toEqual([
      expect.objectContaining({
        cause: 'key_expiry:platform_certificate:OLD',
        severity: 'warning',
        message: expect.stringContaining('no newer certificate is known'),
      }),
    ]);
  });
});

describe('runKeyWatch against the simulator, clock injected', () => {
  let keys: LocalKeys;
  let keysDir: string;
  let sim: WechatPaySimulator;
  let engine: LocalDatabaseEngine;
  let now: number;
  const raised: Alert[] = [];
  const sink = { raise: async (a: Alert) => void raised.push(a) };

  beforeAll(async () => {
    ({ keys, dir: keysDir } = freshLocalKeys());
    sim = new WechatPaySimulator({ keys, signingMode: 'certificate' });
    await sim.start();
    engine = new LocalDatabaseEngine(undefined);
  });
  afterAll(async () => {
    await sim.close();
    await engine.close();
    rmSync(keysDir, { recursive: true, force: true });
  });
  beforeEach(() => void raised.splice(0));

  function setup(extraEnv: Record<string, string> = {}) {
    const env = {
      ...wechatpayEnvironment(
        keys,
        {
          wechatpayBaseUrl: sim.baseUrl,
          wxApiBaseUrl: 'http://127.0.0.1:1',
          notifyUrl: 'http://127.0.0.1:1/n',
          refundNotifyUrl: 'http://127.0.0.1:1/n',
        },
        'both',
      ),
      WECHATPAY_MERCHANT_CERTIFICATE: keys.merchantCertificatePem,
      ...extraEnv,
    };
    const config = loadWechatPayConfig(env);
    const pay = createWechatPay(config, { timeoutMs: 2000, clock: () => Date.now() });
    const keeper = new CertificateKeeper({
      keys: config.platformKeys,
      download: () => pay.client.downloadCertificates(),
      store: new CertificateStore(engine.database({ throwOnNotFound: false }) as unknown as CloudDatabase),
      clock: () => now,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    keeper.add([keys.platformCertificatePem]);
    const input = {
      env,
      material: resolveKeyMaterial(env, undefined),
      keeper,
      clock: () => now,
      alerts: sink,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    return { input, keeper };
  }

  const validTo = (pem: string) => Date.parse(new X509Certificate(pem).validTo);

  test('today: every key far from expiry, no alert; the summary names what it watched', async () => {
    now = Date.now();
    const { input } = setup({ WECHATPAY_PUBLIC_KEY_EXPIRES_AT: new Date(now + 400 * DAY_MS).toISOString() });
    const summary = await runKeyWatch(input);
    expect(raised).toEqual([]);
    expect(summary.checked.map((k) => k.kind).sort()).toEqual([
      'merchant_certificate',
      'platform_certificate',
      'public_key',
    ]);
    expect(summary.notes).toEqual([]);
  });

  test('twenty days before the platform certificate ends, with no new one published: a warning; once WeChat Pay publishes one, quiet', async () => {
    now = validTo(keys.platformCertificatePem) - 20 * DAY_MS;
    const { input } = setup();
    await runKeyWatch(input);
    expect(raised.map((a) => [a.cause, a.severity])).toEqual(
      expect.arrayContaining([
        [`key_expiry:platform_certificate:${keys.platformCertificateSerial}`, 'warning'],
        // the local merchant certificate was made the same minute: it is as close to its end
        [`key_expiry:merchant_certificate:${keys.merchantSerialNo}`, 'warning'],
      ]),
    );
    raised.splice(0);
    sim.rotateCertificate({ validFrom: now - DAY_MS }); // the successor, downloaded by the same daily run
    const after = await runKeyWatch(setup().input);
    expect(after.refreshed?.added).toHaveLength(1);
    expect(raised.map((a) => a.cause)).not.toContain(
      `key_expiry:platform_certificate:${keys.platformCertificateSerial}`,
    );
  });

  test('five days before the merchant certificate ends: critical; the public key by its configured date', async () => {
    now = validTo(keys.merchantCertificatePem) - 5 * DAY_MS;
    const { input } = setup({
      WECHATPAY_PUBLIC_KEY_EXPIRES_AT: new Date(now + 12 * DAY_MS).toISOString(),
      KEY_EXPIRY_WARN_DAYS: '15',
    });
    await runKeyWatch(input);
    expect(raised).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          cause: `key_expiry:merchant_certificate:${keys.merchantSerialNo}`,
          severity: 'critical',
          detail: expect.objectContaining({ daysLeft: 5 }),
        }),
        expect.objectContaining({ cause: `key_expiry:public_key:${keys.publicKeyId}`, severity: 'warning' }),
      ]),
    );
  });

  test('a WeChat Pay configuration that does not load is itself an alert', async () => {
    now = Date.now();
    const { input } = setup();
    await runKeyWatch({ ...input, payProblems: ['WECHATPAY_MCHID is missing'] });
    expect(raised[0]).toMatchObject({
      cause: 'wechatpay_config',
      severity: 'critical',
      detail: { problems: ['WECHATPAY_MCHID is missing'] },
    });
  });
});

test('until the alerts of the books issue land, an alert is a log line: warn for a warning, error when critical', async () => {
  const sink = logAlerts(jsonLogger);
  const { lines } = await captureLogs(async () => {
    await sink.raise({
      cause: 'key_expiry:public_key:PUB_KEY_ID_1',
      severity: 'warning',
      message: 'WeChat Pay public key PUB_KEY_ID_1 expires in 20 days',
      detail: { daysLeft: 20 },
    });
    await sink.raise({ cause: 'wechatpay_config', severity: 'critical', message: 'WeChat Pay configuration invalid' });
  });
  expect(lines).toEqual([
    {
      level: 'warn',
      message: 'ALERT WeChat Pay public key PUB_KEY_ID_1 expires in 20 days',
      alert: 'key_expiry:public_key:PUB_KEY_ID_1',
      severity: 'warning',
      daysLeft: 20,
    },
    {
      level: 'error',
      message: 'ALERT WeChat Pay configuration invalid',
      alert: 'wechatpay_config',
      severity: 'critical',
    },
  ]);
});

/**
 * Certificate mode kept current, against the WeChat Pay simulator in certificate mode (driven through its facade,
 * including a rotation where it issues a new certificate and signs with it): the first download, the daily refresh,
 * the unknown-serial refresh at most once per few minutes (across instances), public-key mode that never downloads,
 * and migration mode that accepts both.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrderView, PayResponse } from '../../../typings/api';
import {
  CertificateKeeper,
  CertificateStore,
  CERTIFICATE_COLLECTION,
  REFRESH_GAP_MS,
} from '../../../cloudfunctions/common/runtime/certificates';
import type { KeyWatchSummary } from '../../../cloudfunctions/common/runtime/key-watch';
import type { CloudDatabase } from '../../../cloudfunctions/common/store/database';
import { createWechatPay, loadWechatPayConfig } from '../../../cloudfunctions/common/wechatpay';
import { LocalDatabaseEngine } from '../../../localcloud/db/database';
import { wechatpayEnvironment } from '../../../localcloud/env';
import type { LocalKeys } from '../../../localcloud/keys';
import { WechatPaySimulator, type SigningMode } from '../../../localcloud/wechatpay-sim/simulator';
import { freshLocalKeys } from '../../support/local-keys';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { craftNotification, postNotification, transactionResource } from '../../support/notifications';
import { captureLogs } from '../../support/logs';

jest.setTimeout(60_000);

// ---- end to end: the functions on the local cloud ------------------------------------------------------------------

let t: TestCloud | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const stored = async (cloud: TestCloud) =>
  (
    (
      await cloud.cloud.engine
        .database()
        .collection(CERTIFICATE_COLLECTION)
        .where({ kind: 'certificate' })
        .limit(100)
        .get()
    ).data as { _id: string }[]
  )
    .map((d) => d._id)
    .sort();
/** The notification log's entries for deliveries signed with `serial` (a rejected one is logged by its headers). */
const loggedWithSerial = async (cloud: TestCloud, serial: string) =>
  (
    (await cloud.cloud.engine.database().collection('notification_log').where({}).limit(1000).get())
      .data as unknown as { verdict: string; wechatpayHeaders?: Record<string, string> }[]
  ).filter((e) => Object.values(e.wechatpayHeaders ?? {}).includes(serial));
/** A tripwire: the next /v3/certificates call fails; still listed afterwards means nothing asked for certificates. */
const tripwire = (cloud: TestCloud) =>
  cloud.cloud.pay.faults.add({ target: 'certificates', kind: 'SYSTEM_ERROR', times: 1 });
const tripped = (cloud: TestCloud) => !cloud.cloud.pay.faults.list().some((f) => f.target === 'certificates');

async function prepay(cloud: TestCloud, user = 'alice'): Promise<{ order: OrderView; params: PayResponse['params'] }> {
  const order = await cloud.confirm(user, [{ productId: 'latte', quantity: 1 }]);
  const { params } = await cloud.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, user);
  return { order, params };
}

test('certificate mode with no certificate configured: the first use downloads, verifies, decrypts and stores them', async () => {
  t = await startTestCloud({ signingMode: 'certificate' });
  const cloud = t;
  const saved = process.env.WECHATPAY_PLATFORM_CERTIFICATES;
  delete process.env.WECHATPAY_PLATFORM_CERTIFICATES;
  process.env.WECHATPAY_KEY_MODE = 'certificate';
  try {
    const { result, lines } = await captureLogs(() => prepay(cloud));
    expect(result.params.package).toMatch(/^prepay_id=/);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'platform certificates downloaded for the first time',
        serials: [cloud.cloud.keys.platformCertificateSerial],
      }),
    );
    expect(await stored(cloud)).toEqual([cloud.cloud.keys.platformCertificateSerial]);
    // another function starts from the stored certificates: no second download
    tripwire(cloud);
    await cloud.ok('orders', { action: 'cancel', orderId: result.order.id }, 'alice');
    expect(tripped(cloud)).toBe(false);
  } finally {
    process.env.WECHATPAY_PLATFORM_CERTIFICATES = saved;
    delete process.env.WECHATPAY_KEY_MODE;
  }
});

test('the daily timer stores a rotated certificate before WeChat Pay signs with it; then answers and notifications verify with no further download', async () => {
  t = await startTestCloud({ signingMode: 'certificate' });
  const sim = t.cloud.pay;
  const first = (await t.cloud.host.runTimer('wechatpayKeys')) as KeyWatchSummary;
  expect(first).toMatchObject({
    mode: 'certificate',
    refreshed: { serials: [t.cloud.keys.platformCertificateSerial], added: [] },
    alerts: [],
  });

  const rotated = sim.rotateCertificate(); // listed beside the old one; the old one still signs
  const daily = (await t.cloud.host.runTimer('wechatpayKeys')) as KeyWatchSummary;
  expect(daily.refreshed).toEqual({
    serials: expect.arrayContaining([rotated.serial, t.cloud.keys.platformCertificateSerial]),
    added: [rotated.serial],
  });
  expect(await stored(t)).toEqual([rotated.serial, t.cloud.keys.platformCertificateSerial].sort());

  sim.signWithCertificate(rotated.serial);
  tripwire(t);
  const { order, params } = await prepay(t); // the answer is signed with the new certificate
  const { transaction } = await sim.cashier('pay', { appId: t.cloud.keys.appid, ...params });
  const outTradeNo = (transaction as { out_trade_no: string }).out_trade_no;
  await waitFor(
    () => sim.notifier.list({ outTradeNo }),
    (ds) => ds.some((d) => d.state === 'delivered'),
  );
  expect((await t.order('alice', order.id)).status).toBe('paid');
  expect(tripped(t)).toBe(false);
  expect(sim.notificationSerial('any')).toBe(rotated.serial);
});

test('a notification signed with an unknown certificate: one refresh, then accepted; another unknown serial within the gap is rejected without downloading', async () => {
  t = await startTestCloud({ signingMode: 'certificate' });
  const sim = t.cloud.pay;
  const a = await prepay(t);
  const rotated = sim.rotateCertificate({ signNow: true }); // issued and signing at once: nobody has it yet
  const { result: paid, lines } = await captureLogs(async () => {
    const { transaction } = await sim.cashier('pay', { appId: t!.cloud.keys.appid, ...a.params });
    const outTradeNo = (transaction as { out_trade_no: string }).out_trade_no;
    await waitFor(
      () => sim.notifier.list({ outTradeNo }),
      (ds) => ds.some((d) => d.state === 'delivered'),
    );
    return t!.order('alice', a.order.id);
  });
  expect(paid.status).toBe('paid');
  expect(lines).toContainEqual(
    expect.objectContaining({
      message: 'platform certificates downloaded',
      reason: `unknown serial ${rotated.serial}`,
      added: [rotated.serial],
    }),
  );
  expect(await stored(t)).toContain(rotated.serial);

  // a second rotation moments later: the gap holds, nothing is downloaded, the notification is rejected (WeChat Pay retries)
  const b = await prepay(t, 'bob');
  const again = sim.rotateCertificate({ signNow: true });
  tripwire(t);
  await sim.cashier('pay', { appId: t.cloud.keys.appid, ...b.params });
  const rejected = await waitFor(
    () => loggedWithSerial(t!, again.serial),
    (entries) => entries.length > 0,
  );
  expect(rejected[0]!.verdict).toBe('rejected:UNKNOWN_SERIAL');
  expect(tripped(t)).toBe(false);
  expect((await t.order('bob', b.order.id)).status).toBe('pending_payment');
  expect(await stored(t)).not.toContain(again.serial);
});

test('public-key mode never asks for certificates; an unknown serial is simply rejected', async () => {
  t = await startTestCloud({ signingMode: 'publicKey' });
  tripwire(t);
  const summary = (await t.cloud.host.runTimer('wechatpayKeys')) as KeyWatchSummary;
  expect(summary).toMatchObject({ mode: 'publicKey', alerts: [] });
  expect(summary.refreshed).toBeUndefined();
  expect(summary.refreshError).toBeUndefined();
  const { order, params } = await prepay(t);
  const { transaction } = await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...params });
  await waitFor(
    () => t!.order('alice', order.id),
    (o) => o.status === 'paid',
  );
  expect(transaction).toBeDefined();
  const forged = craftNotification(
    t.cloud.keys,
    transactionResource(t.cloud.keys, `${order.id}P1`, order.totalFen, t.openid('alice')),
    { serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' },
  );
  expect((await postNotification(t.cloud.urls.notifyUrl, forged)).status).toBe(401);
  expect(tripped(t)).toBe(false);
  expect(await stored(t)).toEqual([]);
});

test('migration mode accepts both: public-key notifications, and certificate ones after a rotation (learned once); an unknown public key id is not downloaded for', async () => {
  t = await startTestCloud({ signingMode: 'both' });
  const sim = t.cloud.pay;
  sim.publicKeyShare = 0; // notifications on the certificate first
  const rotated = sim.rotateCertificate({ signNow: true });
  const a = await prepay(t);
  const ta = await sim.cashier('pay', { appId: t.cloud.keys.appid, ...a.params });
  await waitFor(
    () => t!.order('alice', a.order.id),
    (o) => o.status === 'paid',
  );
  expect(await stored(t)).toContain(rotated.serial);

  sim.publicKeyShare = 1; // then on the public key
  tripwire(t);
  const b = await prepay(t, 'bob');
  await sim.cashier('pay', { appId: t.cloud.keys.appid, ...b.params });
  await waitFor(
    () => t!.order('bob', b.order.id),
    (o) => o.status === 'paid',
  );
  expect(tripped(t)).toBe(false);
  expect(ta).toBeDefined();

  // a public key id nobody configured: certificates cannot help, nothing is downloaded, the log says what to do
  const { result, lines } = await captureLogs(() =>
    postNotification(
      t!.cloud.urls.notifyUrl,
      craftNotification(
        t!.cloud.keys,
        transactionResource(t!.cloud.keys, `${b.order.id}P1`, b.order.totalFen, t!.openid('bob')),
        { serial: 'PUB_KEY_ID_0199999999999999999999999999999999' },
      ),
    ),
  );
  expect(result.status).toBe(401);
  expect(tripped(t)).toBe(false);
  expect(lines).toContainEqual(
    expect.objectContaining({ level: 'error', message: expect.stringContaining('unknown WeChat Pay public key id') }),
  );
});

// ---- the keeper itself, with an injected clock: the gap across instances ---------------------------------------

describe('CertificateKeeper against the simulator, clock injected', () => {
  let keys: LocalKeys;
  let keysDir: string;
  let sim: WechatPaySimulator;
  let engine: LocalDatabaseEngine;
  let now: number;
  const clock = () => now;

  beforeAll(() => {
    ({ keys, dir: keysDir } = freshLocalKeys());
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));
  beforeEach(async () => {
    now = Date.now();
    sim = new WechatPaySimulator({ keys, signingMode: 'certificate' satisfies SigningMode, timeFactor: 0.001 });
    await sim.start();
    engine = new LocalDatabaseEngine(mkdtempSync(join(tmpdir(), 'keeper-db-')));
  });
  afterEach(async () => {
    await sim.close();
    await engine.close();
    rmSync(engine.dir!, { recursive: true, force: true });
  });

  /** One function instance: its own key map, client and keeper, sharing the database (and counting its downloads). */
  function instance() {
    const env = wechatpayEnvironment(
      keys,
      {
        wechatpayBaseUrl: sim.baseUrl,
        wxApiBaseUrl: 'http://127.0.0.1:1',
        notifyUrl: 'http://127.0.0.1:1/n',
        refundNotifyUrl: 'http://127.0.0.1:1/n',
      },
      'certificate',
    );
    const config = loadWechatPayConfig(env);
    const pay = createWechatPay(config, { timeoutMs: 2000 });
    const downloads: number[] = [];
    const store = new CertificateStore(engine.database({ throwOnNotFound: false }) as unknown as CloudDatabase);
    const keeper = new CertificateKeeper({
      keys: config.platformKeys,
      download: () => {
        downloads.push(now);
        return pay.client.downloadCertificates();
      },
      store,
      clock,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    keeper.add([keys.platformCertificatePem]);
    return { keeper, downloads, reads: jest.spyOn(store, 'load') };
  }

  test('an unknown serial downloads once; within five minutes no instance downloads again; after them one does', async () => {
    const a = instance();
    const b = instance();
    const first = sim.rotateCertificate({ signNow: true });
    expect(await a.keeper.ensureKnown(first.serial)).toBe(true);
    expect(a.downloads).toHaveLength(1);
    // the other instance learns it from the stored certificates, without downloading
    expect(await b.keeper.ensureKnown(first.serial)).toBe(true);
    expect(b.downloads).toHaveLength(0);

    const second = sim.rotateCertificate({ signNow: true });
    now += 60_000;
    const readsBefore = a.reads.mock.calls.length;
    expect(await a.keeper.ensureKnown(second.serial)).toBe(false); // this instance's own gap: not even a read
    expect(a.reads.mock.calls.length).toBe(readsBefore);
    const c = instance();
    expect(await c.keeper.ensureKnown(second.serial)).toBe(false); // a fresh instance: the shared gap
    expect(a.downloads.length + b.downloads.length + c.downloads.length).toBe(1);

    now += REFRESH_GAP_MS;
    expect(await a.keeper.ensureKnown(second.serial)).toBe(true);
    expect(a.downloads).toHaveLength(2);
  });

  test('a warm instance re-reads the stored certificates hourly; expired certificates stop verifying', async () => {
    const daily = instance();
    const warm = instance();
    const rotated = sim.rotateCertificate({ days: 2 });
    await daily.keeper.refresh('daily');
    expect(warm.keeper.knows(rotated.serial)).toBe(false);
    await warm.keeper.reloadIfStale(); // the first call reads
    expect(warm.keeper.knows(rotated.serial)).toBe(true);
    now += 3 * 24 * 3600 * 1000; // the short certificate has expired
    await warm.keeper.reloadIfStale();
    expect(warm.keeper.knows(rotated.serial)).toBe(false);
    expect(warm.keeper.knows(keys.platformCertificateSerial)).toBe(true);
    // a configured certificate past its end verifies nothing either
    now = Date.parse(new X509Certificate(keys.platformCertificatePem).validTo) + 1000;
    expect(instance().keeper.knows(keys.platformCertificateSerial)).toBe(false);
  });
});

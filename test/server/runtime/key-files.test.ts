/**
 * The deployed shape: bundles built with a secrets folder read their WeChat Pay key material from the files shipped
 * beside index.js (no PEM in the environment), pay and verify notifications with them; without those files they fail
 * with the variables named; and no log line, error or answer ever carries key material.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiResult, PayResponse } from '../../../typings/api';
import { runInvocation } from '../../../localcloud/wx-server-sdk';
import { buildFunctions } from '../../../scripts/release/build-functions';
import { writeLocalSecrets } from '../../../scripts/release/local-secrets';
import { craftNotification } from '../../support/notifications';
import { startTestCloud, type TestCloud } from '../../support/localcloud';
import { captureLogs, leaked, secretFragments } from '../../support/logs';

jest.setTimeout(60_000);

let t: TestCloud;
let tmp: string;
let secrets: string;
const pemSettings = ['WECHATPAY_MERCHANT_PRIVATE_KEY', 'WECHATPAY_PUBLIC_KEY', 'WECHATPAY_PLATFORM_CERTIFICATES'];
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'key-files-'));
  t = await startTestCloud({ dataDir: join(tmp, 'cloud') });
  secrets = join(tmp, 'secrets');
  writeLocalSecrets(secrets, { dataDir: join(tmp, 'cloud'), notifyUrl: t.cloud.urls.notifyUrl });
  await buildFunctions(join(tmp, 'with-keys'), ['payment', 'payNotify', 'wechatpayKeys'], { secretsDir: secrets });
  await buildFunctions(join(tmp, 'without-keys'), ['payment']);
  await buildFunctions(join(tmp, 'broken-key'), ['payment'], { secretsDir: secrets });
  writeFileSync(
    join(tmp, 'broken-key', 'payment', 'wechatpay', 'apiclient_key.pem'),
    '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n',
  );
  // as deployed: the environment holds no key material, the folder does
  for (const name of pemSettings) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
  // the local cloud's own (source) functions no longer have keys: keep WeChat Pay from notifying them
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: null });
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
  await t.close();
  rmSync(tmp, { recursive: true, force: true });
});

type Main = (event: unknown, context: unknown) => Promise<unknown>;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a built bundle, loaded by path as the platform does
const bundle = (dir: string, name: string): Main => (require(join(tmp, dir, name, 'index.js')) as { main: Main }).main;
const asUser = (user: string) => ({ OPENID: t.openid(user), APPID: t.cloud.keys.appid, SOURCE: 'wx_client' });
const invoke = (main: Main, event: unknown, context: Record<string, string>) =>
  runInvocation(t.cloud.platform, context, () => main(event, { request_id: 'test' }));

test('a bundle pays with the key files in its folder and verifies notifications with them; without them it names what is missing; nothing secret is ever logged or answered', async () => {
  const order = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  const unpaid = await t.confirm('alice', [{ productId: 'latte', quantity: 1 }]);
  const { result, text, lines } = await captureLogs(async () => {
    const paid = (await invoke(
      bundle('with-keys', 'payment'),
      { action: 'pay', orderId: order.id },
      asUser('alice'),
    )) as ApiResult<PayResponse>;
    if (!paid.ok) throw new Error(`pay failed: ${JSON.stringify(paid.error)}`);
    const { transaction } = await t.cloud.pay.cashier('pay', { appId: t.cloud.keys.appid, ...paid.data.params });
    const notification = craftNotification(t.cloud.keys, transaction);
    const notified = (await invoke(
      bundle('with-keys', 'payNotify'),
      { httpMethod: 'POST', headers: notification.headers, body: notification.body, isBase64Encoded: false },
      { SOURCE: 'wx_http' },
    )) as {
      statusCode: number;
    };
    const watched = await invoke(bundle('with-keys', 'wechatpayKeys'), { Type: 'Timer' }, { SOURCE: 'wx_trigger' });
    const missing = await invoke(
      bundle('without-keys', 'payment'),
      { action: 'pay', orderId: unpaid.id },
      asUser('alice'),
    );
    const broken = await invoke(
      bundle('broken-key', 'payment'),
      { action: 'pay', orderId: unpaid.id },
      asUser('alice'),
    );
    return { paid, notified, watched, missing, broken };
  });
  expect(result.notified.statusCode).toBe(204);
  expect(await t.order('alice', order.id)).toMatchObject({ status: 'paid' });
  // the key watch found the merchant certificate shipped only to it
  expect(result.watched).toMatchObject({
    mode: 'publicKey',
    checked: [expect.objectContaining({ kind: 'merchant_certificate', id: t.cloud.keys.merchantSerialNo })],
    alerts: [],
  });

  expect(result.missing).toMatchObject({ ok: false, error: { code: 'PAYMENT_PROVIDER_ERROR' } });
  expect(result.broken).toMatchObject({ ok: false, error: { code: 'PAYMENT_PROVIDER_ERROR' } });
  const invalid = lines.filter((l) => l.message.startsWith('WeChat Pay configuration invalid'));
  expect(invalid.map((l) => l.problems)).toEqual([
    [
      'WECHATPAY_MERCHANT_PRIVATE_KEY (or _PATH) is missing',
      'WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY must be set together',
    ],
    ['WECHATPAY_MERCHANT_PRIVATE_KEY is not a PEM private key'],
  ]);

  const fragments = secretFragments(secrets);
  expect(fragments.length).toBeGreaterThan(30);
  expect(leaked(text + JSON.stringify(result), fragments)).toEqual([]);
});

/**
 * Each function gets only what it uses (runtime/profiles.ts): login and the catalogue run with no WeChat Pay setting
 * at all; a WeChat Pay configuration problem fails only the calls that reach WeChat Pay, with one clear log line per
 * paying function naming the variables; the AppSecret is login's alone.
 */
import type { OrderView, PayResponse, Profile } from '../../../typings/api';
import { settingsOf } from '../../../cloudfunctions/common/runtime/profiles';
import { startTestCloud, type TestCloud } from '../../support/localcloud';
import { captureLogs } from '../../support/logs';

jest.setTimeout(30_000);

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

async function withEnv<T>(changes: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(changes).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(changes);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

const wechatpaySettings = () => Object.keys(process.env).filter((name) => name.startsWith('WECHATPAY_'));
const MISCONFIGURED = 'WeChat Pay configuration invalid';

test('login and the catalogue run with no WeChat Pay setting at all', async () => {
  expect(wechatpaySettings().length).toBeGreaterThan(5);
  const { result, lines } = await withEnv(Object.fromEntries(wechatpaySettings().map((n) => [n, undefined])), () =>
    captureLogs(async () => {
      const { code } = t.cloud.wxApi.login('alice');
      return {
        login: await t.call<Profile>('login', { code }, 'alice'),
        catalog: await t.call<{ products: unknown[] }>('catalog', { action: 'list' }, 'alice'),
      };
    }),
  );
  expect(result.login).toMatchObject({ ok: true, data: { openid: t.openid('alice') } });
  expect(result.catalog).toMatchObject({ ok: true });
  expect(result.catalog.ok && result.catalog.data.products.length).toBeGreaterThan(0);
  // not even a warning: neither function looked at WeChat Pay
  expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
});

test('a WeChat Pay configuration problem fails only what pays, logged once per paying function by variable name', async () => {
  const badKey = 'Zq9-not-32-bytes';
  const order = await t.confirm('alice');
  const { result, lines, text } = await withEnv({ WECHATPAY_APIV3_KEY: badKey, WECHATPAY_MCHID: undefined }, () =>
    captureLogs(async () => {
      const { code } = t.cloud.wxApi.login('alice');
      return {
        login: await t.call('login', { code }, 'alice'),
        catalog: await t.call('catalog', { action: 'list' }, 'alice'),
        confirm: await t.call<OrderView>(
          'orders',
          {
            action: 'confirm',
            requestId: 'runtime-test-1',
            items: [{ productId: 'latte', quantity: 1 }],
            contact: { name: '张三', phone: '13800138000' },
          },
          'alice',
        ),
        list: await t.call('orders', { action: 'list' }, 'alice'),
        pay: await t.call('payment', { action: 'pay', orderId: order.id }, 'alice'),
        cancel: await t.call('orders', { action: 'cancel', orderId: order.id }, 'alice'),
      };
    }),
  );
  for (const ok of [result.login, result.catalog, result.confirm, result.list]) expect(ok).toMatchObject({ ok: true });
  // the domain reports a WeChat Pay it cannot use as the provider's unavailability; the log says why
  expect(result.pay).toMatchObject({ ok: false, error: { code: 'PAYMENT_PROVIDER_ERROR' } });
  expect(result.cancel).toMatchObject({ ok: false });

  const misconfigured = lines.filter((l) => l.message.startsWith(MISCONFIGURED));
  expect([...new Set(misconfigured.map((l) => l.function))].sort()).toEqual(['orders', 'payment']);
  for (const line of misconfigured) {
    expect(line).toMatchObject({
      level: 'error',
      problems: expect.arrayContaining(['WECHATPAY_MCHID is missing', 'WECHATPAY_APIV3_KEY must be 32 bytes, got 16']),
    });
  }
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 'error',
      message: 'WeChat Pay unavailable in this function',
      function: 'payment',
    }),
  );
  expect(text).not.toContain(badKey);

  // fixed: the next call rebuilds, and pays
  await expect(
    t.ok<PayResponse>('payment', { action: 'pay', orderId: (result.confirm as { data: OrderView }).data.id }, 'alice'),
  ).resolves.toMatchObject({ params: expect.any(Object) });
});

test("the AppSecret is login's alone: without it login fails, the catalogue and payments answer", async () => {
  const order = await t.confirm('bob');
  const { result, lines } = await withEnv({ WX_APP_SECRET: undefined, WX_APPID: undefined }, () =>
    captureLogs(async () => {
      const { code } = t.cloud.wxApi.login('bob');
      return {
        login: await t.call('login', { code }, 'bob'),
        catalog: await t.call('catalog', { action: 'list' }, 'bob'),
        pay: await t.call<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'bob'),
      };
    }),
  );
  expect(result.login).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  expect(result.catalog).toMatchObject({ ok: true });
  expect(result.pay).toMatchObject({ ok: true });
  expect(lines.find((l) => l.message === 'service misconfigured')).toMatchObject({
    problems: ['WX_APPID is missing', 'WX_APP_SECRET is missing'],
  });
});

test('the alert channels (the webhook URL is a secret) reach only the functions that can raise an alert', () => {
  for (const name of ['login', 'catalog', 'clientLog']) expect(settingsOf(name)).not.toContain('ALERT_WEBHOOK_URL');
  for (const name of ['payNotify', 'reconcile', 'books', 'admin', 'wechatpayKeys'])
    expect(settingsOf(name)).toContain('ALERT_WEBHOOK_URL');
});

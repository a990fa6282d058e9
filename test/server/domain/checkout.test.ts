/**
 * The Native checkout's domain (domain/orders/checkout.ts, money/payments.ts payNative, settlement of Native payments) against an
 * in-memory store and a scripted WeChat Pay: guest orders priced on the server and reached only by their token, the
 * code_url reused and renewed (2 hours, never past the order), Native payments settled by whoever paid, rate limits.
 */
import { createHash } from 'node:crypto';
import {
  checkGuestOrder,
  CHECKOUT_LIMITS,
  createGuestOrder,
  guestOrderId,
  payGuestOrder,
  readGuestOrder,
} from '../../../cloudfunctions/common/domain/orders/checkout';
import { DomainError } from '../../../cloudfunctions/common/domain/errors';
import { PREPAY_LIFETIME_MS } from '../../../cloudfunctions/common/domain/money/payments';
import { RateLimitedError } from '../../../cloudfunctions/common/domain/rate-limit';
import type { OrderDoc, PaymentDoc } from '../../../cloudfunctions/common/domain/records';
import { settleTransaction } from '../../../cloudfunctions/common/domain/money/settlement';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import { seedProducts } from '../../../localcloud/seed';
import {
  APPID,
  createHarness,
  exceptions,
  getOrder,
  getPayment,
  seedUnpaidOrder,
  successTx,
  type Harness,
} from './harness';

let h: Harness;
const ip = { ip: '203.0.113.7' };
let codes = 0;
beforeEach(async () => {
  h = createHarness({ subscribeTemplateId: 'tmpl-paid-0001' });
  for (const product of seedProducts(h.now())) await h.store.insert(COLLECTIONS.products, product);
  h.wx.prepayNative.fallback = () => ({ code_url: `weixin://wxpay/bizpayurl?pr=code${++codes}` });
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

const createOrder = (items = [{ productId: 'latte', quantity: 2 }], client = ip) =>
  createGuestOrder(h.deps, { items }, client);
const codeOf = async (token: string) => (await readGuestOrder(h.deps, token, ip)).order.code;
const rejection = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
};

describe('a guest order', () => {
  test('is priced on the server, keeps only the hash of its token, and answers the token once', async () => {
    const { token, order } = await createOrder([
      { productId: 'latte', quantity: 2 },
      { productId: 'croissant', quantity: 1 },
    ]);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(order).toMatchObject({
      status: 'pending_payment',
      totalFen: 2 * 1990 + 1200,
      items: [expect.objectContaining({ unitPriceFen: 1990 }), expect.objectContaining({ unitPriceFen: 1200 })],
    });
    const tokenHash = createHash('sha256').update(token).digest('hex');
    const stored = await getOrder(h, order.id);
    expect(stored).toMatchObject({ _id: guestOrderId(tokenHash), openid: '', guest: { tokenHash } });
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(order).not.toHaveProperty('contact');
    // prices never come from the client; products off sale or over their limit are refused
    expect(
      (await rejection(createGuestOrder(h.deps, { items: [{ productId: 'latte', quantity: 1, priceFen: 1 }] }, ip)))
        .code,
    ).toBe('INVALID_ARGUMENT');
    expect((await rejection(createOrder([{ productId: 'mooncake-gift', quantity: 1 }]))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(createOrder([{ productId: 'croissant', quantity: 6 }]))).code).toBe('INVALID_ARGUMENT');
  });

  test("is reached by its token only: another order's token, an unknown or malformed one, or a user's order answer NOT_FOUND", async () => {
    const first = await createOrder();
    const second = await createOrder([{ productId: 'americano', quantity: 1 }]);
    expect((await readGuestOrder(h.deps, first.token, ip)).order.id).toBe(first.order.id);
    expect((await readGuestOrder(h.deps, second.token, ip)).order).toMatchObject({
      id: second.order.id,
      totalFen: 1500,
    });
    const unknown = `${first.token.slice(0, -1)}${first.token.endsWith('A') ? 'B' : 'A'}`;
    for (const token of [unknown, '', 'short', first.order.id, undefined, 42])
      expect((await rejection(readGuestOrder(h.deps, token, ip))).code).toBe('NOT_FOUND');
    // the id a token leads to holds an order the token is not the bearer of: a mini-program user's order, or a guest
    // order with another token's hash. Only the stored hash tells them apart, so these reach that comparison.
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const { order: userOrder } = await seedUnpaidOrder(h, 1990);
    const userToken = 'A'.repeat(43);
    await h.store.insert(COLLECTIONS.orders, {
      ...(await getOrder(h, userOrder._id)),
      _id: guestOrderId(sha(userToken)),
    });
    const guestToken = 'B'.repeat(43);
    await h.store.insert(COLLECTIONS.orders, {
      ...(await getOrder(h, first.order.id)),
      _id: guestOrderId(sha(guestToken)),
    });
    for (const token of [userToken, guestToken]) {
      expect(await h.store.getById(COLLECTIONS.orders, guestOrderId(sha(token)))).toBeDefined();
      for (const call of [readGuestOrder, payGuestOrder, checkGuestOrder])
        expect((await rejection(call(h.deps, token, ip))).code).toBe('NOT_FOUND');
    }
    expect(h.wx.prepayNative.calls).toEqual([]);
  });

  test("its price is the server's: a body that names a total, a unit price or a line amount is refused, nothing stored", async () => {
    const before = await h.store.find(COLLECTIONS.orders, {}, { limit: 100 });
    for (const body of [
      { items: [{ productId: 'latte', quantity: 2 }], totalFen: 1 },
      { items: [{ productId: 'latte', quantity: 2, unitPriceFen: 1 }] },
      { items: [{ productId: 'latte', quantity: 2, subtotalFen: 1 }] },
    ])
      expect((await rejection(createGuestOrder(h.deps, body, ip))).code).toBe('INVALID_ARGUMENT');
    expect(await h.store.find(COLLECTIONS.orders, {}, { limit: 100 })).toEqual(before);
    expect((await createOrder()).order.totalFen).toBe(2 * 1990);
  });
});

describe('the code_url', () => {
  test('Native prepay with no payer, the order id as attach and its expiry; reused while it lasts', async () => {
    const { token, order } = await createOrder();
    const paid = await payGuestOrder(h.deps, token, ip);
    expect(h.wx.prepayNative.calls).toEqual([
      {
        appid: APPID,
        description: '拿铁咖啡 等2件',
        out_trade_no: `${order.id}P1`,
        time_expire: '2026-03-01T10:30:00+08:00',
        attach: order.id,
        notify_url: 'https://example.com/pay/notify',
        amount: { total: 3980, currency: 'CNY' },
      },
    ]);
    expect(paid.order.code).toEqual({
      codeUrl: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=code\d+$/),
      expiresAt: order.expiresAt,
      lapsed: false,
    });
    expect(await getPayment(h, `${order.id}P1`)).toMatchObject({
      tradeType: 'NATIVE',
      openid: '',
      status: 'prepaid',
      codeUrl: paid.order.code!.codeUrl,
    });
    expect(h.wx.prepayJsapi.calls).toEqual([]);
    // the page asks again (a reload, a second tab): the same code, no second prepay
    h.advance(10 * 60_000);
    expect((await payGuestOrder(h.deps, token, ip)).order.code!.codeUrl).toBe(paid.order.code!.codeUrl);
    expect(h.wx.prepayNative.calls).toHaveLength(1);
  });

  test('lapses after 2 hours, is renewed on the same out_trade_no with identical fields, and never outlives the order', async () => {
    (h.deps.config as { orderExpiryMinutes: number }).orderExpiryMinutes = 300;
    const { token, order } = await createOrder();
    const first = (await payGuestOrder(h.deps, token, ip)).order.code!;
    expect(first.expiresAt).toBe(h.now() + PREPAY_LIFETIME_MS);
    h.advance(PREPAY_LIFETIME_MS);
    expect(await codeOf(token)).toMatchObject({ codeUrl: first.codeUrl, lapsed: true });
    const second = (await payGuestOrder(h.deps, token, ip)).order.code!;
    expect(second).toMatchObject({ lapsed: false, expiresAt: h.now() + PREPAY_LIFETIME_MS });
    expect(second.codeUrl).not.toBe(first.codeUrl);
    const [a, b] = h.wx.prepayNative.calls;
    expect(b).toEqual(a);
    expect(b!.out_trade_no).toBe(`${order.id}P1`);
    // 4 h in: 2 more hours would pass the order's end at 5 h
    h.advance(PREPAY_LIFETIME_MS);
    expect((await payGuestOrder(h.deps, token, ip)).order.code!.expiresAt).toBe(order.expiresAt);
    // past the order: no code, ORDER_EXPIRED
    h.advance(3600_000);
    expect((await rejection(payGuestOrder(h.deps, token, ip))).code).toBe('ORDER_EXPIRED');
    expect(h.wx.prepayNative.calls).toHaveLength(3);
  });
});

describe('a Native payment settles', () => {
  test('by whoever WeChat Pay reports paid it, with every other proof; no subscribe message for a guest', async () => {
    const { token, order } = await createOrder();
    await payGuestOrder(h.deps, token, ip);
    const payment = (await getPayment(h, `${order.id}P1`))!;
    const scanner = 'o-scanned-by-someone-0009';
    expect(
      await settleTransaction(
        h.deps,
        successTx(payment, { attach: order.id, trade_type: 'NATIVE', payer: { openid: scanner } }),
      ),
    ).toBe('paid');
    const view = (await readGuestOrder(h.deps, token, ip)).order;
    expect(view.status).toBe('paid');
    expect(view).not.toHaveProperty('code');
    expect(h.messages).toEqual([]);
    expect(await exceptions(h)).toEqual([]);
  });

  test('but not without a payer, nor with another order as attach', async () => {
    for (const overrides of [{ payer: {} }, { attach: 'G-SOMETHING-ELSE' }]) {
      const { token, order } = await createOrder();
      await payGuestOrder(h.deps, token, ip);
      const payment = (await getPayment(h, `${order.id}P1`))!;
      expect(
        await settleTransaction(h.deps, successTx(payment, { attach: order.id, trade_type: 'NATIVE', ...overrides })),
      ).toBe('payment_mismatch');
      expect((await getOrder(h, order.id)).status).toBe('pending_payment');
    }
  });

  test('a JSAPI payment still needs the payer it was prepaid for', async () => {
    const { payments } = await seedUnpaidOrder(h, 1990);
    expect(
      await settleTransaction(h.deps, successTx(payments[0]!, { payer: { openid: 'o-scanned-by-someone-0009' } })),
    ).toBe('payment_mismatch');
  });

  test('"我已支付" asks WeChat Pay and settles what it says', async () => {
    const { token, order } = await createOrder();
    await payGuestOrder(h.deps, token, ip);
    const payment = (await getPayment(h, `${order.id}P1`)) as PaymentDoc;
    h.wx.queryByOutTradeNo.answer((no) =>
      successTx(
        { ...payment, _id: no },
        { attach: order.id, trade_type: 'NATIVE', payer: { openid: 'o-scanned-by-someone-0009' } },
      ),
    );
    expect((await checkGuestOrder(h.deps, token, ip)).order.status).toBe('paid');
    expect(h.wx.queryByOutTradeNo.calls).toEqual([`${order.id}P1`]);
    // paid: nothing more to ask
    expect((await checkGuestOrder(h.deps, token, ip)).order.status).toBe('paid');
    expect(h.wx.queryByOutTradeNo.calls).toHaveLength(1);
  });
});

describe('rate limits', () => {
  test('new orders per address: the 11th in 10 minutes waits for the next window; another address is not held', async () => {
    for (let i = 0; i < CHECKOUT_LIMITS.create.max; i++) await createOrder();
    const error = await rejection(createOrder());
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(CHECKOUT_LIMITS.create.windowMs);
    await expect(createOrder(undefined, { ip: '198.51.100.1' })).resolves.toHaveProperty('token');
    h.advance((error as RateLimitedError).retryAfterMs);
    await expect(createOrder()).resolves.toHaveProperty('token');
    expect(await h.store.find<OrderDoc>(COLLECTIONS.orders, {}, { limit: 100 })).toHaveLength(
      CHECKOUT_LIMITS.create.max + 2,
    );
  });

  test('calls per token: the 61st in a minute is refused, another token is not held', async () => {
    const first = await createOrder();
    const second = await createOrder();
    for (let i = 0; i < CHECKOUT_LIMITS.token.max; i++) await readGuestOrder(h.deps, first.token, ip);
    expect(await rejection(readGuestOrder(h.deps, first.token, ip))).toBeInstanceOf(RateLimitedError);
    await expect(readGuestOrder(h.deps, second.token, ip)).resolves.toHaveProperty('order');
  });

  test('asking WeChat Pay per token: at most 6 a minute', async () => {
    const { token, order } = await createOrder();
    await payGuestOrder(h.deps, token, ip);
    h.wx.queryByOutTradeNo.fallback = (no) => ({
      appid: APPID,
      mchid: '1900000109',
      out_trade_no: no,
      trade_state: 'NOTPAY',
    });
    for (let i = 0; i < CHECKOUT_LIMITS.check.max; i++) await checkGuestOrder(h.deps, token, ip);
    expect(await rejection(checkGuestOrder(h.deps, token, ip))).toBeInstanceOf(RateLimitedError);
    expect(h.wx.queryByOutTradeNo.calls).toEqual(Array(CHECKOUT_LIMITS.check.max).fill(`${order.id}P1`));
  });

  test('every call per address, whatever the token, even an unknown one', async () => {
    const { token } = await createOrder();
    const bogus = 'B'.repeat(43);
    for (let i = 1; i < CHECKOUT_LIMITS.ip.max; i++) await rejection(readGuestOrder(h.deps, bogus, ip));
    expect(await rejection(readGuestOrder(h.deps, token, ip))).toBeInstanceOf(RateLimitedError);
    await expect(readGuestOrder(h.deps, token, { ip: '198.51.100.1' })).resolves.toHaveProperty('order');
  });
});

/**
 * Fulfilment moves on the order (domain/fulfilment/) against the in-memory store, with WeChat's order shipping
 * management answered by the local simulator (localcloud/wxapi-sim/shipping.ts) as the domain's WxOrderApi: races
 * decided by one compare-and-set, who may act on what, the pickup code's rate limit, the shipping upload per kind,
 * its retries and the one-update rule, and WeChat's settlement event.
 */
import { DomainError } from '../../../cloudfunctions/common/domain/errors';
import type { WxOrderApi } from '../../../cloudfunctions/common/domain/deps';
import { confirmReceipt, requestAfterSale } from '../../../cloudfunctions/common/domain/fulfilment/buyer';
import { fulfilmentTimer } from '../../../cloudfunctions/common/domain/fulfilment/timer';
import { sendProgressMessage, subscribeProgress } from '../../../cloudfunctions/common/domain/fulfilment/progress';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DELIVERY_COMPANIES,
  staffDeliveryCompanies,
  staffAccept,
  staffComplete,
  staffDecline,
  staffHandOver,
  staffQueue,
  staffReady,
  staffShip,
  staffStart,
} from '../../../cloudfunctions/common/domain/fulfilment/staff';
import { handlePushEvent } from '../../../cloudfunctions/common/domain/fulfilment/wechat-events';
import { createOrderRefund, requestRefund } from '../../../cloudfunctions/common/domain/money/refunds';
import type { OrderDoc } from '../../../cloudfunctions/common/domain/records';
import {
  rfc3339China,
  SHIPPING_ERRCODES,
  UPLOAD_ALERT_AFTER_MS,
} from '../../../cloudfunctions/common/domain/shipping/upload';
import { assignOrder, correctShipping, decideAfterSale } from '../../../cloudfunctions/common/domain/admin/fulfilment';
import { rollUpDay } from '../../../cloudfunctions/common/domain/books/metrics';
import { chinaDate, chinaDayStart } from '../../../cloudfunctions/common/domain/days';
import { COLLECTIONS } from '../../../cloudfunctions/common/store/store';
import type { ProductKind } from '../../../typings/api';
import { ERR, OrderShippingSimulator } from '../../../localcloud/wxapi-sim/shipping';
import {
  ADMIN,
  APPID,
  BUYER,
  createHarness,
  getOrder,
  MCHID,
  refundAnswer,
  seedPaidOrder,
  STAFF_A,
  STAFF_B,
  type Harness,
} from './harness';

let h: Harness;
let sim: OrderShippingSimulator;
let pushed: unknown[];

const as = (openid: string) => ({ openid });
const PRODUCT: Record<ProductKind, string> = { pickup: 'latte', shipping: 'beans-250g', service: 'class-latte-art' };

beforeEach(() => {
  h = createHarness();
  pushed = [];
  sim = new OrderShippingSimulator({
    appid: APPID,
    clock: () => h.now(),
    // the payments the harness seeds are what WeChat Pay took
    lookup: async (outTradeNo) => {
      const order = (await h.store.find<OrderDoc>(COLLECTIONS.orders, { paidOutTradeNo: outTradeNo }, { limit: 1 }))[0];
      return order
        ? {
            outTradeNo,
            transactionId: order.transactionId!,
            mchid: MCHID,
            payerOpenid: order.openid,
            tradeState: order.status === 'refunded' ? 'REFUND' : 'SUCCESS',
            paidAt: order.paidAt!,
          }
        : undefined;
    },
    findByTransactionId: async () => undefined,
    push: async (event) => {
      pushed.push(event);
      return handlePushEvent(h.deps, event);
    },
  });
  const call =
    (api: string) =>
    (body: unknown): Promise<never> =>
      sim.call(api, body) as Promise<never>;
  const wxOrder: WxOrderApi = {
    mchid: MCHID,
    appid: APPID,
    isTradeManaged: call('isTradeManaged'),
    uploadShippingInfo: call('uploadShippingInfo'),
    getOrder: call('getOrder'),
    notifyConfirmReceive: call('notifyConfirmReceive'),
    setMsgJumpPath: call('setMsgJumpPath'),
  };
  h.deps.wxOrder = wxOrder;
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  sim.close();
  await h.close();
});

/** A paid order of one kind, awaiting fulfilment, as checkout and settlement leave it. */
async function paidOf(kind: ProductKind, totalFen = 1990): Promise<OrderDoc> {
  const order = await seedPaidOrder(h, totalFen);
  const productId = PRODUCT[kind];
  await h.store.updateWhere(
    COLLECTIONS.orders,
    { _id: order._id },
    {
      items: [{ productId, title: productId, unitPriceFen: totalFen, quantity: 1, subtotalFen: totalFen }],
      fulfilment: {
        kind,
        state: 'awaiting',
        at: h.now(),
        steps: [],
        ...(kind === 'shipping'
          ? {
              address: {
                userName: '张三',
                telNumber: '13800001234',
                provinceName: '云南省',
                cityName: '昆明市',
                countyName: '五华区',
                detailInfo: '翠湖路 1 号',
              },
            }
          : {}),
      },
    },
  );
  return getOrder(h, order._id);
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('races: one compare-and-set decides', () => {
  test('two staff accepting at once: exactly one wins, the other is told who took it', async () => {
    const order = await paidOf('pickup');
    const results = await Promise.allSettled([
      staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id }),
      staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: order._id }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const after = await getOrder(h, order._id);
    expect(lost[0]!.reason).toMatchObject({ code: 'CONFLICT', message: `已被${after.fulfilment!.staffName}接单` });
    expect(after.fulfilment!.steps).toHaveLength(1);
    expect(await h.store.countWhere(COLLECTIONS.adminLog, { action: 'staff.accept', target: order._id })).toBe(1);
  });

  test('a user refund racing an acceptance: one of them, never both', async () => {
    for (let i = 0; i < 6; i++) {
      const order = await paidOf('pickup');
      h.wx.createRefund.answer((req) => refundAnswer(req, 'PROCESSING'));
      const [refund, accept] = await Promise.allSettled([
        requestRefund(h.deps, as(BUYER), {
          action: 'requestRefund',
          orderId: order._id,
          reason: '不要了',
          requestId: `req-race-${i}`,
        }),
        staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id }),
      ]);
      const after = await getOrder(h, order._id);
      expect([refund.status, accept.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
      if (accept.status === 'fulfilled') {
        expect(after.fulfilment!.state).toBe('accepted');
        expect(Object.keys(after.refundReservations)).toEqual([]);
        h.wx.createRefund.calls.length = 0;
        // the scripted answer was not used: drop it so the harness sees nothing unscripted
        h.wx.createRefund.answer();
      } else {
        expect(after.status).toBe('refunding');
        expect(after.fulfilment!.state).toBe('awaiting');
      }
    }
  });

  test('a user refund read before an acceptance and written after it is refused by its own compare-and-set', async () => {
    const stale = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: stale._id });
    expect(
      await refusal(
        createOrderRefund(h.deps, stale, {
          outRefundNo: `${stale._id}R1`,
          amountFen: stale.paidFen,
          reason: '不要了',
          requestedBy: 'user',
          requestedByOpenid: BUYER,
        }),
      ),
    ).toEqual({ code: 'FAILED_PRECONDITION', message: '订单已被接单，请申请售后' });
    const after = await getOrder(h, stale._id);
    expect(after).toMatchObject({ status: 'paid', refundableFen: stale.paidFen, refundReservations: {} });
  });

  test('after acceptance the buyer cannot refund alone; they ask for an after-sale', async () => {
    const order = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    expect(
      await refusal(
        requestRefund(h.deps, as(BUYER), {
          action: 'requestRefund',
          orderId: order._id,
          reason: 'x',
          requestId: 'req-after-1',
        }),
      ),
    ).toEqual({ code: 'FAILED_PRECONDITION', message: '订单已被接单，请申请售后' });
    const view = await requestAfterSale(h.deps, as(BUYER), {
      action: 'requestAfterSale',
      orderId: order._id,
      reason: '咖啡洒了',
      photos: ['cloud://env-1.bucket/after-sale/1.jpg'],
      requestId: 'req-aftersale-1',
    });
    expect(view.afterSale).toMatchObject({ status: 'requested', reason: '咖啡洒了' });
    expect(view.can).toMatchObject({ requestRefund: false, requestAfterSale: false });
  });

  test('an approved after-sale refunds through the refund path; a second decision is refused', async () => {
    const order = await paidOf('pickup', 3000);
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await requestAfterSale(h.deps, as(BUYER), {
      action: 'requestAfterSale',
      orderId: order._id,
      reason: '少了一杯',
      requestId: 'req-aftersale-2',
    });
    h.wx.createRefund.answer((req) => refundAnswer(req, 'PROCESSING'));
    const decided = await decideAfterSale(h.deps, as(ADMIN), {
      action: 'decideAfterSale',
      orderId: order._id,
      decision: 'partly',
      amountFen: 1000,
      note: '退一杯',
      requestId: 'req-decide-1',
    });
    expect(decided.afterSale).toMatchObject({ status: 'partly_approved', amountFen: 1000, decisionNote: '退一杯' });
    expect(h.wx.createRefund.calls.map((c) => c.amount.refund)).toEqual([1000]);
    expect(
      await refusal(
        decideAfterSale(h.deps, as(ADMIN), {
          action: 'decideAfterSale',
          orderId: order._id,
          decision: 'decline',
          note: 'x',
          requestId: 'req-decide-2',
        }),
      ),
    ).toMatchObject({ code: 'CONFLICT' });
  });
});

describe('who may act on what', () => {
  test('a staff member acting on an order another holds gets FORBIDDEN; a non-staff caller too', async () => {
    const order = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    expect(await refusal(staffReady(h.deps, as(STAFF_B), { action: 'ready', orderId: order._id }))).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await refusal(staffReady(h.deps, as(BUYER), { action: 'ready', orderId: order._id }))).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await getOrder(h, order._id)).fulfilment!.state).toBe('accepted');
  });

  test('nothing a buyer sends picks the state: a stray field is refused and changes nothing', async () => {
    const order = await paidOf('shipping');
    expect(
      await refusal(
        confirmReceipt(h.deps, as(BUYER), { action: 'confirmReceipt', orderId: order._id, state: 'received' }),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // and the move itself is refused until the order was shipped
    expect(
      await refusal(confirmReceipt(h.deps, as(BUYER), { action: 'confirmReceipt', orderId: order._id })),
    ).toMatchObject({
      code: 'CONFLICT',
    });
    expect((await getOrder(h, order._id)).fulfilment!.state).toBe('awaiting');
  });

  test('a service only the staff who may take it see and take; declined, it is back in the queue', async () => {
    const order = await paidOf('service', 19900);
    expect((await staffQueue(h.deps, as(STAFF_B), { action: 'queue' })).orders.map((o) => o.id)).toEqual([]);
    expect(await refusal(staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: order._id }))).toMatchObject({
      code: 'FORBIDDEN',
    });
    await assignOrder(h.deps, as(ADMIN), { action: 'assign', orderId: order._id, staffOpenid: STAFF_A });
    await staffDecline(h.deps, as(STAFF_A), { action: 'decline', orderId: order._id, reason: '那天不在' });
    const back = await getOrder(h, order._id);
    expect(back.fulfilment).toMatchObject({ state: 'awaiting' });
    expect(back.fulfilment!.staffOpenid).toBeUndefined();
    expect((await staffQueue(h.deps, as(STAFF_A), { action: 'queue' })).orders.map((o) => o.id)).toEqual([order._id]);
  });

  test('a wrong pickup code is refused and rate-limited per order; the right one then waits for the window', async () => {
    const order = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: order._id });
    const code = (await getOrder(h, order._id)).fulfilment!.pickupCode!;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++)
      expect(
        await refusal(
          staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: wrong }),
        ),
      ).toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    expect(
      await refusal(staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: code })),
    ).toMatchObject({
      code: 'UNAVAILABLE',
    });
    h.advance(10 * 60_000);
    const done = await staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: code });
    expect(done.fulfilment.state).toBe('picked_up');
  });
});

describe('the shipping upload per kind, against the simulator', () => {
  test('pickup handed over: logistics_type 4, payer openid, upload_time in +08:00; WeChat says 已发货', async () => {
    const order = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: order._id });
    const { pickupCode } = (await getOrder(h, order._id)).fulfilment!;
    await staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: pickupCode! });
    const after = await getOrder(h, order._id);
    expect(after.wxShipping).toMatchObject({ status: 'uploaded', logisticsType: 4, attempts: 1 });
    expect(after.wxShipping!.uploadTime).toBe(rfc3339China(h.now()));
    expect(after.wxShipping!.uploadTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/);
    const wx = sim.orders.get(order.paidOutTradeNo!)!;
    expect(wx).toMatchObject({ state: 2, payerOpenid: BUYER });
    expect(wx.uploads[0]).toMatchObject({ logisticsType: 4 });
  });

  test('shipped: logistics_type 1 with the express company and tracking number; completed service: 3', async () => {
    const parcel = await paidOf('shipping', 6800);
    await staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: parcel._id });
    await staffShip(h.deps, as(STAFF_B), {
      action: 'ship',
      orderId: parcel._id,
      expressCompany: 'SF',
      trackingNo: 'SF1234567890',
    });
    expect(sim.orders.get(parcel.paidOutTradeNo!)!.uploads[0]).toMatchObject({
      logisticsType: 1,
      shippingList: [
        { express_company: 'SF', tracking_no: 'SF1234567890', contact: { receiver_contact: '138****1234' } },
      ],
    });
    const lesson = await paidOf('service', 19900);
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: lesson._id });
    await staffStart(h.deps, as(STAFF_A), { action: 'start', orderId: lesson._id });
    await staffComplete(h.deps, as(STAFF_A), { action: 'complete', orderId: lesson._id });
    expect(sim.orders.get(lesson.paidOutTradeNo!)!.uploads[0]).toMatchObject({ logisticsType: 3 });
    expect((await getOrder(h, lesson._id)).fulfilment!.steps.map((s) => s.state)).toEqual([
      'accepted',
      'in_service',
      'completed',
    ]);
  });

  test('a failed upload is retried by the timer with backoff, and alerts after a day', async () => {
    const raised: string[] = [];
    h.deps.alerts = { raise: async (a) => void raised.push(a.cause) };
    const order = await paidOf('pickup');
    sim.setFault('uploadShippingInfo', ERR.busy, null);
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: order._id });
    const { pickupCode } = (await getOrder(h, order._id)).fulfilment!;
    await staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: pickupCode! });
    let w = (await getOrder(h, order._id)).wxShipping!;
    expect(w).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: `${ERR.busy} simulated fault on uploadShippingInfo`,
    });
    expect(w.nextAttemptAt).toBe(h.now() + 60_000);
    // not due yet: the timer leaves it
    expect((await fulfilmentTimer(h.deps)).uploads.failed).toBe(0);
    h.advance(60_000);
    expect((await fulfilmentTimer(h.deps)).uploads.failed).toBe(1);
    w = (await getOrder(h, order._id)).wxShipping!;
    expect(w.nextAttemptAt).toBe(h.now() + 120_000);
    expect(raised.filter((c) => c.startsWith('shipping_upload:'))).toEqual([]);
    h.advance(UPLOAD_ALERT_AFTER_MS);
    await fulfilmentTimer(h.deps);
    expect(raised.filter((c) => c.startsWith('shipping_upload:'))).toEqual([`shipping_upload:${order._id}`]);
    sim.setFault('uploadShippingInfo', 0);
    h.advance(3600_000);
    await fulfilmentTimer(h.deps);
    expect((await getOrder(h, order._id)).wxShipping).toMatchObject({ status: 'uploaded' });
    expect(sim.orders.get(order.paidOutTradeNo!)!.state).toBe(2);
  });

  test('not managed: nothing is uploaded, and the order says so', async () => {
    sim.tradeManaged = false;
    const order = await paidOf('service', 19900);
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await staffStart(h.deps, as(STAFF_A), { action: 'start', orderId: order._id });
    await staffComplete(h.deps, as(STAFF_A), { action: 'complete', orderId: order._id });
    expect((await getOrder(h, order._id)).wxShipping).toMatchObject({ status: 'not_managed' });
    expect(sim.orders.get(order.paidOutTradeNo!)).toBeUndefined();
  });

  test('one update only: the correction is uploaded once, a second is refused before WeChat', async () => {
    const order = await paidOf('shipping', 6800);
    await staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: order._id });
    await staffShip(h.deps, as(STAFF_B), {
      action: 'ship',
      orderId: order._id,
      expressCompany: 'ZTO',
      trackingNo: 'ZT0000000001',
    });
    h.advance(1000);
    const corrected = await correctShipping(h.deps, as(ADMIN), {
      action: 'correctShipping',
      orderId: order._id,
      expressCompany: 'YTO',
      trackingNo: 'YT0000000002',
      confirmLast: true,
    });
    expect(corrected.wechatShipping).toMatchObject({ status: 'uploaded', canCorrect: false });
    expect(sim.orders.get(order.paidOutTradeNo!)!.uploads.map((u) => u.shippingList)).toEqual([
      [expect.objectContaining({ express_company: 'ZTO' })],
      [expect.objectContaining({ express_company: 'YTO', tracking_no: 'YT0000000002' })],
    ]);
    expect(
      await refusal(
        correctShipping(h.deps, as(ADMIN), {
          action: 'correctShipping',
          orderId: order._id,
          expressCompany: 'SF',
          trackingNo: 'SF0000000003',
          confirmLast: true,
        }),
      ),
    ).toMatchObject({ code: 'FAILED_PRECONDITION' });
    // and WeChat itself refuses a third upload (the simulator holds the rule too)
    const third = await sim.call('uploadShippingInfo', {
      order_key: { order_number_type: 1, mchid: MCHID, out_trade_no: order.paidOutTradeNo },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [{ tracking_no: 'SF0000000003', express_company: 'SF', item_desc: 'x' }],
      upload_time: rfc3339China(h.now() + 5000),
      payer: { openid: BUYER },
    });
    expect(third.errcode).toBe(SHIPPING_ERRCODES.updateUsed);
  });

  test('the simulator refuses what WeChat documents it refuses', async () => {
    const order = await paidOf('pickup');
    const base = {
      order_key: { order_number_type: 1, mchid: MCHID, out_trade_no: order.paidOutTradeNo },
      logistics_type: 4,
      delivery_mode: 1,
      shipping_list: [{ item_desc: '拿铁*1' }],
      upload_time: rfc3339China(h.now()),
      payer: { openid: BUYER },
    };
    const code = async (body: object) => (await sim.call('uploadShippingInfo', { ...base, ...body })).errcode;
    expect(await code({ order_key: { order_number_type: 1, mchid: MCHID, out_trade_no: 'NOPE' } })).toBe(
      ERR.orderNotFound,
    );
    expect(await code({ logistics_type: 5 })).toBe(ERR.invalidLogisticsType);
    expect(
      await code({ logistics_type: 1, shipping_list: [{ item_desc: 'x', tracking_no: '1', express_company: 'NOPE' }] }),
    ).toBe(ERR.invalidExpressCompany);
    expect(await code({ upload_time: '2026-03-01 10:00:00' })).toBe(ERR.invalidUploadTime);
    expect(await code({ shipping_list: [{ item_desc: '' }] })).toBe(ERR.itemDescEmpty);
    expect(await code({})).toBe(0);
    // before payment: an order whose payment WeChat Pay never took is not found in shipping management
    await h.store.updateWhere(COLLECTIONS.orders, { _id: order._id }, { status: 'refunded' });
    sim.orders.clear();
    expect(await code({ upload_time: rfc3339China(h.now() + 10) })).toBe(ERR.notShippable);
  });
});

describe("WeChat's settlement event", () => {
  test.each([
    [1, 'wechat_auto'],
    [2, 'wechat_buyer'],
  ] as const)('confirm_receive_method %i moves a shipped order to received (%s)', async (method, receivedBy) => {
    const order = await paidOf('shipping', 6800);
    await staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: order._id });
    await staffShip(h.deps, as(STAFF_B), {
      action: 'ship',
      orderId: order._id,
      expressCompany: 'SF',
      trackingNo: 'SF1234567890',
    });
    await sim.confirmReceipt(order.paidOutTradeNo!, method);
    // the confirmation event carries no method (WeChat: only on settlement): the order is received all the same
    expect((await getOrder(h, order._id)).fulfilment).toMatchObject({ state: 'received', receivedBy: 'wechat_buyer' });
    await sim.settle(order.paidOutTradeNo!);
    const after = await getOrder(h, order._id);
    expect(after.wxShipping!.settledAt).toBeDefined();
    expect(after.timeline.map((t) => t.event)).toContain('wechat_settled');
    expect(sim.orders.get(order.paidOutTradeNo!)!.state).toBe(4);
    // the method is kept as WeChat sent it, on the settlement event
    expect(pushed[1]).toMatchObject({ Event: 'trade_manage_order_settlement', confirm_receive_method: method });
    void receivedBy;
  });

  test('a settlement event carrying the method moves the order with it; a repeat delivery is handled once', async () => {
    for (const [method, receivedBy] of [
      [1, 'wechat_auto'],
      [2, 'wechat_buyer'],
    ] as const) {
      const order = await paidOf('shipping', 6800);
      await staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: order._id });
      await staffShip(h.deps, as(STAFF_B), {
        action: 'ship',
        orderId: order._id,
        expressCompany: 'SF',
        trackingNo: `SF00000${method}`,
      });
      const event = {
        ToUserName: 'gh_x',
        FromUserName: 'o_platform',
        CreateTime: Math.floor(h.now() / 1000),
        MsgType: 'event',
        Event: 'trade_manage_order_settlement',
        merchant_id: MCHID,
        merchant_trade_no: order.paidOutTradeNo,
        confirm_receive_method: method,
        confirm_receive_time: Math.floor(h.now() / 1000),
        settlement_time: Math.floor(h.now() / 1000),
      };
      expect(await handlePushEvent(h.deps, event)).toBe('received');
      expect(await handlePushEvent(h.deps, event)).toBe('duplicate');
      expect((await getOrder(h, order._id)).fulfilment).toMatchObject({ state: 'received', receivedBy });
    }
  });

  test('WeChat reminders raise alerts', async () => {
    const raised: string[] = [];
    h.deps.alerts = { raise: async (a) => void raised.push(a.cause) };
    await sim.remind('trade_manage_remind_access_api');
    await sim.remind('trade_manage_remind_shipping');
    expect(raised.map((c) => c.split(':')[0])).toEqual([
      'trade_manage_remind_access_api',
      'trade_manage_remind_shipping',
    ]);
  });
});

describe('the reconcile timer', () => {
  test('tells the staff once of a new paid order, and alerts once when nobody accepted in time', async () => {
    const raised: string[] = [];
    h.deps.alerts = { raise: async (a) => void raised.push(a.cause) };
    const order = await paidOf('pickup');
    expect(await fulfilmentTimer(h.deps)).toMatchObject({ noticesSent: 1, lateAlerts: 0 });
    expect(await fulfilmentTimer(h.deps)).toMatchObject({ noticesSent: 0, lateAlerts: 0 });
    h.advance(h.deps.config.fulfilAcceptAlertMinutes * 60_000);
    expect(await fulfilmentTimer(h.deps)).toMatchObject({ noticesSent: 0, lateAlerts: 1 });
    expect(await fulfilmentTimer(h.deps)).toMatchObject({ lateAlerts: 0 });
    expect(raised).toEqual([`new_order:${order._id}:0`, `not_accepted:${order._id}`]);
  });
});

describe('daily metrics', () => {
  test("the day's paid orders: steps reached, medians to accept and to done, uploads pending and failed", async () => {
    const a = await paidOf('pickup');
    const b = await paidOf('pickup');
    await paidOf('shipping', 6800);
    h.advance(60_000);
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: a._id });
    h.advance(60_000);
    await staffAccept(h.deps, as(STAFF_B), { action: 'accept', orderId: b._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: a._id });
    sim.setFault('uploadShippingInfo', ERR.busy, 1);
    h.advance(60_000);
    const { pickupCode } = (await getOrder(h, a._id)).fulfilment!;
    await staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: a._id, pickupCode: pickupCode! });
    const date = chinaDate(a.paidAt!);
    const metrics = await rollUpDay(h.deps, date, chinaDayStart(date)!);
    expect(metrics.fulfilment).toEqual({
      accepted: 2,
      ready: 1,
      handedOver: 1,
      shipped: 0,
      completed: 0,
      // 60 s and 120 s from paid to accepted; 180 s from paid to handed over
      medianSecondsToAccept: 90,
      medianSecondsToComplete: 180,
      uploadsPending: 0,
      uploadsFailed: 1,
    });
  });
});

describe("where the shared note and WeChat's docs part ways", () => {
  test("get_delivery_list has no cloud call (WeChat: 本接口不支持云调用): staff choose from the backend's list", async () => {
    const answer = await staffDeliveryCompanies(h.deps, as(STAFF_A), { action: 'deliveryCompanies' });
    expect(answer.companies).toEqual(DELIVERY_COMPANIES);
    expect(answer.companies.map((c) => c.id)).toEqual(expect.arrayContaining(['SF', 'ZTO', 'YTO', 'JD']));
    const dir = join(__dirname, '../../../cloudfunctions');
    const permissions = readdirSync(dir)
      .filter((f) => existsSync(join(dir, f, 'config.json')))
      .flatMap(
        (f) =>
          (JSON.parse(readFileSync(join(dir, f, 'config.json'), 'utf8')) as { permissions?: { openapi?: string[] } })
            .permissions?.openapi ?? [],
      );
    expect(permissions).toContain('wxa.sec.order.uploadShippingInfo');
    expect(permissions.filter((p) => /delivery/i.test(p))).toEqual([]);
  });
});

describe("the buyer's progress message", () => {
  test('sent once when ready, only after the buyer accepted it; none for another template or without acceptance', async () => {
    h.deps.config = { ...h.deps.config, progressSubscribeTemplateId: 'TPL_progress_01' };
    const silent = await paidOf('pickup');
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: silent._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: silent._id });
    expect(h.messages).toEqual([]);

    const order = await paidOf('pickup');
    expect(
      await refusal(
        subscribeProgress(h.deps, as(BUYER), {
          action: 'subscribeProgress',
          orderId: order._id,
          templateId: 'TPL_other',
        }),
      ),
    ).toMatchObject({ code: 'FAILED_PRECONDITION' });
    await subscribeProgress(h.deps, as(BUYER), {
      action: 'subscribeProgress',
      orderId: order._id,
      templateId: 'TPL_progress_01',
    });
    await staffAccept(h.deps, as(STAFF_A), { action: 'accept', orderId: order._id });
    await staffReady(h.deps, as(STAFF_A), { action: 'ready', orderId: order._id });
    const { pickupCode } = (await getOrder(h, order._id)).fulfilment!;
    expect(h.messages).toEqual([
      expect.objectContaining({
        touser: BUYER,
        templateId: 'TPL_progress_01',
        data: expect.objectContaining({
          phrase3: { value: '待取餐' },
          thing4: { value: `待取餐，取餐码 ${pickupCode}` },
        }),
      }),
    ]);
    // a retried move sends nothing more: the acceptance was claimed
    h.advance(1000);
    expect(await sendProgressMessage(h.deps, await getOrder(h, order._id))).toBe(false);
    await staffHandOver(h.deps, as(STAFF_A), { action: 'handOver', orderId: order._id, pickupCode: pickupCode! });
    expect(h.messages).toHaveLength(1);
  });
});

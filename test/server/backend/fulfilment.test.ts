/**
 * Fulfilment on the local cloud: the buyer's tap to a staff member's completion and WeChat's settlement event, through
 * the real functions (orders, payment, staff, admin, reconcile, msgPush), the WeChat Pay simulator and the WeChat API
 * simulator's order shipping management.
 */
import type {
  AdminOrderView,
  FulfilmentSummaryResponse,
  OrderView,
  StaffOrderView,
  StaffQueueResponse,
} from '../../../typings/api';
import { startTestCloud, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
const address = {
  userName: '张三',
  telNumber: '13800001234',
  provinceName: '云南省',
  cityName: '昆明市',
  countyName: '五华区',
  detailInfo: '翠湖路 1 号',
};

beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin', STAFF_OPENIDS: 'placeholder_staff' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  process.env.STAFF_OPENIDS = `${t.openid('barista')}:小王:class-latte-art,${t.openid('packer')}:小李`;
});
afterAll(() => t.close());

test('shipping: confirmed with an address, paid, taken, shipped, uploaded, received by WeChat and settled', async () => {
  expect(
    await t.call(
      'orders',
      {
        action: 'confirm',
        requestId: 'req-beans-noaddr',
        items: [{ productId: 'beans-250g', quantity: 1 }],
        contact: { name: '张三', phone: '13800138000' },
      },
      'alice',
    ),
  ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'address' } });
  const confirmed = await t
    .ok<OrderView>(
      'orders',
      {
        action: 'confirm',
        requestId: 'req-beans-0001',
        items: [{ productId: 'beans-250g', quantity: 1 }],
        contact: { name: '张三', phone: '13800138000' },
        address: { ...address, errMsg: 'chooseAddress:ok', nationalCode: '530102' },
      },
      'alice',
    )
    .catch(() => undefined);
  // wx.chooseAddress's extra fields are not part of an address: refused, not silently kept
  expect(confirmed).toBeUndefined();
  const order = await t.ok<OrderView>(
    'orders',
    {
      action: 'confirm',
      requestId: 'req-beans-0002',
      items: [{ productId: 'beans-250g', quantity: 1 }],
      contact: { name: '张三', phone: '13800138000' },
      address,
    },
    'alice',
  );
  expect(order.fulfilment).toBeUndefined();
  const paid = await t.payAndWait('alice', order.id);
  expect(paid.fulfilment).toMatchObject({ kind: 'shipping', state: 'awaiting', address });
  expect(paid.can).toMatchObject({ requestRefund: true, requestAfterSale: false, confirmReceipt: false });

  const queue = await t.ok<StaffQueueResponse>('staff', { action: 'queue' }, 'packer');
  const seen = queue.orders.find((o) => o.id === order.id)!;
  expect(seen.contact.phone).toBe('138****8000');
  expect(seen.fulfilment.address!.telNumber).toBe('138****1234');
  expect(await t.call('staff', { action: 'queue' }, 'alice')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });

  await t.ok<StaffOrderView>('staff', { action: 'accept', orderId: order.id }, 'packer');
  expect(await t.call('staff', { action: 'accept', orderId: order.id }, 'barista')).toMatchObject({
    ok: false,
    error: { code: 'CONFLICT', message: '已被小李接单' },
  });
  const shipped = await t.ok<StaffOrderView>(
    'staff',
    { action: 'ship', orderId: order.id, expressCompany: 'SF', trackingNo: 'SF1234567890' },
    'packer',
  );
  expect(shipped.fulfilment).toMatchObject({
    state: 'shipped',
    shipping: { expressName: '顺丰速运', trackingNo: 'SF1234567890' },
  });
  const outTradeNo = (await t.ok<AdminOrderView>('admin', { action: 'getOrder', orderId: order.id }, 'admin'))
    .payments[0]!.outTradeNo;
  expect(t.cloud.shipping.orders.get(outTradeNo)).toMatchObject({ state: 2 });
  const buyerView = await t.order('alice', order.id);
  expect(buyerView.can.confirmReceipt).toBe(true);
  expect(buyerView.fulfilment!.receiptComponent).toMatchObject({ merchantTradeNo: outTradeNo });

  // the buyer confirms in WeChat; WeChat pushes the settlement event to msgPush
  await t.cloud.shipping.confirmReceipt(outTradeNo, 2);
  await t.cloud.shipping.settle(outTradeNo);
  expect(t.cloud.shipping.pushed.map((p) => p.result)).toEqual(['success', 'success']);
  const received = await t.order('alice', order.id);
  expect(received.fulfilment).toMatchObject({ state: 'received', receivedBy: 'wechat_buyer' });
  expect(received.fulfilment!.steps.map((s) => s.state)).toEqual(['accepted', 'shipped', 'received']);
  expect(received.timeline.map((e) => e.event)).toEqual([
    'created',
    'payment_started',
    'paid',
    'fulfil_accepted',
    'fulfil_shipped',
    'shipping_uploaded',
    'fulfil_received',
    'wechat_settled',
  ]);
});

test('pickup: the code only the buyer sees, handed over against it, uploaded as buyer pick-up', async () => {
  const order = await t.confirm('bob', [{ productId: 'latte', quantity: 1 }]);
  await t.payAndWait('bob', order.id);
  await t.ok('staff', { action: 'accept', orderId: order.id }, 'barista');
  const ready = await t.ok<StaffOrderView>('staff', { action: 'ready', orderId: order.id }, 'barista');
  expect(ready.fulfilment.pickupCode).toBeUndefined();
  const { pickupCode } = (await t.order('bob', order.id)).fulfilment!;
  expect(pickupCode).toMatch(/^\d{6}$/);
  expect(await t.call('staff', { action: 'handOver', orderId: order.id, pickupCode }, 'packer')).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
  const done = await t.ok<StaffOrderView>('staff', { action: 'handOver', orderId: order.id, pickupCode }, 'barista');
  expect(done.fulfilment.state).toBe('picked_up');
  const admin = await t.ok<AdminOrderView>('admin', { action: 'getOrder', orderId: order.id }, 'admin');
  expect(admin.wechatShipping).toMatchObject({ status: 'uploaded', logisticsType: 4, canCorrect: false });
});

test('the reconcile timer tells the staff of a new paid order once; the admin home counts it', async () => {
  const order = await t.confirm('carol', [{ productId: 'croissant', quantity: 1 }]);
  await t.payAndWait('carol', order.id);
  const before = t.cloud.wecom.messages.length;
  await t.cloud.host.runTimer('reconcile');
  await t.cloud.host.runTimer('reconcile');
  const notices = t.cloud.wecom.messages.slice(before).filter((m) => JSON.stringify(m).includes(order.id));
  expect(notices).toHaveLength(1);
  const home = await t.ok<FulfilmentSummaryResponse>('admin', { action: 'fulfilmentSummary' }, 'admin');
  expect(home).toMatchObject({ isTradeManaged: true });
  expect(home.waitingForStaff).toBeGreaterThanOrEqual(1);
});

test('msgPush refuses a call from the mini-program (a user in the context) and changes nothing', async () => {
  const events = async () => (await t.cloud.engine.database().collection('wx_events').count()).total;
  const before = await events();
  const result = await t.call(
    'msgPush',
    {
      ToUserName: 'gh_x',
      FromUserName: 'x',
      CreateTime: 1,
      MsgType: 'event',
      Event: 'trade_manage_order_settlement',
      merchant_trade_no: 'X',
    },
    'alice',
  );
  expect(result).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  // a client naming itself as the sender is still a client (SOURCE wx_client)
  const forged = await t.call(
    'msgPush',
    {
      ToUserName: 'gh_x',
      FromUserName: t.openid('alice'),
      CreateTime: 1,
      MsgType: 'event',
      Event: 'trade_manage_order_settlement',
      merchant_trade_no: 'X',
    },
    'alice',
  );
  expect(forged).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(await events()).toBe(before);
});

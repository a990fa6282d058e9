/**
 * What the scripted backend answers, typed by the API contract: the page tests' fixtures, and the pictures'
 * (`npm run screenshots`, scripts/pictures/screenshots.ts), which show a fuller shop on the same clock.
 */
import type { AdminOrderView, DailyMetrics, ExceptionView, OrderView, Product, StatementView } from '../../typings/api';

/** the fixtures' clock: 14:00 on 2026-11-23 (local time) */
export const NOW = new Date(2026, 10, 23, 14, 0).getTime();
export const MIN = 60_000;

// ---- the page tests ---------------------------------------------------------------------------------------------

export const products: Product[] = [
  { id: 'latte', title: '拿铁咖啡', description: '中杯', priceFen: 1990, maxPerOrder: 10, kind: 'pickup' },
  { id: 'croissant', title: '黄油可颂', description: '每日现烤', priceFen: 1200, maxPerOrder: 5, kind: 'pickup' },
];

export function orderView(overrides: Partial<OrderView> = {}): OrderView {
  return {
    id: 'O1234567890ABCDEF1234',
    status: 'pending_payment',
    items: [{ productId: 'latte', title: '拿铁咖啡', unitPriceFen: 1990, quantity: 2, subtotalFen: 3980 }],
    totalFen: 3980,
    paidFen: 0,
    refundedFen: 0,
    refundableFen: 0,
    contact: { name: '张三', phone: '13800138000' },
    remark: '',
    createdAt: NOW,
    expiresAt: NOW + 30 * 60_000,
    timeline: [{ at: NOW, event: 'created' }],
    refunds: [],
    can: { pay: true, cancel: true, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
    ...overrides,
  };
}

export const paidOrder = (overrides: Partial<OrderView> = {}) =>
  orderView({
    status: 'paid',
    paidFen: 3980,
    refundableFen: 3980,
    paidAt: NOW + 60_000,
    timeline: [
      { at: NOW, event: 'created' },
      { at: NOW + 10_000, event: 'payment_started' },
      { at: NOW + 60_000, event: 'paid' },
    ],
    can: { pay: false, cancel: false, requestRefund: true, confirmReceipt: false, requestAfterSale: false },
    ...overrides,
  });

// ---- the pictures -----------------------------------------------------------------------------------------------

/** the moment the pictures are taken: twelve minutes after the unpaid order was made */
export const SHOT_AT = NOW + 12 * MIN;

export const shotProducts: Product[] = [
  {
    id: 'latte',
    title: '拿铁咖啡',
    description: '现磨浓缩与鲜牛奶，中杯',
    priceFen: 1990,
    maxPerOrder: 10,
    kind: 'pickup',
    image: '/assets/products/latte.png',
  },
  {
    id: 'americano',
    title: '美式咖啡',
    description: '双份浓缩，中杯',
    priceFen: 1500,
    maxPerOrder: 10,
    kind: 'pickup',
    image: '/assets/products/americano.png',
  },
  {
    id: 'croissant',
    title: '黄油可颂',
    description: '法国黄油，每日现烤',
    priceFen: 1200,
    maxPerOrder: 5,
    kind: 'pickup',
    image: '/assets/products/croissant.png',
  },
  {
    id: 'beans-250g',
    title: '云南咖啡豆 250g',
    description: '中度烘焙，保山小粒',
    priceFen: 6800,
    maxPerOrder: 3,
    kind: 'shipping',
    image: '/assets/products/beans-250g.png',
  },
  {
    id: 'class-latte-art',
    title: '拉花体验课',
    description: '周末小班课，含两杯咖啡',
    priceFen: 19900,
    maxPerOrder: 2,
    kind: 'service',
    serviceStartsAt: NOW + 7 * 24 * 60 * MIN,
    image: '/assets/products/class-latte-art.png',
  },
  {
    id: 'sample-1fen',
    title: '一分钱测试商品',
    description: '用于联调支付流程（没有图片时显示占位）',
    priceFen: 1,
    maxPerOrder: 1,
    kind: 'pickup',
  },
];

/** the pictures' unpaid order: two lines and a remark */
export function shotOrder(overrides: Partial<OrderView> = {}): OrderView {
  return orderView({
    id: 'O7F3A9C2B1D4E5F60718',
    items: [
      { productId: 'latte', title: '拿铁咖啡', unitPriceFen: 1990, quantity: 2, subtotalFen: 3980 },
      { productId: 'croissant', title: '黄油可颂', unitPriceFen: 1200, quantity: 1, subtotalFen: 1200 },
    ],
    totalFen: 5180,
    remark: '少冰，谢谢',
    ...overrides,
  });
}

export const shotPaid = (overrides: Partial<OrderView> = {}) =>
  shotOrder({
    status: 'paid',
    paidFen: 5180,
    refundableFen: 5180,
    paidAt: NOW + 2 * MIN,
    timeline: [
      { at: NOW, event: 'created' },
      { at: NOW + MIN, event: 'payment_started' },
      { at: NOW + 2 * MIN, event: 'paid' },
    ],
    can: { pay: false, cancel: false, requestRefund: true, confirmReceipt: false, requestAfterSale: false },
    ...overrides,
  });

export const shotRefunding = shotPaid({
  status: 'refunding',
  refundableFen: 0,
  can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
  refunds: [
    {
      outRefundNo: 'O7F3A9C2B1D4E5F60718R1A2B3C4D5E',
      amountFen: 5180,
      reason: '时间冲突，无法参加',
      status: 'processing',
      requestedBy: 'user',
      createdAt: NOW + 90 * MIN,
    },
  ],
  timeline: [
    { at: NOW, event: 'created' },
    { at: NOW + MIN, event: 'payment_started' },
    { at: NOW + 2 * MIN, event: 'paid' },
    { at: NOW + 90 * MIN, event: 'refund_requested' },
  ],
});

export const shotReview = shotOrder({
  status: 'review',
  can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
  timeline: [
    { at: NOW, event: 'created' },
    { at: NOW + MIN, event: 'payment_started' },
    { at: NOW + 2 * MIN, event: 'review' },
  ],
});

export const shotOrderList: OrderView[] = [
  shotOrder(),
  shotPaid({
    id: 'O1C2D3E4F5A6B7C8D9E0',
    items: [{ productId: 'beans-250g', title: '云南咖啡豆 250g', unitPriceFen: 6800, quantity: 1, subtotalFen: 6800 }],
    totalFen: 6800,
    createdAt: NOW - 60 * MIN,
  }),
  { ...shotRefunding, id: 'O0A1B2C3D4E5F6A7B8C9', createdAt: NOW - 26 * 60 * MIN },
  shotOrder({
    id: 'O9F8E7D6C5B4A3928170',
    status: 'closed',
    createdAt: NOW - 50 * 60 * MIN,
    can: { pay: false, cancel: false, requestRefund: false, confirmReceipt: false, requestAfterSale: false },
  }),
];

// the merchant's side
export const shotExceptions: ExceptionView[] = [
  {
    id: 'amount_mismatch:O5D6E7F8A9B0C1D2E3F4P1',
    kind: 'amount_mismatch',
    status: 'open',
    orderId: 'O5D6E7F8A9B0C1D2E3F4',
    outTradeNo: 'O5D6E7F8A9B0C1D2E3F4P1',
    transactionId: '4200002026112314052288731190',
    expectedFen: 5180,
    actualFen: 4980,
    detail: 'WeChat Pay total 4980 fen, payment 5180 fen',
    firstSeenAt: NOW - 30 * MIN,
    lastSeenAt: NOW - 28 * MIN,
    occurrences: 2,
  },
  {
    id: 'abnormal_refund:O0A1B2C3D4E5F6A7B8C9R7F2E1D0C9B',
    kind: 'abnormal_refund',
    status: 'open',
    orderId: 'O0A1B2C3D4E5F6A7B8C9',
    outRefundNo: 'O0A1B2C3D4E5F6A7B8C9R7F2E1D0C9B',
    actualFen: 5180,
    detail: 'REFUND.ABNORMAL: the user’s bank card refused the refund',
    firstSeenAt: NOW - 3 * 60 * MIN,
    lastSeenAt: NOW - 5 * MIN,
    occurrences: 4,
  },
  {
    id: 'duplicate_charge:O3A4B5C6D7E8F9A0B1C2P2',
    kind: 'duplicate_charge',
    status: 'open',
    orderId: 'O3A4B5C6D7E8F9A0B1C2',
    outTradeNo: 'O3A4B5C6D7E8F9A0B1C2P2',
    actualFen: 1990,
    detail: 'a second successful payment for order O3A4B5C6D7E8F9A0B1C2 (paid): refunded in full automatically',
    firstSeenAt: NOW - 2 * 24 * 60 * MIN,
    lastSeenAt: NOW - 2 * 24 * 60 * MIN,
    occurrences: 1,
  },
];

export const shotAdminOrder: AdminOrderView = {
  ...shotRefunding,
  openid: 'oLx3Kq9hN2vT8mP4rS6wY1zA5bC7d',
  payments: [
    { outTradeNo: 'O7F3A9C2B1D4E5F60718P1', status: 'closed', amountFen: 5180, createdAt: NOW + MIN },
    {
      outTradeNo: 'O7F3A9C2B1D4E5F60718P2',
      status: 'success',
      amountFen: 5180,
      paidTotalFen: 5180,
      transactionId: '4200002026112314052288731190',
      createdAt: NOW + 90_000,
      paidAt: NOW + 2 * MIN,
    },
  ],
  refundableFen: 3190,
  status: 'partially_refunded',
  refundedFen: 1990,
  refunds: [
    {
      outRefundNo: 'O7F3A9C2B1D4E5F60718R1A2B3C4D5E',
      amountFen: 1990,
      reason: '少做了一杯拿铁',
      status: 'success',
      requestedBy: 'admin',
      createdAt: NOW + 40 * MIN,
      settledAt: NOW + 41 * MIN,
    },
  ],
};

export const shotStatements: StatementView[] = [
  {
    billDate: '2026-11-22',
    status: 'done',
    attempts: 1,
    bill: {
      paymentCount: 128,
      refundCount: 6,
      grossFen: 301_240,
      refundFen: 11_940,
      feeFen: 1807,
      netFen: 287_493,
      settlementFen: 301_240,
      feeMilliFen: 6000,
      rows: 134,
      sha1: '',
    },
    books: { paymentCount: 127, refundCount: 6, grossFen: 299_250, refundFen: 11_940, feeFen: 1796, netFen: 285_514 },
    differences: [
      {
        kind: 'missing_here',
        subject: 'payment',
        outTradeNo: 'O2B3C4D5E6F7A8B9C0D1P1',
        orderId: 'O2B3C4D5E6F7A8B9C0D1',
        billFen: 1990,
        billState: 'SUCCESS',
        booksState: 'prepaid',
        detail: 'paid at WeChat Pay, pending here',
        healed: '向微信支付查询后已记为已支付',
      },
      {
        kind: 'amount_differs',
        subject: 'payment',
        outTradeNo: 'O5D6E7F8A9B0C1D2E3F4P1',
        orderId: 'O5D6E7F8A9B0C1D2E3F4',
        billFen: 4980,
        booksFen: 5180,
        detail: 'amounts differ',
        exceptionId: 'amount_mismatch:O5D6E7F8A9B0C1D2E3F4P1',
      },
    ],
    differenceCount: 2,
    healedCount: 1,
    openCount: 1,
    runs: 1,
    updatedAt: NOW - 4 * 60 * MIN,
    completedAt: NOW - 4 * 60 * MIN,
  },
  {
    billDate: '2026-11-21',
    status: 'done',
    attempts: 1,
    differences: [],
    differenceCount: 0,
    healedCount: 0,
    openCount: 0,
    runs: 1,
    updatedAt: NOW - 28 * 60 * MIN,
    bill: {
      paymentCount: 96,
      refundCount: 2,
      grossFen: 215_600,
      refundFen: 3980,
      feeFen: 1294,
      netFen: 210_326,
      settlementFen: 215_600,
      feeMilliFen: 6000,
      rows: 98,
      sha1: '',
    },
    books: { paymentCount: 96, refundCount: 2, grossFen: 215_600, refundFen: 3980, feeFen: 1294, netFen: 210_326 },
  },
  {
    billDate: '2026-11-20',
    status: 'done',
    attempts: 2,
    differences: [],
    differenceCount: 0,
    healedCount: 0,
    openCount: 0,
    runs: 1,
    updatedAt: NOW - 52 * 60 * MIN,
  },
];

/** the metrics of the i-th day before NOW (0: yesterday) */
export function shotMetricsDay(i: number): DailyMetrics {
  const date = new Date(NOW - (i + 1) * 24 * 60 * MIN);
  const d = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  const weekend = date.getDay() === 0 || date.getDay() === 6;
  const paidCount = Math.round((weekend ? 140 : 95) + 25 * Math.sin(i / 2.3) - i);
  const refused = i === 9 ? 37 : i % 7 === 3 ? 2 : 0;
  return {
    date: d,
    rolledUpAt: NOW,
    orders: { created: paidCount + 18, paid: paidCount, expired: 11 + (i % 4), cancelled: 4 + (i % 3) },
    paidBy: { notification: paidCount - 3, query: 2, reconcile: 1, bill: i === 1 ? 1 : 0, unknown: 0 },
    prepayToPaid: { count: paidCount, buckets: [], p50Seconds: 14 + (i % 5), p90Seconds: 48 + (i % 9) * 3 },
    notifications: {
      total: paidCount + 9 + refused,
      byVerdict: { paid: paidCount, duplicate: 9, ...(refused ? { 'rejected:BAD_SIGNATURE': refused } : {}) },
    },
    refunds: {
      created: 3 + (i % 4),
      byStatus: {
        queued: 0,
        unknown: 0,
        processing: i === 0 ? 1 : 0,
        abnormal: i === 0 ? 1 : 0,
        success: 2 + (i % 4),
        closed: 0,
        failed: 0,
      },
      openOver5Minutes: i === 0 ? 2 : 0,
      openOver3Days: 0,
    },
    exceptionsOpen: {
      amount_mismatch: 1,
      duplicate_charge: 1,
      abnormal_refund: 1,
      refund_unapplied: 0,
      refund_refused: 0,
      unknown_payment: 0,
      payment_mismatch: 0,
      bill_difference: 0,
      unfulfillable: 0,
    },
    bill: { status: 'done', differences: i === 0 ? 2 : 0, healed: i === 0 ? 1 : 0, open: i === 0 ? 1 : 0 },
  };
}

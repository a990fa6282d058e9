import type { OrderView, Product } from '../../typings/api';

export const products: Product[] = [
  { id: 'latte', title: '拿铁咖啡', description: '中杯', priceFen: 1990, maxPerOrder: 10 },
  { id: 'croissant', title: '黄油可颂', description: '每日现烤', priceFen: 1200, maxPerOrder: 5 },
];

const NOW = new Date(2026, 10, 23, 14, 0).getTime();

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
    can: { pay: true, cancel: true, requestRefund: false },
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
    can: { pay: false, cancel: false, requestRefund: true },
    ...overrides,
  });

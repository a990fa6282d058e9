/** The shapes several functions answer with: orders and their refunds, exceptions, and their statuses. */
import type { Fen } from '../money';
import type { AfterSaleView, FulfilmentView } from './fulfilment';

export type OrderStatus =
  'pending_payment' | 'paid' | 'refunding' | 'partially_refunded' | 'refunded' | 'cancelled' | 'closed' | 'review';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'pending_payment',
  'paid',
  'refunding',
  'partially_refunded',
  'refunded',
  'cancelled',
  'closed',
  'review',
];

/**
 * A refund's state (the backend's refund table): queued (not yet accepted by WeChat Pay), unknown (answer lost, being
 * checked), processing, abnormal (WeChat Pay could not pay the user's account: waits for the merchant), success,
 * closed, failed (refused by WeChat Pay).
 */
export type RefundStatus = 'queued' | 'unknown' | 'processing' | 'abnormal' | 'success' | 'closed' | 'failed';

/** What a person must look at. */
export type ExceptionKind =
  | 'amount_mismatch'
  | 'duplicate_charge'
  | 'abnormal_refund'
  | 'refund_unapplied'
  | 'refund_refused'
  | 'unknown_payment'
  | 'payment_mismatch'
  | 'bill_difference'
  /** a paid order that can no longer be fulfilled (declined by everyone, sold out): refund in full */
  | 'unfulfillable';

export const EXCEPTION_KINDS: readonly ExceptionKind[] = [
  'amount_mismatch',
  'duplicate_charge',
  'abnormal_refund',
  'refund_unapplied',
  'refund_refused',
  'unknown_payment',
  'payment_mismatch',
  'bill_difference',
  'unfulfillable',
];

export interface ExceptionView {
  id: string;
  kind: ExceptionKind;
  status: 'open' | 'resolved';
  orderId?: string;
  outTradeNo?: string;
  outRefundNo?: string;
  transactionId?: string;
  expectedFen?: Fen;
  actualFen?: Fen;
  detail: string;
  firstSeenAt: number;
  lastSeenAt: number;
  occurrences: number;
  resolvedAt?: number;
  resolvedBy?: string;
  resolution?: { action: string; note: string };
}

export interface OrderItem {
  productId: string;
  title: string;
  unitPriceFen: Fen;
  quantity: number;
  subtotalFen: Fen;
}

export interface TimelineEntry {
  at: number;
  event: string;
  detail?: string;
}

export interface RefundView {
  outRefundNo: string;
  amountFen: Fen;
  reason: string;
  status: RefundStatus;
  requestedBy: 'user' | 'admin' | 'system';
  createdAt: number;
  settledAt?: number;
}

export interface OrderView {
  id: string;
  status: OrderStatus;
  items: OrderItem[];
  totalFen: Fen;
  paidFen: Fen;
  refundedFen: Fen;
  refundableFen: Fen;
  contact: { name: string; phone: string };
  remark: string;
  createdAt: number;
  expiresAt: number;
  paidAt?: number;
  serviceStartsAt?: number;
  timeline: TimelineEntry[];
  refunds: RefundView[];
  /** paid orders: what happens after the payment (absent before it) */
  fulfilment?: FulfilmentView;
  /** the buyer's after-sale request, once made */
  afterSale?: AfterSaleView;
  /** what the owner may do now (requestRefund: alone, before acceptance; requestAfterSale: ask, after it) */
  can: { pay: boolean; cancel: boolean; requestRefund: boolean; confirmReceipt: boolean; requestAfterSale: boolean };
}

/**
 * The stored shapes of orders, payments and refunds. One module of types that every domain module reads, so the
 * modules that change these records (orders, payments, refunds) need not import each other.
 */
import type {
  AfterSaleStatus,
  FulfilmentRole,
  FulfilmentState,
  OrderItem,
  OrderStatus,
  ProductKind,
  RefundStatus as RefundState,
  ShippingAddress,
  TimelineEntry,
} from '../../../typings/api';

/** A refund's hold on the order's refundable balance, keyed by out_refund_no; it also keeps the intent, so a
 * reservation whose refund document was never written (a crash between the two writes) can still be completed. */
export interface RefundReservation {
  amountFen: number;
  state: 'reserved' | 'settled' | 'released';
  reason?: string;
  requestedBy?: 'user' | 'admin';
  requestedByOpenid?: string;
  at?: number;
}

export interface OrderDoc {
  _id: string;
  /** the mini-program user who owns it; '' for a guest's order */
  openid: string;
  /**
   * A guest's order (the Native checkout, no WeChat login): reached only by the bearer of its random token, of which
   * only the SHA-256 is kept. Paid by Native (a QR code), so its payments name no payer.
   */
  guest?: { tokenHash: string };
  /** partner mode: the sub-merchant paid (every product's), and sub_appid when the buyer pays in its mini-program */
  subMchid?: string;
  subAppid?: string;
  requestId: string;
  items: OrderItem[];
  totalFen: number;
  contact: { name: string; phone: string };
  remark: string;
  status: OrderStatus;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  serviceStartsAt?: number;
  paidFen: number;
  refundableFen: number;
  refundedFen: number;
  refundReservations: Record<string, RefundReservation>;
  paymentSeq: number;
  activePaymentId?: string;
  paidAt?: number;
  paidOutTradeNo?: string;
  transactionId?: string;
  review?: { reason: string; at: number; detail: string; outTradeNo?: string };
  /** reconcile looks at a refunding order again from this time (orphan reservations) */
  nextCheckAt?: number;
  timeline: TimelineEntry[];
  /** set at confirmation (kind from the catalogue, state awaiting); absent on orders made before fulfilment existed */
  fulfilment?: FulfilmentRecord;
  afterSale?: AfterSaleRecord;
  /** the shipping information for WeChat's order shipping management, due once the order is handed over */
  wxShipping?: WxShippingRecord;
}

export interface FulfilmentStepRecord {
  state: FulfilmentState;
  at: number;
  role: FulfilmentRole;
  /** the staff member's or admin's openid ('' for the buyer, WeChat and the system) */
  actor: string;
  /** what the buyer may see of who: a staff member's name, 买家, 微信 */
  by?: string;
  detail?: string;
}

export interface FulfilmentRecord {
  kind: ProductKind;
  state: FulfilmentState;
  at: number;
  steps: FulfilmentStepRecord[];
  staffOpenid?: string;
  staffName?: string;
  pickupCode?: string;
  shipping?: { expressCompany: string; expressName: string; trackingNo: string };
  address?: ShippingAddress;
  receivedBy?: 'buyer' | 'wechat_auto' | 'wechat_buyer';
  /** the staff were told of the paid order (the reconcile timer's new-order notice) */
  notifiedAt?: number;
  /** the not-accepted-in-time alert was raised */
  lateAlertAt?: number;
}

export interface AfterSaleRecord {
  requestId: string;
  status: AfterSaleStatus;
  reason: string;
  photos?: string[];
  amountFen?: number;
  decisionNote?: string;
  at: number;
  decidedAt?: number;
  decidedBy?: string;
  outRefundNo?: string;
}

/** 1 express, 2 same-city, 3 virtual, 4 buyer pick-up (upload_shipping_info's logistics_type) */
export type LogisticsType = 1 | 2 | 3 | 4;

export interface WxShippingRecord {
  status: 'pending' | 'uploaded' | 'failed' | 'not_managed';
  logisticsType: LogisticsType;
  itemDesc: string;
  expressCompany?: string;
  trackingNo?: string;
  /** the receiver's masked phone (SF Express wants a contact) */
  receiverContact?: string;
  attempts: number;
  nextAttemptAt: number;
  firstAttemptAt: number;
  lastError?: string;
  uploadedAt?: number;
  /** the upload_time last sent (RFC 3339): a later upload must carry a later one */
  uploadTime?: string;
  /** WeChat allows one update of an upload: set once the correction was made */
  corrected?: boolean;
  /** a correction waiting to be uploaded */
  correctionPending?: boolean;
  overdueAlertAt?: number;
  wxOrderState?: number;
  /** WeChat's settlement event said the money settled */
  settledAt?: number;
}

export type PaymentStatus = 'created' | 'prepaid' | 'success' | 'closed' | 'amount_mismatch' | 'duplicate';
/** What told the backend a payment succeeded (the daily metrics count them): a notification, a query (the result
 * page, a pay or cancel that found it paid), reconcile's query, or the books job's query for a row of the bill. */
export type SettledVia = 'notification' | 'query' | 'reconcile' | 'bill';

export interface PaymentDoc {
  _id: string; // out_trade_no
  orderId: string;
  /** the payer prepaid for (JSAPI); '' for a Native payment, whose payer WeChat Pay names only with the payment */
  openid: string;
  /** absent: JSAPI (wx.requestPayment in the mini-program); NATIVE: a code_url shown as a QR code */
  tradeType?: 'NATIVE';
  /** partner mode: the order's sub-merchant, as prepaid (sub_appid present: the payer is a sub_openid) */
  subMchid?: string;
  subAppid?: string;
  amountFen: number;
  description: string;
  status: PaymentStatus;
  timeExpire: number;
  prepayId?: string;
  /** NATIVE: the code_url; it lapses with the prepay (`prepayExpiresAt`) */
  codeUrl?: string;
  prepayExpiresAt?: number;
  /** a close was sent to WeChat Pay at this time: the payment is never handed out again without asking first */
  closeRequestedAt?: number;
  transactionId?: string;
  /** what WeChat Pay took (differs from amountFen only for amount_mismatch) */
  paidTotalFen?: number;
  paidAt?: number;
  settledVia?: SettledVia;
  /** WeChat Pay wants refunds of one payment at least a minute apart: the earliest next submission */
  refundGateAt: number;
  /** reconcile queries an unsettled payment from this time; pushed back with each check */
  nextCheckAt: number;
  checks: number;
  createdAt: number;
  updatedAt: number;
}

/** `order`: against the order's refundable balance. `duplicate_charge`: a whole payment the order never used. */
export type RefundKind = 'order' | 'duplicate_charge';

export interface RefundDoc {
  _id: string; // out_refund_no
  kind: RefundKind;
  orderId: string;
  outTradeNo: string;
  openid: string;
  /** partner mode: the order's sub-merchant, whose refund this is */
  subMchid?: string;
  amountFen: number;
  totalFen: number;
  reason: string;
  requestedBy: 'user' | 'admin' | 'system';
  requestedByOpenid: string;
  status: RefundState;
  refundId?: string;
  error?: string;
  /** reconcile handles the refund again from this time; `attempts` since the last move sets the backoff */
  nextAttemptAt: number;
  attempts: number;
  /** when WeChat Pay first reported it ABNORMAL, and when an admin applied for the abnormal refund */
  abnormalAt?: number;
  abnormalAppliedAt?: number;
  createdAt: number;
  updatedAt: number;
  settledAt?: number;
}

export const REFUNDABLE_ORDER_STATES: readonly OrderStatus[] = ['paid', 'refunding', 'partially_refunded'];
export const PAYABLE_ORDER_STATES: readonly OrderStatus[] = ['pending_payment', 'closed', 'cancelled'];

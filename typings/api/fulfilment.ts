/**
 * Fulfilment: what happens to a paid order until the buyer has what they paid for, one state machine per product kind
 * (the backend's table in domain/fulfilment/table.ts), beside the payment's own status.
 */
import type { Fen } from '../money';

/** How a product reaches the buyer (catalogue data). */
export type ProductKind = 'pickup' | 'shipping' | 'service';
export const PRODUCT_KINDS: readonly ProductKind[] = ['pickup', 'shipping', 'service'];

/**
 * A fulfilment state. Per kind:
 * - pickup: awaiting → accepted → ready (pickup code) → picked_up
 * - shipping: awaiting → accepted → shipped (express company + tracking no) → received
 * - service: awaiting → assigned (to a staff member) → accepted (or declined: back to awaiting) → in_service → completed
 * Any state before the hand-over (awaiting, assigned, accepted, ready) may become unfulfillable (the exception queue's
 * "refund in full"). `awaiting` is the state of a paid order nobody took yet; until it leaves it the buyer may refund
 * alone (under the refund policy), after it the buyer asks for an after-sale.
 */
export type FulfilmentState =
  | 'awaiting'
  | 'assigned'
  | 'accepted'
  | 'ready'
  | 'picked_up'
  | 'shipped'
  | 'received'
  | 'in_service'
  | 'completed'
  | 'unfulfillable';

export const FULFILMENT_STATES: readonly FulfilmentState[] = [
  'awaiting',
  'assigned',
  'accepted',
  'ready',
  'picked_up',
  'shipped',
  'received',
  'in_service',
  'completed',
  'unfulfillable',
];

/** Who may make a move: the order's buyer, a staff member, an admin, WeChat (its settlement event), the system (timers). */
export type FulfilmentRole = 'buyer' | 'staff' | 'admin' | 'wechat' | 'system';

/** The shipping address the buyer chose at confirmation (wx.chooseAddress's answer, its fields as WeChat names them). */
export interface ShippingAddress {
  userName: string;
  telNumber: string;
  provinceName: string;
  cityName: string;
  countyName: string;
  detailInfo: string;
  postalCode?: string;
}

/** An express company from WeChat's delivery list (get_delivery_list's delivery_id / delivery_name). */
export interface DeliveryCompany {
  id: string;
  name: string;
}

export interface FulfilmentStep {
  state: FulfilmentState;
  at: number;
  /** who made the move, as the buyer may see it: a staff member's name, 'WeChat', the buyer ('买家') */
  by?: string;
}

export interface FulfilmentView {
  kind: ProductKind;
  state: FulfilmentState;
  /** when it entered `state` */
  at: number;
  /** pickup, once ready: the code the buyer shows at the counter (4–6 digits; the buyer's own view only) */
  pickupCode?: string;
  /** shipping, once shipped */
  shipping?: { expressCompany: string; expressName: string; trackingNo: string };
  /** the staff member handling it (service: once assigned; others: once accepted) */
  staffName?: string;
  /** shipping: where it goes (the staff's view masks telNumber) */
  address?: ShippingAddress;
  /** received: who confirmed receipt (the buyer, or WeChat's automatic confirmation) */
  receivedBy?: 'buyer' | 'wechat_auto' | 'wechat_buyer';
  /** every state it went through, oldest first */
  steps: FulfilmentStep[];
  /**
   * Shipping, when the mini-program is under WeChat's order shipping management and the order was shipped: the
   * parameters of WeChat's confirm-receipt component, wx.openBusinessView({ businessType: 'weappOrderConfirm',
   * extraData: { merchant_id, merchant_trade_no, transaction_id } }).
   */
  receiptComponent?: { merchantId: string; merchantTradeNo: string; transactionId?: string };
}

/** 售后: after acceptance the buyer no longer refunds alone; they ask, and the merchant decides. */
export type AfterSaleStatus = 'requested' | 'approved' | 'partly_approved' | 'declined';

export interface AfterSaleView {
  status: AfterSaleStatus;
  reason: string;
  /** cloud file IDs (wx.cloud.uploadFile), at most 3 */
  photos?: string[];
  /** approved / partly_approved: what is refunded */
  amountFen?: Fen;
  decisionNote?: string;
  /** when it was requested */
  at: number;
  decidedAt?: number;
}

/**
 * staff: the staff's side of fulfilment (callers listed in STAFF_OPENIDS only): the queue of paid orders, their own
 * orders, and the moves a staff member may make. Staff see the buyer's phone masked (138****1234).
 */
import type { Fen } from '../money';
import type { DeliveryCompany, FulfilmentView } from './fulfilment';
import type { OrderItem, OrderStatus } from './shapes';

/** An order as a staff member sees it. */
export interface StaffOrderView {
  id: string;
  status: OrderStatus;
  items: OrderItem[];
  totalFen: Fen;
  paidAt?: number;
  serviceStartsAt?: number;
  /** the buyer's contact, phone masked */
  contact: { name: string; phone: string };
  remark: string;
  /** without the pickup code (the buyer tells it); the address's phone masked */
  fulfilment: FulfilmentView;
  /** the caller is the staff member handling it */
  mine: boolean;
  /** what the caller may do now */
  can: {
    accept: boolean;
    decline: boolean;
    ready: boolean;
    handOver: boolean;
    ship: boolean;
    start: boolean;
    complete: boolean;
  };
}

/** Paid orders nobody took yet (and service orders assigned to the caller), newest first. */
export interface StaffQueueRequest {
  /** from the previous page's `nextCursor` */
  cursor?: string;
  limit?: number;
}
export interface StaffQueueResponse {
  orders: StaffOrderView[];
  nextCursor?: string;
}
/** The caller's orders in hand (accepted, not yet handed over or completed), newest first. */
export interface StaffMineRequest {
  cursor?: string;
  limit?: number;
}
export type StaffMineResponse = StaffQueueResponse;

export interface StaffOrderRequest {
  orderId: string;
}
export type StaffGetRequest = StaffOrderRequest;
/** Takes the order (pickup, shipping: from the queue; service: one assigned to the caller, or from the queue). */
export type StaffAcceptRequest = StaffOrderRequest;
/** Service, assigned to the caller: gives it back to the queue. */
export interface StaffDeclineRequest {
  orderId: string;
  reason?: string;
}
/** Pickup: made; the buyer gets the pickup code. */
export type StaffReadyRequest = StaffOrderRequest;
/** Pickup: handed over against the code the buyer shows (typed or scanned); wrong codes are rate-limited per order. */
export interface StaffHandOverRequest {
  orderId: string;
  pickupCode: string;
}
/** Shipping: sent, with an express company id from `deliveryCompanies` and its tracking number. */
export interface StaffShipRequest {
  orderId: string;
  expressCompany: string;
  trackingNo: string;
}
export type StaffStartRequest = StaffOrderRequest;
export type StaffCompleteRequest = StaffOrderRequest;

/** The staff member accepted `accepted` 「新订单提醒」 subscribe messages (wx.requestSubscribeMessage): one each. */
export interface StaffSubscribeRequest {
  accepted: number;
}
export interface StaffSubscribeResponse {
  credits: number;
}

export type StaffDeliveryCompaniesRequest = Record<string, never>;
export interface StaffDeliveryCompaniesResponse {
  companies: DeliveryCompany[];
}

/** Who the caller is as staff: name, the services (product ids) they may take, subscribe credits left. */
export type StaffMeRequest = Record<string, never>;
export interface StaffMeResponse {
  name: string;
  services: string[];
  credits: number;
}

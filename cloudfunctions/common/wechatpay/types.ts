/**
 * Wire types of the WeChat Pay APIv3 endpoints this product uses (JSAPI and Native, as a direct merchant or as a
 * service provider for its sub-merchants: partner.ts). Amounts in fen.
 */

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';
export const TRADE_STATES: readonly TradeState[] = [
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
];

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
export const REFUND_STATUSES: readonly RefundStatus[] = ['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL'];

export interface JsapiPrepayRequest {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: { total: number; currency?: 'CNY' };
  payer: { openid: string };
}

export interface JsapiPrepayResponse {
  prepay_id: string;
}

/**
 * `POST /v3/pay/transactions/native` (Native下单, a PC or printed QR code): the JSAPI fields without `payer`, since
 * nobody is known to pay until a phone scans the code. `scene_info.payer_client_ip` is optional for Native.
 */
export interface NativePrepayRequest {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: { total: number; currency?: 'CNY' };
  scene_info?: { payer_client_ip: string; device_id?: string };
}

/** `{"code_url":"weixin://wxpay/bizpayurl?pr=…"}`: shown as a QR code; valid 2 hours (code_url有效期为2小时). */
export interface NativePrepayResponse {
  code_url: string;
}

/**
 * A transaction as a query or a TRANSACTION.SUCCESS notification reports it. A direct merchant's carries appid, mchid
 * and payer.openid; a service provider's (partner.ts) sp_appid, sp_mchid, sub_mchid, sub_appid when prepaid with one,
 * and payer.sp_openid or payer.sub_openid.
 */
export interface Transaction {
  appid?: string;
  mchid?: string;
  sp_appid?: string;
  sp_mchid?: string;
  sub_appid?: string;
  sub_mchid?: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: TradeState;
  trade_state_desc?: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid?: string; sp_openid?: string; sub_openid?: string };
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
  promotion_detail?: unknown[];
}

export interface RefundCreateRequest {
  out_trade_no?: string;
  transaction_id?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: 'CNY' };
}

export interface RefundAmount {
  total: number;
  refund: number;
  payer_total?: number;
  payer_refund?: number;
  settlement_refund?: number;
  settlement_total?: number;
  discount_refund?: number;
  currency?: string;
}

/** The API's Refund object (create and query). */
export interface Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel?: string;
  user_received_account?: string;
  success_time?: string;
  create_time?: string;
  status: RefundStatus;
  funds_account?: string;
  amount: RefundAmount;
}

/** How an ABNORMAL refund is resolved: to the user's bank card, or back to the merchant's bank account. */
export type AbnormalRefundType = 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';
export const ABNORMAL_REFUND_TYPES: readonly AbnormalRefundType[] = ['USER_BANK_CARD', 'MERCHANT_BANK_CARD'];

/**
 * `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`, as the caller gives it: bank_account and
 * real_name in plaintext (the client encrypts them). USER_BANK_CARD needs bank_type (≤16, e.g. ICBC_DEBIT),
 * bank_account and real_name; MERCHANT_BANK_CARD takes none of them. Answer: the Refund object.
 */
export interface AbnormalRefundRequest {
  out_refund_no: string;
  type: AbnormalRefundType;
  bank_type?: string;
  bank_account?: string;
  real_name?: string;
}

/**
 * The decrypted refund notification resource: it says `refund_status`, not `status`. A direct merchant's names mchid;
 * a service provider's sp_mchid and sub_mchid instead.
 */
export interface RefundNotificationResource {
  mchid?: string;
  sp_mchid?: string;
  sub_mchid?: string;
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: RefundStatus;
  success_time?: string;
  user_received_account?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
}

export interface PlatformCertificate {
  serialNo: string;
  effectiveTime: string;
  expireTime: string;
  pem: string;
}

export interface EncryptedResource {
  original_type?: string;
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
}

export interface NotificationEnvelope {
  id: string;
  create_time: string;
  resource_type: string;
  event_type: string;
  summary?: string;
  resource: EncryptedResource;
}

/** What the domain needs from the outside world. Built by runtime/ from wx-server-sdk (cloud) or the local cloud. */
import type { WechatPay } from '../wechatpay';
import type { Store } from '../store/store';
import type { AppConfig } from './config';

export interface WxSession {
  openid: string;
  sessionKey: string;
  unionid?: string;
}

/** jscode2session and friends (api.weixin.qq.com, or the local WeChat API simulator). */
export interface WxApi {
  code2session(code: string): Promise<WxSession>;
}

export interface SubscribeMessage {
  touser: string;
  templateId: string;
  page: string;
  data: Record<string, { value: string }>;
}

export interface Messenger {
  sendSubscribeMessage(message: SubscribeMessage): Promise<void>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Something a person must hear about: a key or certificate near expiry today (runtime/key-watch.ts), the books'
 * alerts later. A sink decides how (a log line by default; a WeCom robot, an `alerts` document, a subscribe message)
 * and may raise each `cause` once.
 */
export interface Alert {
  /** stable for one cause, e.g. `key_expiry:platform_certificate:<serial>` */
  cause: string;
  severity: 'warning' | 'critical';
  message: string;
  detail?: Record<string, unknown>;
}

export interface AlertSink {
  raise(alert: Alert): Promise<void>;
}

/**
 * The part of the WeChat Pay module the domain uses: narrow, so domain tests can hand it a scripted client while
 * the runtime hands it the real one.
 */
export interface PayGateway {
  config: Pick<WechatPay['config'], 'mchid' | 'appid' | 'notifyUrl' | 'refundNotifyUrl'>;
  credential: Pick<WechatPay['credential'], 'signer'>;
  client: Pick<
    WechatPay['client'],
    | 'prepayJsapi'
    | 'prepayNative'
    | 'queryByOutTradeNo'
    | 'closeByOutTradeNo'
    | 'createRefund'
    | 'queryRefund'
    | 'applyAbnormalRefund'
    | 'applyTradeBill'
    | 'downloadBill'
  >;
  notifications: Pick<WechatPay['notifications'], 'parse'>;
}

/** Every answer of WeChat's server APIs: errcode 0 is success. */
export interface WxAnswer {
  errcode: number;
  errmsg: string;
}

/** upload_shipping_info's body, named as WeChat names it (snake_case; the runtime calls with convertCase: false). */
export interface UploadShippingInfo {
  order_key:
    { order_number_type: 1; mchid: string; out_trade_no: string } | { order_number_type: 2; transaction_id: string };
  logistics_type: 1 | 2 | 3 | 4;
  delivery_mode: 1 | 2;
  is_all_delivered?: boolean;
  shipping_list: {
    tracking_no?: string;
    express_company?: string;
    item_desc: string;
    contact?: { consignor_contact?: string; receiver_contact?: string };
  }[];
  upload_time: string;
  payer: { openid: string };
}

/**
 * WeChat's order shipping management (小程序发货信息管理服务, wxa/sec/order/*): cloud calls wxa.sec.order.* in
 * production, the local WeChat API simulator on the local cloud. Answers are taken as WeChat gives them.
 */
export interface WxOrderApi {
  /** the merchant and mini-program the uploads name (order_key's mchid; is_trade_managed's appid) */
  readonly mchid: string;
  readonly appid: string;
  isTradeManaged(body: { appid: string }): Promise<WxAnswer & { is_trade_managed?: boolean }>;
  uploadShippingInfo(body: UploadShippingInfo): Promise<WxAnswer>;
  getOrder(
    body: { transaction_id: string } | { merchant_id: string; merchant_trade_no: string },
  ): Promise<WxAnswer & { order?: { order_state: number; transaction_id?: string; merchant_trade_no?: string } }>;
  notifyConfirmReceive(body: {
    transaction_id?: string;
    merchant_id?: string;
    merchant_trade_no?: string;
    received_time: number;
  }): Promise<WxAnswer>;
  setMsgJumpPath(body: { path: string }): Promise<WxAnswer>;
}

export interface Deps {
  store: Store;
  pay: PayGateway;
  config: AppConfig;
  clock: () => number;
  wxApi: WxApi;
  messenger: Messenger;
  log: Logger;
  /** WeChat's order shipping management; absent in functions that never upload shipping information */
  wxOrder?: WxOrderApi;
  /** where alerts go (domain/attention/alerts.ts AlertCenter); absent: nothing is raised beyond the log */
  alerts?: AlertSink;
}

/** The caller as the platform tells it: OPENID from the cloud context, never from the event. */
export interface Caller {
  openid?: string;
  appid?: string;
  /** the platform's SOURCE: wx_client / wx_devtools for a callFunction from the mini-program */
  source?: string;
}

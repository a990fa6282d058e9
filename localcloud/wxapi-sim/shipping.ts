/**
 * The WeChat API simulator's order shipping management (小程序发货信息管理服务, wxa/sec/order/*), as WeChat documents
 * it: per payment an order state (1 待发货, 2 已发货, 3 确认收货, 4 交易完成, 5 已退款), the upload's checks with their
 * errcodes, one update of an upload before receipt is confirmed, and the settlement event pushed to the message-push
 * function: on demand ("buyer confirms receipt", "auto-confirm") or after a configurable delay. It learns paid
 * transactions from the WeChat Pay simulator through `lookup`, so only a payment WeChat Pay took can be shipped.
 * Every API has a fault switch (the next `times` calls answer an errcode); is_trade_managed is configurable.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, parseJsonBody, sendJson } from '../http';

export type ShippingApi =
  'isTradeManaged' | 'uploadShippingInfo' | 'getOrder' | 'notifyConfirmReceive' | 'setMsgJumpPath';
export const SHIPPING_APIS: readonly ShippingApi[] = [
  'isTradeManaged',
  'uploadShippingInfo',
  'getOrder',
  'notifyConfirmReceive',
  'setMsgJumpPath',
];

/** The errcodes the simulator answers (the same table as the backend's, cloudfunctions/common/domain/shipping). */
export const ERR = {
  systemError: -1,
  dataFormat: 47001,
  orderNotFound: 10060001,
  alreadyShipped: 10060002,
  updateUsed: 10060003,
  notShippable: 10060004,
  invalidLogisticsType: 10060005,
  splitNotExpress: 10060006,
  itemDescEmpty: 10060008,
  itemDescTooLong: 10060009,
  busy: 10060012,
  invalidParam: 10060014,
  invalidExpressCompany: 10060027,
  invalidUploadTime: 268485216,
} as const;

/** A few of get_delivery_list's delivery_id values: the ones the backend offers, and a couple more. */
export const KNOWN_EXPRESS = new Set(['SF', 'ZTO', 'YTO', 'STO', 'YD', 'JTSD', 'JD', 'EMS', 'YZPY', 'DBL', 'BDT']);

export interface PaidTransaction {
  outTradeNo: string;
  transactionId: string;
  mchid: string;
  payerOpenid: string;
  /** WeChat Pay's trade_state: SUCCESS, REFUND, NOTPAY … */
  tradeState: string;
  paidAt: number;
}

export interface SimShippingOrder {
  outTradeNo: string;
  transactionId: string;
  mchid: string;
  payerOpenid: string;
  /** 1 待发货 2 已发货 3 确认收货 4 交易完成 5 已退款 */
  state: 1 | 2 | 3 | 4 | 5;
  uploads: { at: number; uploadTime: string; logisticsType: number; shippingList: unknown[] }[];
  confirmedAt?: number;
  confirmMethod?: 1 | 2;
  settledAt?: number;
  remindedAt?: number;
}

export const STATE_TEXT: Record<SimShippingOrder['state'], string> = {
  1: '待发货',
  2: '已发货',
  3: '确认收货',
  4: '交易完成',
  5: '已退款',
};

export interface ShippingSimOptions {
  appid: string;
  lookup(outTradeNo: string): Promise<PaidTransaction | undefined>;
  findByTransactionId(transactionId: string): Promise<PaidTransaction | undefined>;
  /** delivers a message-push event to the mini-program's message-push function */
  push(event: Record<string, unknown>): Promise<unknown>;
  clock?: () => number;
}

type Answer = { errcode: number; errmsg: string } & Record<string, unknown>;
const ok = (extra: Record<string, unknown> = {}): Answer => ({ errcode: 0, errmsg: 'ok', ...extra });
const fail = (errcode: number, errmsg: string): Answer => ({ errcode, errmsg });
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export class OrderShippingSimulator {
  readonly orders = new Map<string, SimShippingOrder>();
  readonly pushed: { at: number; event: Record<string, unknown>; result?: unknown; error?: string }[] = [];
  tradeManaged = true;
  /** after an upload, the buyer confirms (and the order settles) after this many ms; null: only on demand */
  settlementDelayMs: number | null = null;
  msgJumpPath?: string;
  private readonly faults = new Map<ShippingApi, { errcode: number; times: number | null }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: ShippingSimOptions) {}

  private get now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** The next `times` calls of `api` answer `errcode` (null: until cleared); errcode 0 clears. */
  setFault(api: ShippingApi, errcode: number, times: number | null = 1): void {
    if (errcode === 0) this.faults.delete(api);
    else this.faults.set(api, { errcode, times });
  }

  faultList(): { api: ShippingApi; errcode: number; times: number | null }[] {
    return [...this.faults].map(([api, f]) => ({ api, ...f }));
  }

  private takeFault(api: ShippingApi): Answer | undefined {
    const f = this.faults.get(api);
    if (!f) return undefined;
    if (f.times !== null && --f.times <= 0) this.faults.delete(api);
    return fail(f.errcode, `simulated fault on ${api}`);
  }

  /** One cloud call, as wx-server-sdk's openapi.wxa.sec.order.<api> reaches WeChat (bodies in WeChat's snake_case). */
  async call(api: string, body: unknown): Promise<Answer> {
    if (!(SHIPPING_APIS as readonly string[]).includes(api)) return fail(ERR.invalidParam, `no API ${api}`);
    const fault = this.takeFault(api as ShippingApi);
    if (fault) return fault;
    const b = (body ?? {}) as Record<string, unknown>;
    switch (api as ShippingApi) {
      case 'isTradeManaged':
        if (b.appid !== this.options.appid) return fail(ERR.invalidParam, 'appid is not this mini-program');
        return ok({ is_trade_managed: this.tradeManaged });
      case 'uploadShippingInfo':
        return this.upload(b);
      case 'getOrder':
        return this.getOrder(b);
      case 'notifyConfirmReceive': {
        const order = await this.resolve(b);
        if (!order) return fail(ERR.orderNotFound, '支付单不存在');
        if (order.state !== 2) return fail(ERR.notShippable, '支付单处于不可提醒的状态');
        if (order.remindedAt !== undefined) return fail(ERR.invalidParam, '每个订单只能提醒一次');
        order.remindedAt = this.now;
        return ok();
      }
      case 'setMsgJumpPath':
        if (typeof b.path !== 'string' || !b.path) return fail(ERR.dataFormat, 'data format error');
        this.msgJumpPath = b.path;
        return ok();
    }
  }

  private async resolve(b: Record<string, unknown>): Promise<SimShippingOrder | undefined> {
    let tx: PaidTransaction | undefined;
    if (typeof b.transaction_id === 'string') tx = await this.options.findByTransactionId(b.transaction_id);
    else if (typeof b.merchant_trade_no === 'string') tx = await this.options.lookup(b.merchant_trade_no);
    if (!tx || (b.merchant_id !== undefined && b.merchant_id !== tx.mchid)) return undefined;
    return this.track(tx);
  }

  /** The simulator's record of a payment WeChat Pay took, created on first sight as 1 待发货 (5 once refunded). */
  private track(tx: PaidTransaction): SimShippingOrder | undefined {
    if (tx.tradeState !== 'SUCCESS' && tx.tradeState !== 'REFUND') return undefined;
    let order = this.orders.get(tx.outTradeNo);
    if (!order) {
      order = { ...tx, state: 1, uploads: [] };
      delete (order as unknown as Record<string, unknown>).tradeState;
      delete (order as unknown as Record<string, unknown>).paidAt;
      this.orders.set(tx.outTradeNo, order);
    }
    if (tx.tradeState === 'REFUND' && order.state < 4) order.state = 5;
    return order;
  }

  private async getOrder(b: Record<string, unknown>): Promise<Answer> {
    const order = await this.resolve(b);
    if (!order) return fail(ERR.orderNotFound, '支付单不存在');
    const last = order.uploads[order.uploads.length - 1];
    return ok({
      order: {
        transaction_id: order.transactionId,
        merchant_id: order.mchid,
        merchant_trade_no: order.outTradeNo,
        openid: order.payerOpenid,
        order_state: order.state,
        in_complaint: false,
        ...(last ? { shipping: { logistics_type: last.logisticsType, shipping_list: last.shippingList } } : {}),
      },
    });
  }

  private async upload(b: Record<string, unknown>): Promise<Answer> {
    const key = (b.order_key ?? {}) as Record<string, unknown>;
    let tx: PaidTransaction | undefined;
    if (key.order_number_type === 1) {
      if (typeof key.mchid !== 'string' || typeof key.out_trade_no !== 'string')
        return fail(ERR.dataFormat, 'data format error');
      tx = await this.options.lookup(key.out_trade_no);
      if (tx && tx.mchid !== key.mchid) tx = undefined;
    } else if (key.order_number_type === 2) {
      if (typeof key.transaction_id !== 'string') return fail(ERR.dataFormat, 'data format error');
      tx = await this.options.findByTransactionId(key.transaction_id);
    } else return fail(ERR.dataFormat, 'data format error');
    if (!tx) return fail(ERR.orderNotFound, '支付单不存在');
    const order = this.track(tx);
    // a payment not (or no longer) paid: WeChat Pay never took it, or it was refunded
    if (!order || order.state === 5) return fail(ERR.notShippable, '支付单处于不可发货的状态');
    const logisticsType = b.logistics_type;
    if (![1, 2, 3, 4].includes(logisticsType as number)) return fail(ERR.invalidLogisticsType, '物流类型有误');
    if (b.delivery_mode !== 1 && b.delivery_mode !== 2) return fail(ERR.invalidParam, '参数错误: delivery_mode');
    if (b.delivery_mode === 2 && logisticsType !== 1) return fail(ERR.splitNotExpress, '非快递发货时不允许分拆发货');
    const list = b.shipping_list;
    if (!Array.isArray(list) || list.length < 1 || list.length > 15)
      return fail(ERR.invalidParam, '参数错误: shipping_list');
    if (b.delivery_mode === 1 && list.length !== 1) return fail(ERR.invalidParam, '统一发货时物流信息列表长度必须为 1');
    for (const raw of list) {
      const item = (raw ?? {}) as Record<string, unknown>;
      if (typeof item.item_desc !== 'string' || !item.item_desc) return fail(ERR.itemDescEmpty, '商品描述不能为空');
      if ([...item.item_desc].length > 120) return fail(ERR.itemDescTooLong, '商品描述太长');
      if (logisticsType === 1) {
        if (typeof item.tracking_no !== 'string' || !item.tracking_no)
          return fail(ERR.invalidParam, '参数错误: tracking_no');
        if (typeof item.express_company !== 'string' || !KNOWN_EXPRESS.has(item.express_company))
          return fail(ERR.invalidExpressCompany, '物流公司编码有误');
      }
    }
    const payer = (b.payer ?? {}) as Record<string, unknown>;
    if (payer.openid !== order.payerOpenid) return fail(ERR.invalidParam, '参数错误: payer.openid');
    const uploadTime = b.upload_time;
    if (typeof uploadTime !== 'string' || !RFC3339.test(uploadTime)) return fail(ERR.invalidUploadTime, '上传时间非法');
    const previous = order.uploads[order.uploads.length - 1];
    if (previous && Date.parse(uploadTime) <= Date.parse(previous.uploadTime))
      return fail(ERR.invalidUploadTime, '上传时间必须晚于上一次上传');
    // one update only, and only before the buyer confirms receipt
    if (order.state >= 3) return fail(ERR.alreadyShipped, '支付单已完成发货，无法继续发货');
    if (order.uploads.length >= 2) return fail(ERR.updateUsed, '支付单已使用重新发货机会');
    order.uploads.push({ at: this.now, uploadTime, logisticsType: logisticsType as number, shippingList: list });
    order.state = 2;
    if (this.settlementDelayMs !== null && order.uploads.length === 1) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.confirmReceipt(order.outTradeNo, 1).then(() => this.settle(order.outTradeNo));
      }, this.settlementDelayMs);
      timer.unref();
      this.timers.add(timer);
    }
    return ok();
  }

  /** The buyer confirms receipt (method 2, in WeChat) or WeChat does it automatically (method 1): 3 确认收货. */
  async confirmReceipt(outTradeNo: string, method: 1 | 2 = 2): Promise<SimShippingOrder> {
    const order = this.orders.get(outTradeNo);
    if (!order || order.state !== 2) throw new Error(`order ${outTradeNo} is not 已发货`);
    order.state = 3;
    order.confirmedAt = this.now;
    order.confirmMethod = method;
    await this.deliver(order, false);
    return order;
  }

  /** The money settles: 4 交易完成, with the settlement event (confirm_receive_method only on settlement, as documented). */
  async settle(outTradeNo: string): Promise<SimShippingOrder> {
    const order = this.orders.get(outTradeNo);
    if (!order || order.state !== 3) throw new Error(`order ${outTradeNo} is not 确认收货`);
    order.state = 4;
    order.settledAt = this.now;
    await this.deliver(order, true);
    return order;
  }

  /** WeChat's reminders to the merchant (trade_manage_remind_shipping / trade_manage_remind_access_api). */
  async remind(
    event: 'trade_manage_remind_shipping' | 'trade_manage_remind_access_api',
    outTradeNo?: string,
  ): Promise<void> {
    const order = outTradeNo ? this.orders.get(outTradeNo) : undefined;
    await this.send({
      Event: event,
      ...(order
        ? { transaction_id: order.transactionId, merchant_id: order.mchid, merchant_trade_no: order.outTradeNo }
        : {}),
      msg: event === 'trade_manage_remind_shipping' ? '请尽快发货' : '请接入发货信息管理服务接口',
    });
  }

  private async deliver(order: SimShippingOrder, settled: boolean): Promise<void> {
    const s = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));
    await this.send({
      Event: 'trade_manage_order_settlement',
      transaction_id: order.transactionId,
      merchant_id: order.mchid,
      merchant_trade_no: order.outTradeNo,
      pay_time: s(order.uploads[0]?.at),
      shipped_time: s(order.uploads[0]?.at),
      confirm_receive_time: s(order.confirmedAt),
      ...(settled ? { settlement_time: s(order.settledAt), confirm_receive_method: order.confirmMethod } : {}),
    });
  }

  private async send(fields: Record<string, unknown>): Promise<void> {
    const event = {
      ToUserName: `gh_${this.options.appid.slice(2, 14)}`,
      FromUserName: 'o_wechat_platform_system',
      CreateTime: Math.floor(this.now / 1000),
      MsgType: 'event',
      ...fields,
    };
    const record: (typeof this.pushed)[number] = { at: this.now, event };
    this.pushed.push(record);
    try {
      record.result = await this.options.push(event);
    } catch (error) {
      record.error = (error as Error).message;
    }
  }

  /** What the console and the CLI show: each payment's WeChat-side state, the switches, the events pushed. */
  view(): Record<string, unknown> {
    return {
      tradeManaged: this.tradeManaged,
      settlementDelayMs: this.settlementDelayMs,
      msgJumpPath: this.msgJumpPath ?? null,
      faults: this.faultList(),
      orders: [...this.orders.values()].map((o) => ({
        outTradeNo: o.outTradeNo,
        transactionId: o.transactionId,
        state: o.state,
        stateText: STATE_TEXT[o.state],
        uploads: o.uploads.length,
        logisticsType: o.uploads[o.uploads.length - 1]?.logisticsType ?? null,
        confirmedAt: o.confirmedAt ?? null,
        confirmMethod: o.confirmMethod ?? null,
        settledAt: o.settledAt ?? null,
      })),
      pushed: this.pushed.slice(-50),
    };
  }

  /**
   * Routes under /wxapi/_local/shipping (the console and the CLI):
   *   GET  /                    view()
   *   POST /confirm             { outTradeNo, method?: 1 | 2 }  the buyer confirms (2) or WeChat auto-confirms (1)
   *   POST /settle              { outTradeNo }                  the money settles (交易完成), with its event
   *   POST /config              { tradeManaged?, settlementDelayMs? }
   *   POST /fault               { api, errcode, times? }        errcode 0 clears
   *   POST /remind              { event, outTradeNo? }          trade_manage_remind_shipping / _access_api
   */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<void> {
    const body = req.method === 'POST' ? ((parseJsonBody(raw) ?? {}) as Record<string, unknown>) : {};
    const outTradeNo = () => {
      if (typeof body.outTradeNo !== 'string') throw new HttpError(400, 'INVALID_REQUEST', 'outTradeNo is required');
      return body.outTradeNo;
    };
    const attempt = async (fn: () => Promise<unknown>) => {
      try {
        return await fn();
      } catch (error) {
        throw new HttpError(409, 'INVALID_STATE', (error as Error).message);
      }
    };
    if (req.method === 'GET' && (path === '' || path === '/')) return sendJson(res, 200, this.view());
    if (req.method === 'POST' && path === '/confirm') {
      const method = body.method === 1 ? 1 : 2;
      return sendJson(res, 200, await attempt(() => this.confirmReceipt(outTradeNo(), method)));
    }
    if (req.method === 'POST' && path === '/settle')
      return sendJson(res, 200, await attempt(() => this.settle(outTradeNo())));
    if (req.method === 'POST' && path === '/config') {
      if (typeof body.tradeManaged === 'boolean') this.tradeManaged = body.tradeManaged;
      if (
        body.settlementDelayMs === null ||
        (typeof body.settlementDelayMs === 'number' && body.settlementDelayMs >= 0)
      )
        this.settlementDelayMs = body.settlementDelayMs;
      return sendJson(res, 200, this.view());
    }
    if (req.method === 'POST' && path === '/fault') {
      if (!(SHIPPING_APIS as readonly unknown[]).includes(body.api) || typeof body.errcode !== 'number')
        throw new HttpError(400, 'INVALID_REQUEST', `api (${SHIPPING_APIS.join(', ')}) and errcode are required`);
      const times = body.times === null ? null : typeof body.times === 'number' ? body.times : 1;
      this.setFault(body.api as ShippingApi, body.errcode, times);
      return sendJson(res, 200, this.faultList());
    }
    if (req.method === 'POST' && path === '/remind') {
      const event = body.event === 'trade_manage_remind_access_api' ? body.event : 'trade_manage_remind_shipping';
      await this.remind(event, typeof body.outTradeNo === 'string' ? body.outTradeNo : undefined);
      return sendJson(res, 200, this.pushed[this.pushed.length - 1]);
    }
    throw new HttpError(404, 'NOT_FOUND', `no shipping simulator route ${req.method} ${path}`);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

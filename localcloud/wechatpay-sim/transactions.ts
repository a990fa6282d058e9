/**
 * The transactions API family: JSAPI prepay, query by out_trade_no and by transaction_id, close. Validated and
 * answered as WeChat Pay does (400 PARAM_ERROR with a field pointer, 403 OUT_TRADE_NO_USED, 404 ORDER_NOT_EXIST,
 * ORDERPAID, ORDER_CLOSED), with the Transaction object in WeChat Pay's shape for each trade state.
 */
import { randomBytes } from 'node:crypto';
import { HttpError, parseJsonBody } from '../http';
import { chinaTime } from './clock';
import type { Room, RoomRoute, SimContext } from './context';
import { PAYABLE_STATES, type SimTransaction, type TradeState } from './ledger';
import { boundSubMerchant, merchantView, partnerPrepay, payerView, requirePartner, sameSubMerchant } from './partner';
import {
  checkCurrency,
  checkNotify,
  checkTimeExpire,
  isObj,
  optionalString,
  OUT_TRADE_NO,
  paramError,
  requireFen,
  requireObject,
  requireString,
} from './validate';

/** "prepay_id 有效期为2小时" */
export const PREPAY_LIFETIME_MS = 2 * 3600 * 1000;

/** trade_state_desc as WeChat Pay words it in query answers */
export const TRADE_STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '订单发生过退款，退款详情请查询退款单',
  NOTPAY: '订单未支付',
  CLOSED: '订单已关闭',
  REVOKED: '订单已撤销',
  USERPAYING: '用户支付中，需要输入密码',
  PAYERROR: '支付失败，请重新下单支付',
};

/**
 * The Transaction object WeChat Pay answers to a query. A transaction nobody has paid carries no payer, trade_type,
 * transaction_id, bank_type or attach: only what the order is (logged answers for NOTPAY read
 * `{"amount":{"payer_currency":"CNY","total":1},"appid","mchid","out_trade_no","promotion_detail":[],
 * "scene_info":{"device_id":""},"trade_state":"NOTPAY","trade_state_desc":"订单未支付"}`).
 */
export function transactionView(tx: SimTransaction) {
  const paid = tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND';
  if (!paid) {
    return {
      ...merchantView(tx),
      out_trade_no: tx._id,
      trade_state: tx.trade_state,
      trade_state_desc: TRADE_STATE_DESC[tx.trade_state],
      amount: { total: tx.amount.total, payer_currency: 'CNY' },
      promotion_detail: [],
      scene_info: { device_id: '' },
    };
  }
  return { ...paidTransaction(tx), promotion_detail: [] };
}

/** A paid transaction as the TRANSACTION.SUCCESS notification resource carries it. */
export function paidTransaction(tx: SimTransaction) {
  return {
    ...merchantView(tx),
    out_trade_no: tx._id,
    transaction_id: tx.transaction_id!,
    trade_type: tx.trade_type ?? 'JSAPI',
    trade_state: tx.trade_state,
    trade_state_desc: TRADE_STATE_DESC[tx.trade_state],
    bank_type: 'OTHERS',
    attach: tx.attach ?? '',
    success_time: tx.success_time!,
    payer: payerView(tx),
    amount: { total: tx.amount.total, payer_total: tx.amount.total, currency: 'CNY', payer_currency: 'CNY' },
  };
}

export class TransactionsApi implements Room {
  constructor(private readonly ctx: SimContext) {}

  route(method: string, path: string): RoomRoute | undefined {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi')
      return { target: 'prepay', run: (_u, raw) => this.prepay(raw) };
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/))) {
      const outTradeNo = decodeURIComponent(m[1]!);
      return { target: 'query', run: (url) => this.query({ outTradeNo }, url) };
    }
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/transactions\/id\/([^/]+)$/))) {
      const transactionId = decodeURIComponent(m[1]!);
      return { target: 'query', run: (url) => this.query({ transactionId }, url) };
    }
    if (method === 'POST' && (m = path.match(/^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/))) {
      const outTradeNo = decodeURIComponent(m[1]!);
      return { target: 'close', run: (_u, raw) => this.close(outTradeNo, raw) };
    }
    return this.partnerRoute(method, path);
  }

  /** 服务商: the same calls under /v3/pay/partner/transactions with sp_mchid and sub_mchid (partner.ts). */
  private partnerRoute(method: string, path: string): RoomRoute | undefined {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v3/pay/partner/transactions/jsapi')
      return { target: 'prepay', run: (_u, raw) => this.prepay(raw, true) };
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/partner\/transactions\/out-trade-no\/([^/]+)$/))) {
      const outTradeNo = decodeURIComponent(m[1]!);
      return { target: 'query', run: (url) => this.partnerQuery({ outTradeNo }, url) };
    }
    if (method === 'GET' && (m = path.match(/^\/v3\/pay\/partner\/transactions\/id\/([^/]+)$/))) {
      const transactionId = decodeURIComponent(m[1]!);
      return { target: 'query', run: (url) => this.partnerQuery({ transactionId }, url) };
    }
    if (method === 'POST' && (m = path.match(/^\/v3\/pay\/partner\/transactions\/out-trade-no\/([^/]+)\/close$/))) {
      const outTradeNo = decodeURIComponent(m[1]!);
      return { target: 'close', run: (_u, raw) => this.partnerClose(outTradeNo, raw) };
    }
    return undefined;
  }

  private async partnerQuery(
    by: { outTradeNo?: string; transactionId?: string },
    url: URL,
  ): Promise<{ status: number; body: unknown }> {
    const sub = boundSubMerchant(this.ctx, url.searchParams.get('sp_mchid'), url.searchParams.get('sub_mchid'));
    const tx = await this.ctx.ledger.findTransaction(by);
    if (!sameSubMerchant(tx, sub.sub_mchid)) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return { status: 200, body: transactionView(tx!) };
  }

  private async partnerClose(outTradeNo: string, raw: Buffer): Promise<{ status: number }> {
    requirePartner(this.ctx);
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const spMchid = requireString(body, 'sp_mchid', '/sp_mchid', { max: 32 });
    const subMchid = requireString(body, 'sub_mchid', '/sub_mchid', { max: 32 });
    boundSubMerchant(this.ctx, spMchid, subMchid);
    const tx = await this.ctx.ledger.getTransaction(outTradeNo);
    if (!sameSubMerchant(tx, subMchid)) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return this.closeTransaction(outTradeNo);
  }

  private async prepay(raw: Buffer, partner = false): Promise<{ status: number; body: unknown }> {
    const { ledger, clock } = this.ctx;
    const outTradeNo = await openTransaction(this.ctx, raw, 'JSAPI', partner);
    const prepayId = `wx${chinaTime(clock.now()).replace(/\D/g, '').slice(0, 14)}${randomBytes(10).toString('hex')}`;
    await ledger.prepays.add({
      data: { _id: prepayId, out_trade_no: outTradeNo, expires_at: clock.now() + PREPAY_LIFETIME_MS },
    });
    return { status: 200, body: { prepay_id: prepayId } };
  }

  private async query(
    by: { outTradeNo?: string; transactionId?: string },
    url: URL,
  ): Promise<{ status: number; body: unknown }> {
    const mchid = url.searchParams.get('mchid');
    if (!mchid) throw paramError('/mchid', 'missing');
    if (mchid !== this.ctx.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
    const tx = await this.ctx.ledger.findTransaction(by);
    if (!tx || tx.sub_mchid) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return { status: 200, body: transactionView(tx) };
  }

  private async close(outTradeNo: string, raw: Buffer): Promise<{ status: number }> {
    const { ledger } = this.ctx;
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const mchid = requireString(body, 'mchid', '/mchid', { max: 32 });
    if (mchid !== this.ctx.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
    const tx = await ledger.getTransaction(outTradeNo);
    if (!tx || tx.sub_mchid) throw new HttpError(404, 'ORDER_NOT_EXIST', '订单不存在');
    return this.closeTransaction(outTradeNo);
  }

  private async closeTransaction(outTradeNo: string): Promise<{ status: number }> {
    const { ledger } = this.ctx;
    const { stats } = await ledger.transactions
      .where({ _id: outTradeNo, trade_state: ledger.command.in([...PAYABLE_STATES]) })
      .update({ data: { trade_state: 'CLOSED' } });
    if (stats.updated === 0) {
      const now = await ledger.getTransaction(outTradeNo);
      if (now?.trade_state === 'SUCCESS' || now?.trade_state === 'REFUND')
        throw new HttpError(400, 'ORDERPAID', '订单已支付，不能关闭');
    }
    return { status: 204 };
  }
}

/**
 * What a JSAPI and a Native prepay share: the common fields validated as WeChat Pay does, then the transaction created,
 * or a repeat of the same out_trade_no checked to be identical (WeChat Pay answers a new prepay for it then; anything
 * different is OUT_TRADE_NO_USED). JSAPI names its payer; Native has none until somebody scans. Returns the out_trade_no.
 */
export async function openTransaction(
  ctx: SimContext,
  raw: Buffer,
  tradeType: 'JSAPI' | 'NATIVE',
  partnerEndpoint = false,
): Promise<string> {
  const { keys, ledger, clock } = ctx;
  const body = parseJsonBody(raw);
  if (!isObj(body)) throw paramError('/', 'body must be an object');
  const partner = partnerEndpoint ? partnerPrepay(ctx, body, tradeType) : undefined;
  const appid = partner?.appid ?? requireString(body, 'appid', '/appid', { max: 32 });
  const mchid = partner?.mchid ?? requireString(body, 'mchid', '/mchid', { max: 32 });
  const description = requireString(body, 'description', '/description', { max: 127 });
  const outTradeNo = requireString(body, 'out_trade_no', '/out_trade_no', { min: 6, max: 32, pattern: OUT_TRADE_NO });
  const timeExpire = checkTimeExpire(body, clock.now());
  const attach = optionalString(body, 'attach', '/attach', 128);
  const notifyUrl = checkNotify(body, 'notify_url', '/notify_url', true)!;
  const amount = requireObject(body, 'amount', '/amount');
  const total = requireFen(amount, 'total', '/amount/total');
  checkCurrency(amount, '/amount/currency');
  let openid = partner?.openid ?? '';
  if (tradeType === 'JSAPI' && !partner) {
    const payer = requireObject(body, 'payer', '/payer');
    openid = requireString(payer, 'openid', '/payer/openid', { max: 128 });
  } else if (body.scene_info !== undefined) {
    const scene = requireObject(body, 'scene_info', '/scene_info');
    requireString(scene, 'payer_client_ip', '/scene_info/payer_client_ip', { max: 45 });
  }
  if (mchid !== keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
  if (appid !== keys.appid) throw new HttpError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');

  const candidate: SimTransaction = {
    _id: outTradeNo,
    appid,
    mchid,
    description,
    ...(attach !== undefined ? { attach } : {}),
    notify_url: notifyUrl,
    ...(timeExpire !== undefined ? { time_expire: timeExpire } : {}),
    amount: { total, currency: 'CNY' },
    payer: { openid },
    ...(tradeType === 'NATIVE' ? { trade_type: 'NATIVE' as const } : {}),
    ...(partner
      ? {
          sub_mchid: partner.sub_mchid,
          ...(partner.sub_appid ? { sub_appid: partner.sub_appid } : {}),
          payer_kind: partner.payer_kind,
        }
      : {}),
    trade_state: 'NOTPAY',
    refund_reserved: 0,
    refund_count: 0,
    last_refund_at: 0,
    created_at: clock.now(),
  };
  const existing = await ledger.getTransaction(outTradeNo);
  if (!existing) {
    try {
      await ledger.transactions.add({ data: { ...candidate } });
    } catch {
      return openTransaction(ctx, raw, tradeType, partnerEndpoint); // a concurrent identical request created it first: compare against that one
    }
    return outTradeNo;
  }
  const same =
    (existing.trade_type ?? 'JSAPI') === tradeType &&
    (
      ['appid', 'sub_mchid', 'sub_appid', 'payer_kind', 'description', 'attach', 'notify_url', 'time_expire'] as const
    ).every((k) => existing[k] === candidate[k]) &&
    existing.amount.total === total &&
    (tradeType === 'NATIVE' || existing.payer.openid === openid);
  if (!same) throw new HttpError(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
  if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND')
    throw new HttpError(400, 'ORDERPAID', '该订单已支付');
  if (existing.trade_state === 'CLOSED') throw new HttpError(400, 'ORDER_CLOSED', '订单已关闭');
  return outTradeNo;
}

/**
 * What the paying user does once WeChat has shown the payment (the JSAPI sheet or a scanned Native code): pay (SUCCESS,
 * a transaction_id, the TRANSACTION.SUCCESS notification; `payer` names who paid a Native code), fail (PAYERROR, still
 * payable) or stay in USERPAYING. After the order's time_expire nothing can be paid.
 */
export async function userPays(
  ctx: SimContext,
  tx: SimTransaction,
  action: 'pay' | 'fail' | 'userpaying',
  payer?: string,
): Promise<{ result: string; transaction: unknown }> {
  const { ledger, clock } = ctx;
  if (tx.time_expire && Date.parse(tx.time_expire) <= clock.now())
    throw new HttpError(400, 'ORDER_EXPIRED', '订单已过期，无法支付');
  const payable = ledger.command.in([...PAYABLE_STATES]);
  if (action === 'fail' || action === 'userpaying') {
    const state = action === 'fail' ? 'PAYERROR' : 'USERPAYING';
    const { stats } = await ledger.transactions
      .where({ _id: tx._id, trade_state: payable })
      .update({ data: { trade_state: state } });
    if (stats.updated === 0 && tx.trade_state !== state)
      throw new HttpError(409, `ORDER_${tx.trade_state}`, `订单状态为 ${tx.trade_state}`);
    return { result: action, transaction: transactionView((await ledger.getTransaction(tx._id))!) };
  }
  const transactionId = `4200${Array.from(randomBytes(24), (b) => b % 10).join('')}`;
  const { stats } = await ledger.transactions.where({ _id: tx._id, trade_state: payable }).update({
    data: {
      trade_state: 'SUCCESS',
      ...(payer !== undefined ? { payer: { openid: payer } } : {}),
      transaction_id: transactionId,
      success_time: chinaTime(clock.now()),
    },
  });
  if (stats.updated === 0) {
    const current = (await ledger.getTransaction(tx._id))!;
    throw new HttpError(
      409,
      current.trade_state === 'CLOSED' ? 'ORDER_CLOSED' : 'ORDERPAID',
      current.trade_state === 'CLOSED' ? '订单已关闭' : '订单已支付',
    );
  }
  const paid = (await ledger.getTransaction(tx._id))!;
  const resource = paidTransaction(paid);
  await ctx.notify(paid.notify_url, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', resource, {
    outTradeNo: paid._id,
  });
  return { result: 'pay', transaction: resource };
}

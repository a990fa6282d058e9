/**
 * The Native room: `POST /v3/pay/transactions/native` (Native下单) answers a `code_url` that a PC page shows as a QR
 * code, and the phone's side of it, "scan and pay as user X", standing in for WeChat's 扫一扫.
 *
 * What WeChat Pay documents and this room keeps:
 * - the request is JSAPI's without `payer`: nobody is known to pay until a phone scans, so the ledger's transaction
 *   carries `trade_type: NATIVE` and an empty payer until then; the payer WeChat Pay reports (query, notification,
 *   bill) is whoever scanned and paid;
 * - `code_url` lives 2 hours on WeChat Pay's business clock (code_url有效期为2小时，过期后扫码不能再发起支付);
 *   prepaying the same out_trade_no again with identical fields answers a fresh code_url (the earlier one keeps its own
 *   2 hours); different fields are 403 OUT_TRADE_NO_USED, a paid one 400 ORDERPAID, a closed one 400 ORDER_CLOSED;
 * - the same out_trade_no can never be both a JSAPI and a Native transaction (OUT_TRADE_NO_USED either way).
 * Faults for `prepay` reach this endpoint too (both are WeChat Pay's 下单).
 *
 * Control (loopback, unsigned):
 *   POST /sim/native/scan {code_url, openid, action?: pay|cancel|fail|userpaying}   the phone scans, then acts
 *   GET  /sim/native/codes                                                         every code_url and its state
 *   GET  /sim/cashier/pending     what a cashier could still pay: JSAPI prepays and Native codes not lapsed, unpaid
 */
import { randomInt } from 'node:crypto';
import { HttpError } from '../http';
import { chinaTime } from './clock';
import type { Room, RoomRoute, SimContext } from './context';
import { PAYABLE_STATES, type SimPrepay, type TradeState } from './ledger';
import { openTransaction, transactionView, userPays } from './transactions';
import { isObj } from './validate';

/** "code_url有效期为2小时" */
export const CODE_URL_LIFETIME_MS = 2 * 3600 * 1000;
export const CODE_URL_PREFIX = 'weixin://wxpay/bizpayurl?pr=';
const CODE_URL = /^weixin:\/\/wxpay\/bizpayurl\?pr=([0-9A-Za-z]{6,32})$/;
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export type ScanAction = 'pay' | 'cancel' | 'fail' | 'userpaying';
export const SCAN_ACTIONS: readonly ScanAction[] = ['pay', 'cancel', 'fail', 'userpaying'];

export interface SimCode {
  _id: string; // the code_url's pr
  code_url: string;
  out_trade_no: string;
  /** business ms */
  created_at: number;
  expires_at: number;
}

export interface CodeView {
  code_url: string;
  out_trade_no: string;
  created_at: string;
  expires_at: string;
  lapsed: boolean;
  trade_state: TradeState | 'UNKNOWN';
  amount: number;
  description: string;
  payer?: string;
}

export interface PendingView {
  prepays: {
    prepay_id: string;
    out_trade_no: string;
    payer: string;
    amount: number;
    description: string;
    expires_at: string;
  }[];
  codes: CodeView[];
}

const newPr = () => Array.from({ length: 9 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');

export class NativeApi implements Room {
  constructor(private readonly ctx: SimContext) {}

  private get codes() {
    return this.ctx.ledger.db.collection('native_codes');
  }

  route(method: string, path: string): RoomRoute | undefined {
    if (method === 'POST' && path === '/v3/pay/transactions/native')
      return { target: 'prepay', run: (_u, raw) => this.prepay(raw) };
    // 服务商Native下单 (partner.ts): the same code_url, for a sub-merchant
    if (method === 'POST' && path === '/v3/pay/partner/transactions/native')
      return { target: 'prepay', run: (_u, raw) => this.prepay(raw, true) };
    return undefined;
  }

  async control(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    if (method === 'POST' && path === '/sim/native/scan') {
      const b = isObj(body) ? body : {};
      const action = (b.action ?? 'pay') as ScanAction;
      if (!SCAN_ACTIONS.includes(action))
        throw new HttpError(400, 'INVALID_REQUEST', `action: ${SCAN_ACTIONS.join(', ')}`);
      if (typeof b.code_url !== 'string' || !b.code_url)
        throw new HttpError(400, 'INVALID_REQUEST', 'code_url is required');
      if (typeof b.openid !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(b.openid))
        throw new HttpError(400, 'INVALID_REQUEST', 'openid (the scanning user) is required');
      return { status: 200, body: await this.scan(action, b.code_url, b.openid) };
    }
    if (method === 'GET' && path === '/sim/native/codes') return { status: 200, body: await this.listCodes() };
    if (method === 'GET' && path === '/sim/cashier/pending') return { status: 200, body: await this.pending() };
    return undefined;
  }

  private async prepay(raw: Buffer, partner = false): Promise<{ status: number; body: unknown }> {
    const { clock } = this.ctx;
    const outTradeNo = await openTransaction(this.ctx, raw, 'NATIVE', partner);
    for (let attempt = 0; attempt < 5; attempt++) {
      const pr = newPr();
      const code: SimCode = {
        _id: pr,
        code_url: `${CODE_URL_PREFIX}${pr}`,
        out_trade_no: outTradeNo,
        created_at: clock.now(),
        expires_at: clock.now() + CODE_URL_LIFETIME_MS,
      };
      try {
        await this.codes.add({ data: { ...code } });
        return { status: 200, body: { code_url: code.code_url } };
      } catch {
        // that pr is taken: draw another
      }
    }
    throw new HttpError(500, 'SYSTEM_ERROR', '系统错误');
  }

  /**
   * What WeChat does when a phone scans a code_url (验证链接有效性后发起用户支付), then what the user does: pay
   * (SUCCESS, this user the payer, the TRANSACTION.SUCCESS notification), cancel (nothing changes), fail (PAYERROR,
   * still payable), or stay in USERPAYING.
   */
  async scan(
    action: ScanAction,
    codeUrl: string,
    openid: string,
  ): Promise<{ result: ScanAction; transaction: unknown }> {
    const { ledger, clock } = this.ctx;
    const pr = CODE_URL.exec(codeUrl)?.[1];
    if (!pr) throw new HttpError(400, 'INVALID_CODE', '二维码无效：不是微信支付的收款码');
    const code = (await this.codes.doc(pr).get()).data as unknown as SimCode | null;
    if (!code) throw new HttpError(404, 'CODE_NOT_FOUND', '二维码无效');
    if (code.expires_at <= clock.now()) throw new HttpError(400, 'CODE_EXPIRED', '二维码已过期，请刷新页面后重新扫码');
    const tx = (await ledger.getTransaction(code.out_trade_no))!;
    if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND')
      throw new HttpError(409, 'ORDERPAID', '订单已支付');
    if (tx.trade_state === 'CLOSED') throw new HttpError(409, 'ORDER_CLOSED', '订单已关闭');
    if (action === 'cancel') return { result: 'cancel', transaction: transactionView(tx) };
    return (await userPays(this.ctx, tx, action, openid)) as { result: ScanAction; transaction: unknown };
  }

  async listCodes(): Promise<CodeView[]> {
    const { data } = await this.codes.orderBy('created_at', 'desc').limit(1000).get();
    const views: CodeView[] = [];
    for (const code of data as unknown as SimCode[]) {
      const tx = await this.ctx.ledger.getTransaction(code.out_trade_no);
      views.push({
        code_url: code.code_url,
        out_trade_no: code.out_trade_no,
        created_at: chinaTime(code.created_at),
        expires_at: chinaTime(code.expires_at),
        lapsed: code.expires_at <= this.ctx.clock.now(),
        trade_state: tx?.trade_state ?? 'UNKNOWN',
        amount: tx?.amount.total ?? 0,
        description: tx?.description ?? '',
        ...(tx?.payer.openid ? { payer: tx.payer.openid } : {}),
      });
    }
    return views;
  }

  /** What a cashier could still pay now: JSAPI prepays and Native codes within their 2 hours, of unpaid transactions. */
  async pending(): Promise<PendingView> {
    const now = this.ctx.clock.now();
    const { data } = await this.ctx.ledger.prepays
      .where({ expires_at: this.ctx.ledger.command.gt(now) })
      .limit(1000)
      .get();
    const prepays: PendingView['prepays'] = [];
    for (const prepay of data as unknown as SimPrepay[]) {
      const tx = await this.ctx.ledger.getTransaction(prepay.out_trade_no);
      if (!tx || !PAYABLE_STATES.includes(tx.trade_state)) continue;
      prepays.push({
        prepay_id: prepay._id,
        out_trade_no: tx._id,
        payer: tx.payer.openid,
        amount: tx.amount.total,
        description: tx.description,
        expires_at: chinaTime(prepay.expires_at),
      });
    }
    const codes = (await this.listCodes()).filter(
      (c) => !c.lapsed && PAYABLE_STATES.includes(c.trade_state as TradeState),
    );
    return { prepays, codes };
  }
}

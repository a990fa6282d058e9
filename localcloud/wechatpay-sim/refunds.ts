/**
 * The refunds API family: create, query, apply-abnormal-refund, and the refund's life after acceptance
 * (PROCESSING → SUCCESS | CLOSED | ABNORMAL, notified; ABNORMAL → PROCESSING → SUCCESS once handled).
 *
 * WeChat Pay's rules, as its refund documentation states them:
 * - an out_refund_no is one refund: a repeat answers that refund, whatever the rules below say now;
 * - a new one must fit the payment: paid (the refund API does not know unpaid orders: 404), within what is still
 *   refundable (400 INVALID_REQUEST 申请退款金额超过订单可退金额), at most 50 per payment (400 INVALID_REQUEST),
 *   and a minute after the payment's previous accepted refund (429 FREQUENCY_LIMITED) — the three checked and the
 *   amount reserved in one compare-and-set, so concurrent requests cannot pass them together;
 * - ABNORMAL keeps the refund's amount (the money has left the merchant and waits); CLOSED gives it back.
 */
import { constants, privateDecrypt, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError, parseJsonBody } from '../http';
import { chinaTime } from './clock';
import type { Room, RoomRoute, SimContext } from './context';
import type { RefundStatus, SimRefund, SimTransaction } from './ledger';
import { refundSubMerchant } from './partner';
import {
  checkNotify,
  isObj,
  optionalString,
  OUT_REFUND_NO,
  paramError,
  requireFen,
  requireObject,
  requireString,
} from './validate';

/** "同一笔订单多次退款的请求需相隔1分钟" */
export const REFUND_INTERVAL_MS = 60_000;
/** "每个支付订单的部分退款次数不能超过50次" */
export const MAX_REFUNDS_PER_PAYMENT = 50;
/** "错误或无效请求频率限制：6qps": error answers of the refund API per second, per merchant */
export const REFUND_ERROR_LIMIT_PER_SECOND = 6;

/** The Refund object of the create and query answers. */
export function refundView(r: SimRefund) {
  return {
    refund_id: r.refund_id,
    out_refund_no: r._id,
    transaction_id: r.transaction_id,
    out_trade_no: r.out_trade_no,
    channel: r.channel ?? 'ORIGINAL',
    user_received_account: r.user_received_account ?? '支付用户零钱',
    ...(r.success_time ? { success_time: r.success_time } : {}),
    create_time: r.create_time,
    status: r.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: r.amount.total,
      refund: r.amount.refund,
      payer_total: r.amount.total,
      payer_refund: r.amount.refund,
      settlement_refund: r.amount.refund,
      settlement_total: r.amount.total,
      discount_refund: 0,
      currency: 'CNY',
      refund_fee: 0,
    },
    promotion_detail: [],
  };
}

export class RefundsApi implements Room {
  constructor(private readonly ctx: SimContext) {}

  route(method: string, path: string): RoomRoute | undefined {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v3/refund/domestic/refunds')
      return { target: 'refund', run: (_u, raw) => this.create(raw) };
    if (method === 'GET' && (m = path.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)$/))) {
      const outRefundNo = decodeURIComponent(m[1]!);
      return { target: 'refund-query', run: (url) => this.query(outRefundNo, url) };
    }
    if (method === 'POST' && (m = path.match(/^\/v3\/refund\/domestic\/refunds\/([^/]+)\/apply-abnormal-refund$/))) {
      const refundId = decodeURIComponent(m[1]!);
      return { target: 'abnormal-refund', run: (_u, raw, req) => this.applyAbnormal(refundId, raw, req) };
    }
    return undefined;
  }

  /** After a restart: refunds still PROCESSING settle again after the delay. */
  async resume(): Promise<void> {
    for (const refund of await this.ctx.ledger.listRefunds({ status: 'PROCESSING' })) this.scheduleSettle(refund._id);
  }

  private async create(raw: Buffer): Promise<{ status: number; body: unknown }> {
    const { ledger, clock, settings, faults } = this.ctx;
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const outTradeNo = optionalString(body, 'out_trade_no', '/out_trade_no', 32);
    const transactionId = optionalString(body, 'transaction_id', '/transaction_id', 32);
    if (!outTradeNo && !transactionId) throw paramError('/out_trade_no', 'out_trade_no or transaction_id is required');
    const outRefundNo = requireString(body, 'out_refund_no', '/out_refund_no', { max: 64, pattern: OUT_REFUND_NO });
    const reason = optionalString(body, 'reason', '/reason', 80);
    const notifyUrl = checkNotify(body, 'notify_url', '/notify_url', false);
    const amount = requireObject(body, 'amount', '/amount');
    const refund = requireFen(amount, 'refund', '/amount/refund');
    const total = requireFen(amount, 'total', '/amount/total');
    if (amount.currency !== 'CNY') throw paramError('/amount/currency', 'must be CNY');
    // a service provider refunds for the sub-merchant it names (partner.ts); its other sub-merchants' orders are not found
    const subMchid = refundSubMerchant(this.ctx, optionalString(body, 'sub_mchid', '/sub_mchid', 32));

    const found = await ledger.findTransaction({ outTradeNo, transactionId });
    // "请检查你的订单号是否正确且是否已支付，未支付的订单不能发起退款": the refund API knows paid transactions only
    if (!found || found.sub_mchid !== subMchid || (found.trade_state !== 'SUCCESS' && found.trade_state !== 'REFUND'))
      throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const existing = await ledger.getRefund(outRefundNo);
    if (existing) {
      if (existing.out_trade_no !== found._id || existing.amount.refund !== refund || existing.amount.total !== total) {
        throw new HttpError(400, 'INVALID_REQUEST', '退款单号已存在，请求参数与原退款不一致');
      }
      return { status: 200, body: refundView(existing) };
    }
    if (total !== found.amount.total)
      throw paramError('/amount/total', 'differs from the order total', '订单金额与原订单金额不一致');
    if (refund > total) throw paramError('/amount/refund', 'greater than total', '退款金额不能大于订单金额');
    const tx = await this.withRefundCounters(found);
    const _ = ledger.command;
    const now = clock.now();
    const reserved = await ledger.transactions
      .where({
        _id: tx._id,
        refund_reserved: _.lte(total - refund),
        refund_count: _.lt(MAX_REFUNDS_PER_PAYMENT),
        last_refund_at: _.lte(now - settings.refundIntervalMs),
      })
      .update({ data: { refund_reserved: _.inc(refund), refund_count: _.inc(1), last_refund_at: now } });
    if (reserved.stats.updated === 0) {
      if (await ledger.getRefund(outRefundNo)) return this.create(raw); // the same out_refund_no raced in: answer with the refund that won
      const current = (await ledger.getTransaction(tx._id))!;
      if (current.refund_reserved > total - refund)
        throw new HttpError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
      if (current.refund_count >= MAX_REFUNDS_PER_PAYMENT)
        throw new HttpError(400, 'INVALID_REQUEST', `每个支付订单的部分退款次数不能超过${MAX_REFUNDS_PER_PAYMENT}次`);
      throw new HttpError(429, 'FREQUENCY_LIMITED', '单笔订单请求频率过高，请于1分钟后重试');
    }
    const outcome = faults.take('refund-outcome');
    const record: SimRefund = {
      _id: outRefundNo,
      refund_id: `50${Array.from(randomBytes(27), (b) => b % 10).join('')}`,
      out_trade_no: tx._id,
      transaction_id: tx.transaction_id!,
      ...(reason !== undefined ? { reason } : {}),
      ...(notifyUrl !== undefined ? { notify_url: notifyUrl } : {}),
      amount: { refund, total, currency: 'CNY' },
      status: 'PROCESSING',
      create_time: chinaTime(now),
      planned_outcome: outcome?.kind ?? 'SUCCESS',
    };
    try {
      await ledger.refunds.add({ data: { ...record } });
    } catch {
      // the same out_refund_no raced in: give the reservation back and answer with the refund that won
      await ledger.transactions
        .doc(tx._id)
        .update({ data: { refund_reserved: _.inc(-refund), refund_count: _.inc(-1) } });
      return this.create(raw);
    }
    this.scheduleSettle(outRefundNo);
    return { status: 200, body: refundView(record) };
  }

  /** Ledgers written before the refund counters existed: count their refunds once. */
  private async withRefundCounters(tx: SimTransaction): Promise<SimTransaction> {
    const { ledger } = this.ctx;
    if (typeof tx.refund_count === 'number' && typeof tx.last_refund_at === 'number') return tx;
    const refunds = await ledger.listRefunds({ outTradeNo: tx._id });
    const last = refunds.reduce((max, r) => Math.max(max, Date.parse(r.create_time)), 0);
    await ledger.transactions.doc(tx._id).update({ data: { refund_count: refunds.length, last_refund_at: last } });
    return (await ledger.getTransaction(tx._id))!;
  }

  private async query(outRefundNo: string, url: URL): Promise<{ status: number; body: unknown }> {
    const subMchid = refundSubMerchant(this.ctx, url.searchParams.get('sub_mchid'));
    const refund = await this.ctx.ledger.getRefund(outRefundNo);
    const tx = refund && (await this.ctx.ledger.getTransaction(refund.out_trade_no));
    if (!refund || tx?.sub_mchid !== subMchid) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return { status: 200, body: refundView(refund) };
  }

  /**
   * POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund: the merchant tells WeChat Pay where an
   * ABNORMAL refund's money should go. bank_account and real_name arrive encrypted with the WeChat Pay public key
   * (RSA-OAEP) and the request names that key in Wechatpay-Serial. The answer is the Refund object, PROCESSING
   * again; it ends SUCCESS (with a REFUND.SUCCESS notification) after refundDelayMs. Only the card's last four digits
   * are kept.
   */
  private async applyAbnormal(
    refundId: string,
    raw: Buffer,
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown }> {
    const { ledger, clock } = this.ctx;
    const body = parseJsonBody(raw);
    if (!isObj(body)) throw paramError('/', 'body must be an object');
    const outRefundNo = requireString(body, 'out_refund_no', '/out_refund_no', { max: 64, pattern: OUT_REFUND_NO });
    const type = requireString(body, 'type', '/type', { max: 32 });
    if (type !== 'USER_BANK_CARD' && type !== 'MERCHANT_BANK_CARD')
      throw paramError('/type', 'USER_BANK_CARD or MERCHANT_BANK_CARD');
    const bankType = optionalString(body, 'bank_type', '/bank_type', 16);
    const bankAccountCipher = optionalString(body, 'bank_account', '/bank_account', 1024);
    const realNameCipher = optionalString(body, 'real_name', '/real_name', 1024);
    let accountTail: string | undefined;
    if (type === 'USER_BANK_CARD') {
      const required = '若退款至用户此字段必填';
      if (!bankType) throw paramError('/bank_type', 'missing', `bank_type ${required}`);
      if (!bankAccountCipher) throw paramError('/bank_account', 'missing', `bank_account ${required}`);
      if (!realNameCipher) throw paramError('/real_name', 'missing', `real_name ${required}`);
    }
    if (bankAccountCipher !== undefined || realNameCipher !== undefined) {
      const serial = this.checkSensitiveSerial(req);
      if (bankAccountCipher !== undefined) {
        const account = this.decryptSensitive(bankAccountCipher, '/bank_account', serial);
        if (!/^\d{12,19}$/.test(account))
          throw paramError('/bank_account', 'not a bank card number', '收款银行卡号格式错误');
        accountTail = account.slice(-4);
      }
      if (realNameCipher !== undefined && this.decryptSensitive(realNameCipher, '/real_name', serial).trim() === '') {
        throw paramError('/real_name', 'empty', '收款用户姓名不能为空');
      }
    }
    const refund = await ledger.findRefundById(refundId);
    if (!refund) throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    if (refund._id !== outRefundNo) throw new HttpError(400, 'INVALID_REQUEST', '商户退款单号与微信支付退款单号不匹配');
    if (refund.status !== 'ABNORMAL') {
      // the same application again (its answer was lost): answer the refund as it is now
      if (refund.abnormal_handling?.type === type) return { status: 200, body: refundView(refund) };
      throw new HttpError(400, 'INVALID_REQUEST', '退款单状态不是退款异常，无法发起异常退款');
    }
    const handling: SimRefund['abnormal_handling'] = {
      type,
      ...(bankType ? { bank_type: bankType } : {}),
      ...(accountTail ? { account_tail: accountTail } : {}),
      at: chinaTime(clock.now()),
    };
    const { stats } = await ledger.refunds.where({ _id: refund._id, status: 'ABNORMAL' }).update({
      data: {
        status: 'PROCESSING',
        planned_outcome: 'SUCCESS',
        channel: 'OTHER_BANKCARD',
        user_received_account: type === 'USER_BANK_CARD' ? `${bankName(bankType!)}${accountTail}` : '商户结算银行账户',
        abnormal_handling: handling,
      },
    });
    if (stats.updated === 0) return this.applyAbnormal(refundId, raw, req); // raced with another application
    this.scheduleSettle(refund._id);
    return { status: 200, body: refundView((await ledger.getRefund(refund._id))!) };
  }

  /** Wechatpay-Serial must name a WeChat Pay key this merchant has in its current mode. */
  private checkSensitiveSerial(req: IncomingMessage): string {
    const serial = req.headers['wechatpay-serial'];
    if (typeof serial !== 'string' || !serial)
      throw new HttpError(400, 'PARAM_ERROR', 'HTTP header缺少微信支付平台证书序列号(Wechatpay-Serial)');
    if (!this.ctx.signing.knownSerials().includes(serial))
      throw new HttpError(400, 'PARAM_ERROR', '平台证书序列号Wechatpay-Serial错误');
    return serial;
  }

  /** RSA-OAEP (SHA-1, as WeChat Pay's sensitive-field encryption) with the key behind the serial named. */
  private decryptSensitive(ciphertext: string, field: string, serial: string): string {
    try {
      return privateDecrypt(
        { key: this.ctx.signing.privateKeyFor(serial)!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
        Buffer.from(ciphertext, 'base64'),
      ).toString('utf8');
    } catch {
      throw paramError(field, 'cannot be decrypted', `${field.slice(1)} 解密失败，请使用微信支付公钥加密`);
    }
  }

  private scheduleSettle(outRefundNo: string): void {
    this.ctx.timers.after(this.ctx.settings.refundDelayMs, () => {
      this.settle(outRefundNo).catch((error: unknown) =>
        this.ctx.log?.(`[wechatpay-sim] refund settle failed: ${String(error)}`),
      );
    });
  }

  /**
   * Moves a PROCESSING refund to its planned outcome (or the one given) and notifies. An ABNORMAL refund moves only
   * when a status is given: SUCCESS or CLOSED, as when the merchant handles it in the merchant platform.
   */
  async settle(outRefundNo: string, status?: Exclude<RefundStatus, 'PROCESSING'>): Promise<SimRefund | undefined> {
    const { ledger, clock } = this.ctx;
    const refund = await ledger.getRefund(outRefundNo);
    if (!refund) return undefined;
    const from: RefundStatus =
      refund.status === 'ABNORMAL' && status !== undefined && status !== 'ABNORMAL' ? 'ABNORMAL' : 'PROCESSING';
    const outcome = status ?? (refund.planned_outcome === 'PROCESSING' ? 'SUCCESS' : refund.planned_outcome);
    const handled =
      from === 'ABNORMAL' ? { abnormal_handling: { type: 'MERCHANT_PLATFORM', at: chinaTime(clock.now()) } } : {};
    const { stats } = await ledger.refunds.where({ _id: outRefundNo, status: from }).update({
      data: {
        status: outcome,
        ...(outcome === 'SUCCESS' ? { success_time: chinaTime(clock.now()) } : {}),
        ...handled,
      },
    });
    if (stats.updated === 0) return refund;
    const _ = ledger.command;
    if (outcome === 'SUCCESS')
      await ledger.transactions
        .where({ _id: refund.out_trade_no, trade_state: 'SUCCESS' })
        .update({ data: { trade_state: 'REFUND' } });
    else if (outcome === 'CLOSED')
      await ledger.transactions
        .doc(refund.out_trade_no)
        .update({ data: { refund_reserved: _.inc(-refund.amount.refund) } });
    const settled = (await ledger.getRefund(outRefundNo))!;
    if (settled.notify_url) {
      const tx = (await ledger.getTransaction(settled.out_trade_no))!;
      const resource = {
        ...(tx.sub_mchid ? { sp_mchid: tx.mchid, sub_mchid: tx.sub_mchid } : { mchid: tx.mchid }),
        out_trade_no: tx._id,
        transaction_id: settled.transaction_id,
        out_refund_no: settled._id,
        refund_id: settled.refund_id,
        refund_status: settled.status,
        ...(settled.success_time ? { success_time: settled.success_time } : {}),
        user_received_account: settled.user_received_account ?? '支付用户零钱',
        amount: {
          total: settled.amount.total,
          refund: settled.amount.refund,
          payer_total: settled.amount.total,
          payer_refund: settled.amount.refund,
        },
      };
      const summary = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭', PROCESSING: '退款处理中' }[
        settled.status
      ];
      await this.ctx.notify(settled.notify_url, `REFUND.${settled.status}`, summary, 'refund', resource, {
        outTradeNo: tx._id,
        outRefundNo: settled._id,
      });
    }
    return settled;
  }
}

const BANK_NAMES: Record<string, string> = {
  ICBC: '工商银行',
  ABC: '农业银行',
  BOC: '中国银行',
  CCB: '建设银行',
  BOCOM: '交通银行',
  CMB: '招商银行',
  PAB: '平安银行',
  SPDB: '浦发银行',
  CITIC: '中信银行',
  CEB: '光大银行',
  CMBC: '民生银行',
  CIB: '兴业银行',
  GDB: '广发银行',
  PSBC: '邮储银行',
  NBCB: '宁波银行',
};

/** user_received_account for a bank card: "{银行名称}{卡类型}{卡尾号}". */
function bankName(bankType: string): string {
  const [bank, kind] = bankType.split('_');
  return `${BANK_NAMES[bank ?? ''] ?? bank}${kind === 'CREDIT' ? '信用卡' : '借记卡'}`;
}

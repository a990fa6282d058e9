/**
 * The WeChat Pay simulator's ledger: transactions (one per out_trade_no), refunds (one per out_refund_no) and
 * prepays, on the local cloud's embedded database (a folder, or memory). Every room reads and writes money through
 * here; changes of state are compare-and-sets on these collections, so concurrent requests settle as WeChat Pay's
 * would. `records()` is the narrow read-only view a bills room needs (see bills.ts `recordsLedger`).
 */
import { LocalDatabaseEngine, type LocalDatabase } from '../db/database';

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';
export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
/** states a transaction can still be paid (or closed) from */
export const PAYABLE_STATES: readonly TradeState[] = ['NOTPAY', 'USERPAYING', 'PAYERROR'];

export interface SimTransaction {
  _id: string; // out_trade_no
  appid: string;
  mchid: string;
  description: string;
  attach?: string;
  notify_url: string;
  time_expire?: string;
  amount: { total: number; currency: 'CNY' };
  /** JSAPI: the payer named at prepay. NATIVE: '' until a phone scans the code_url and pays (native.ts) */
  payer: { openid: string };
  /** how it was prepaid; absent: JSAPI */
  trade_type?: 'JSAPI' | 'NATIVE';
  /** partner mode (partner.ts): appid and mchid are then sp_appid and sp_mchid; the payer's openid is of this kind */
  sub_mchid?: string;
  sub_appid?: string;
  payer_kind?: 'sp_openid' | 'sub_openid';
  trade_state: TradeState;
  transaction_id?: string;
  success_time?: string;
  /** refunded or being refunded (PROCESSING, ABNORMAL, SUCCESS); CLOSED gives its share back */
  refund_reserved: number;
  /** refunds accepted for this payment (every out_refund_no, whatever its outcome) */
  refund_count: number;
  /** business time of the last accepted refund; 0 when none */
  last_refund_at: number;
  created_at: number;
}

export type AbnormalHandling = {
  type: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD' | 'MERCHANT_PLATFORM';
  bank_type?: string;
  /** the card's last four digits: the simulator never keeps a whole account number */
  account_tail?: string;
  at: string;
};

export interface SimRefund {
  _id: string; // out_refund_no
  refund_id: string;
  out_trade_no: string;
  transaction_id: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: 'CNY' };
  status: RefundStatus;
  create_time: string;
  success_time?: string;
  planned_outcome: RefundStatus;
  channel?: string;
  user_received_account?: string;
  /** how an ABNORMAL refund was handled: apply-abnormal-refund (its type) or in the merchant platform */
  abnormal_handling?: AbnormalHandling;
}

export interface SimPrepay {
  _id: string; // prepay_id
  out_trade_no: string;
  expires_at: number;
}

export class Ledger {
  private readonly engine: LocalDatabaseEngine;
  readonly db: LocalDatabase;

  /** `dataDir` absent: memory only. `clock` stamps the database's server dates. */
  constructor(dataDir: string | undefined, clock: () => number) {
    this.engine = new LocalDatabaseEngine(dataDir, clock);
    this.db = this.engine.database({ throwOnNotFound: false });
  }

  get command() {
    return this.db.command;
  }
  get transactions() {
    return this.db.collection('transactions');
  }
  get refunds() {
    return this.db.collection('refunds');
  }
  get prepays() {
    return this.db.collection('prepays');
  }

  async getTransaction(outTradeNo: string): Promise<SimTransaction | undefined> {
    return ((await this.transactions.doc(outTradeNo).get()).data as unknown as SimTransaction | null) ?? undefined;
  }

  async findTransaction(by: { outTradeNo?: string; transactionId?: string }): Promise<SimTransaction | undefined> {
    if (by.outTradeNo) return this.getTransaction(by.outTradeNo);
    return (
      ((await this.transactions.where({ transaction_id: by.transactionId }).get()).data[0] as unknown as
        SimTransaction | undefined) ?? undefined
    );
  }

  async listTransactions(): Promise<SimTransaction[]> {
    return (await this.transactions.orderBy('created_at', 'asc').limit(1000).get()).data as unknown as SimTransaction[];
  }

  async getRefund(outRefundNo: string): Promise<SimRefund | undefined> {
    return ((await this.refunds.doc(outRefundNo).get()).data as unknown as SimRefund | null) ?? undefined;
  }

  async findRefundById(refundId: string): Promise<SimRefund | undefined> {
    return (
      ((await this.refunds.where({ refund_id: refundId }).get()).data[0] as unknown as SimRefund | undefined) ??
      undefined
    );
  }

  async listRefunds(filter: { outTradeNo?: string; status?: RefundStatus } = {}): Promise<SimRefund[]> {
    const where = {
      ...(filter.outTradeNo ? { out_trade_no: filter.outTradeNo } : {}),
      ...(filter.status ? { status: filter.status } : {}),
    };
    const query = Object.keys(where).length ? this.refunds.where(where) : this.refunds;
    return (await query.orderBy('create_time', 'asc').limit(1000).get()).data as unknown as SimRefund[];
  }

  async getPrepay(prepayId: string): Promise<SimPrepay | undefined> {
    return ((await this.prepays.doc(prepayId).get()).data as unknown as SimPrepay | null) ?? undefined;
  }

  /** What a bills room reads: every transaction and refund record. */
  records(): { transactions: () => Promise<SimTransaction[]>; refunds: () => Promise<SimRefund[]> } {
    return { transactions: () => this.listTransactions(), refunds: () => this.listRefunds() };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

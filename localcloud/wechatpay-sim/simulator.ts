/**
 * The WeChat Pay APIv3 simulator, behind one small facade. It is cut into rooms the way Firebase's emulators are:
 *   server.ts        HTTP, routing, authentication (auth.ts), faults (faults.ts), the refund error-rate limit,
 *                    answers signed by the mode's key (signing.ts)
 *   ledger.ts        transactions, refunds, prepays on the embedded database
 *   transactions.ts  prepay, query, close        refunds.ts  create, query, apply-abnormal-refund, settlement
 *   certificates.ts  platform certificates       cashier.ts  the payment sheet's checks, pay / cancel / fail
 *   native.ts        Native prepay (code_url) and the phone's scan-and-pay, plugged like any room
 *   notifier.ts      delivery with WeChat's retry schedule and the delivery log
 *   control.ts       /sim/… for testers          clock.ts    business time
 *   bills.ts         trade and fund flow bills and their download links (fault targets `bill`, `bill-download`,
 *                    /sim/bills/…), plugged like any room, reading the ledger through `ledger.records()`
 *
 * It runs on its own base URL; the functions' WECHATPAY_BASE_URL points here or at api.mch.weixin.qq.com.
 */
import type { LocalKeys } from '../keys';
import { BillsRoom, recordsLedger, type BillLedger } from './bills';
import { Cashier, type CashierAction, type RequestPaymentInput } from './cashier';
import { chinaTime, SimClock } from './clock';
import { Timers, type Room, type SimContext, type SimSettings } from './context';
import { ControlApi } from './control';
import { CertificatesApi } from './certificates';
import { FaultBook } from './faults';
import { Ledger, type RefundStatus, type SimRefund, type SimTransaction } from './ledger';
import { NativeApi, type ScanAction } from './native';
import { Notifier, signtestSignature, type Delivery } from './notifier';
import { demoSubMerchants, refundSubMerchant, type SimMode, type SimSubMerchant } from './partner';
import { RefundsApi, REFUND_INTERVAL_MS } from './refunds';
import { SimServer } from './server';
import { encryptNotification, MIGRATION_DURATION_MS, PlatformSigning, type SigningMode } from './signing';
import { TransactionsApi, transactionView } from './transactions';

export type { RequestPaymentInput } from './cashier';
export { CODE_URL_LIFETIME_MS, type PendingView } from './native';
export type { Answer, Room } from './context';
export { REFUND_ERROR_LIMIT_PER_SECOND, REFUND_INTERVAL_MS } from './refunds';
export type { SigningMode } from './signing';
export { demoSubMerchants, type SimMode, type SimSubMerchant } from './partner';

export interface WechatPaySimulatorOptions {
  keys: LocalKeys;
  /** ledger folder; memory only when absent */
  dataDir?: string;
  host?: string;
  port?: number;
  /** default publicKey: what WeChat Pay gives a merchant created today */
  signingMode?: SigningMode;
  /** scales the notification retry schedule: 1 is WeChat's real timing */
  timeFactor?: number;
  /** how long a refund stays PROCESSING */
  refundDelayMs?: number;
  /** refunds of one payment at least this far apart (default 60000, WeChat Pay's minute); 0 turns the rule off */
  refundIntervalMs?: number;
  /** error answers of the refund API per second before it answers 429 (WeChat Pay: 6); 0 or absent: off */
  refundErrorLimitPerSecond?: number;
  /** `both` mode: when the move of notifications to the public key started (business ms; default: construction) and how long it takes */
  migration?: { startedAt?: number; durationMs?: number };
  /**
   * direct (default): a direct merchant; partner: the merchant is a service provider with `subMerchants` (default the
   * two demo sub-merchants, partner.ts)
   */
  mode?: SimMode;
  subMerchants?: SimSubMerchant[];
  /** what bills are made from (default: this simulator's ledger); a benchmark hands a synthetic day */
  billLedger?: BillLedger;
  /** the wall clock (signature timestamps); business time is this plus what the control API moved */
  clock?: () => number;
  log?: (line: string) => void;
}

export class WechatPaySimulator {
  readonly faults = new FaultBook();
  readonly notifier: Notifier;
  readonly simClock: SimClock;
  readonly ledger: Ledger;
  readonly settings: SimSettings;
  private readonly ctx: SimContext;
  private readonly signing: PlatformSigning;
  private readonly server: SimServer;
  private readonly refundsApi: RefundsApi;
  private readonly cashierRoom: Cashier;
  private readonly nativeRoom: NativeApi;
  readonly bills: BillsRoom;
  private readonly control: ControlApi;
  private readonly rooms: Room[] = [];
  private readonly roomTargets: string[] = [];

  constructor(private readonly options: WechatPaySimulatorOptions) {
    this.simClock = new SimClock(options.clock ?? Date.now);
    this.settings = {
      signingMode: options.signingMode ?? 'publicKey',
      timeFactor: options.timeFactor ?? 1,
      refundDelayMs: options.refundDelayMs ?? 1000,
      refundIntervalMs: options.refundIntervalMs ?? REFUND_INTERVAL_MS,
      refundErrorLimitPerSecond: options.refundErrorLimitPerSecond ?? 0,
      partner: {
        mode: options.mode ?? 'direct',
        subMerchants: options.subMerchants ?? demoSubMerchants(options.keys),
      },
      migration: {
        startedAt: options.migration?.startedAt ?? this.simClock.now(),
        durationMs: options.migration?.durationMs ?? MIGRATION_DURATION_MS,
      },
    };
    this.ledger = new Ledger(options.dataDir, this.simClock.now);
    this.signing = new PlatformSigning(options.keys, this.settings, this.simClock.now, this.simClock.wall);
    const timers = new Timers();
    this.notifier = new Notifier({
      db: this.ledger.db,
      faults: this.faults,
      clock: this.simClock.now,
      timeFactor: () => this.settings.timeFactor,
      sign: (body, probe, id) => {
        const headers: Record<string, string> = this.signing.notificationHeaders(id, body);
        if (probe) headers['Wechatpay-Signature'] = signtestSignature();
        return headers;
      },
    });
    this.ctx = {
      keys: options.keys,
      settings: this.settings,
      clock: this.simClock,
      ledger: this.ledger,
      faults: this.faults,
      notifier: this.notifier,
      signing: this.signing,
      timers,
      notify: (url, eventType, summary, originalType, resource, refs) => {
        const envelope = encryptNotification({
          apiV3Key: options.keys.apiV3Key,
          eventType,
          summary,
          originalType,
          resource,
          createTime: chinaTime(this.simClock.now()),
        });
        return this.notifier.enqueue(envelope, url, refs);
      },
      ...(options.log ? { log: options.log } : {}),
    };
    this.refundsApi = new RefundsApi(this.ctx);
    this.cashierRoom = new Cashier(this.ctx);
    this.control = new ControlApi({
      ctx: this.ctx,
      cashier: this.cashierRoom,
      refunds: this.refundsApi,
      rooms: () => this.rooms,
      roomTargets: () => this.roomTargets,
    });
    this.server = new SimServer(this.ctx, (method, path, body, url) => this.control.handle(method, path, body, url));
    for (const room of [new TransactionsApi(this.ctx), this.refundsApi, new CertificatesApi(this.ctx)])
      this.server.plug(room);
    this.nativeRoom = new NativeApi(this.ctx);
    this.plug(this.nativeRoom);
    const { appid, mchid } = options.keys;
    this.bills = new BillsRoom({
      ledger: options.billLedger ?? recordsLedger(this.ledger.records()),
      clock: this.now,
      baseUrl: () => this.baseUrl,
      appid,
      mchid,
      subMerchant: (subMchid) => refundSubMerchant(this.ctx, subMchid),
    });
    this.plug(this.bills, ['bill', 'bill-download']);
  }

  /** Adds a room (a bills room) to the server and the control API; `targets` are the fault targets it answers to. */
  plug(room: Room, targets: readonly string[] = []): void {
    this.rooms.push(room);
    this.roomTargets.push(...targets);
    this.server.plug(room);
  }

  get keys(): LocalKeys {
    return this.options.keys;
  }

  get baseUrl(): string {
    return this.server.baseUrl;
  }

  async start(): Promise<string> {
    const baseUrl = await this.server.listen(this.options.host ?? '127.0.0.1', this.options.port ?? 0);
    await this.notifier.resume();
    await this.refundsApi.resume();
    return baseUrl;
  }

  async close(): Promise<void> {
    this.notifier.close();
    this.ctx.timers.clear();
    await this.server.close();
    await this.ledger.close();
  }

  // ---- settings (also /sim/config) -------------------------------------------------------------------------------

  get signingMode(): SigningMode {
    return this.settings.signingMode;
  }
  set signingMode(mode: SigningMode) {
    this.settings.signingMode = mode;
  }
  get timeFactor(): number {
    return this.settings.timeFactor;
  }
  set timeFactor(factor: number) {
    this.settings.timeFactor = factor;
  }
  get refundDelayMs(): number {
    return this.settings.refundDelayMs;
  }
  set refundDelayMs(ms: number) {
    this.settings.refundDelayMs = ms;
  }
  get refundIntervalMs(): number {
    return this.settings.refundIntervalMs;
  }
  set refundIntervalMs(ms: number) {
    this.settings.refundIntervalMs = ms;
  }
  get refundErrorLimitPerSecond(): number {
    return this.settings.refundErrorLimitPerSecond;
  }
  set refundErrorLimitPerSecond(limit: number) {
    this.settings.refundErrorLimitPerSecond = limit;
  }
  /** direct merchant or service provider (partner.ts); also `POST /sim/partner` */
  get mode(): SimMode {
    return this.settings.partner.mode;
  }
  set mode(mode: SimMode) {
    this.settings.partner.mode = mode;
  }
  /** the sub-merchants bound to the service provider (partner mode) */
  get subMerchants(): SimSubMerchant[] {
    return this.settings.partner.subMerchants;
  }
  set subMerchants(list: SimSubMerchant[]) {
    this.settings.partner.subMerchants = list;
  }
  /** `both` mode: the ramp of notifications moving to the public key */
  get migration(): { startedAt: number; durationMs: number } {
    return this.settings.migration;
  }
  /** `both` mode: a fixed share of notifications signed with the public key instead of the ramp (undefined: the ramp) */
  get publicKeyShare(): number | undefined {
    return this.settings.publicKeyShare;
  }
  set publicKeyShare(share: number | undefined) {
    if (share === undefined) delete this.settings.publicKeyShare;
    else this.settings.publicKeyShare = share;
  }

  /** The share of notifications signed with the public key now. */
  notificationPublicKeyShare(): number {
    return this.signing.publicKeyShare();
  }

  /** The serial a notification with this id is signed with now. */
  notificationSerial(notificationId: string): string {
    return this.signing.notificationSerial(notificationId);
  }

  // ---- platform certificates (certificate mode; platform-certificates.ts) ----------------------------------------

  /** What /v3/certificates lists now, newest first, and which one signs. */
  platformCertificates(): { serial: string; pem: string; validFrom: number; validTo: number; signing: boolean }[] {
    const current = this.signing.certificates.current().serial;
    return this.signing.certificates
      .list(this.simClock.now())
      .map(({ serial, pem, validFrom, validTo }) => ({ serial, pem, validFrom, validTo, signing: serial === current }));
  }

  /** WeChat Pay issues a new platform certificate (a new key), listed from now; with `signNow` it also signs from now. */
  rotateCertificate(options: { signNow?: boolean; days?: number; validFrom?: number } = {}): {
    serial: string;
    pem: string;
    validTo: number;
  } {
    const { serial, pem, validTo } = this.signing.certificates.issue({ now: this.simClock.now(), ...options });
    return { serial, pem, validTo };
  }

  /** Moves certificate-mode signing to an issued certificate. */
  signWithCertificate(serial: string): void {
    this.signing.certificates.signWith(serial);
  }

  // ---- the business clock ----------------------------------------------------------------------------------------

  /** WeChat Pay's business time (ms since the epoch). */
  readonly now = (): number => this.simClock.now();

  /** Moves business time forward (see SimClock). */
  advanceClock(ms: number): number {
    return this.simClock.advance(ms);
  }

  /** Sets business time (ms since the epoch). */
  setClock(at: number): number {
    return this.simClock.set(at);
  }

  // ---- what a tester does ------------------------------------------------------------------------------------------

  /** What the paying user does in the WeChat cashier: with the wx.requestPayment parameters (checked) or a prepay_id. */
  cashier(
    action: CashierAction,
    payment: string | RequestPaymentInput,
  ): Promise<{ result: string; transaction?: unknown }> {
    return this.cashierRoom.act(action, payment);
  }

  /** A phone scans a Native code_url as the user `openid`, then pays, cancels, fails or stays paying (native.ts). */
  scan(action: ScanAction, codeUrl: string, openid: string): Promise<{ result: ScanAction; transaction: unknown }> {
    return this.nativeRoom.scan(action, codeUrl, openid);
  }

  /** What a cashier could still pay: JSAPI prepays and Native codes within their 2 hours, of unpaid transactions. */
  pendingPayments() {
    return this.nativeRoom.pending();
  }

  /** Moves a PROCESSING refund to its planned outcome (or the one given), or an ABNORMAL one to SUCCESS or CLOSED. */
  settleRefund(outRefundNo: string, status?: Exclude<RefundStatus, 'PROCESSING'>): Promise<SimRefund | undefined> {
    return this.refundsApi.settle(outRefundNo, status);
  }

  // ---- the ledger ----------------------------------------------------------------------------------------------------

  getTransaction(outTradeNo: string): Promise<SimTransaction | undefined> {
    return this.ledger.getTransaction(outTradeNo);
  }

  getRefund(outRefundNo: string): Promise<SimRefund | undefined> {
    return this.ledger.getRefund(outRefundNo);
  }

  listTransactions(): Promise<SimTransaction[]> {
    return this.ledger.listTransactions();
  }

  listRefunds(outTradeNo?: string): Promise<SimRefund[]> {
    return this.ledger.listRefunds(outTradeNo ? { outTradeNo } : {});
  }

  /** The Transaction object WeChat Pay answers to a query for this ledger entry. */
  transactionView(tx: SimTransaction) {
    return transactionView(tx);
  }
}

export type { Delivery };

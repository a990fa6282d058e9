/**
 * A typed WeChat Pay APIv3 client on global fetch (no HTTP library: a cloud function loads it on every cold start).
 *
 * - Every request is signed; every 2xx answer is verified against the raw response bytes before it is parsed.
 * - Non-2xx answers become WechatPayApiError (status, code, message, detail, Request-ID); they may be unsigned.
 * - Network errors, timeouts and 5xx are retried with the very same body bytes (out_trade_no / out_refund_no make the
 *   call idempotent at WeChat Pay), with a bounded exponential backoff; 4xx answers are never retried.
 * - The base URL is configuration: the same client talks to api.mch.weixin.qq.com or to the local simulator.
 * - The mode (direct merchant or service provider, partner.ts) is the client's: every call that names a merchant takes
 *   the order's sub-merchant, and the client alone builds the partner paths and merchant fields from it.
 * - Sensitive fields are encrypted once, before the first attempt, with the key `sensitiveKey` names; that key's id
 *   goes in `Wechatpay-Serial` (sensitive.ts).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { decryptAesGcm } from './aesgcm';
import {
  responseBodyStream,
  tradeBillQuery,
  WechatPayBillError,
  type BillApplication,
  type BillDownload,
  type TradeBillRequest,
} from './bill';
import { WechatPayApiError, WechatPayNetworkError } from './errors';
import { encryptSensitive, WechatPaySensitiveError, type SensitiveKey } from './sensitive';
import { partnerPrepayBody, type SubMerchantRef, type WechatPayMode } from './partner';
import { authorize, type MerchantCredential } from './signer';
import {
  ABNORMAL_REFUND_TYPES,
  type AbnormalRefundRequest,
  type JsapiPrepayRequest,
  type JsapiPrepayResponse,
  type NativePrepayRequest,
  type NativePrepayResponse,
  type PlatformCertificate,
  type Refund,
  type RefundCreateRequest,
  type Transaction,
} from './types';
import { loadPlatformKeys, SignatureVerifier, systemClock, type Clock, type Verifier } from './verifier';

export const WECHATPAY_BASE_URL = 'https://api.mch.weixin.qq.com';

export interface WechatPayClientOptions {
  baseUrl?: string;
  /** default direct; partner: the credential is the service provider's (sp_mchid) and each call names a sub-merchant */
  mode?: WechatPayMode;
  credential: MerchantCredential;
  verifier: Verifier;
  /** needed only to decrypt downloaded platform certificates */
  apiV3Key?: string | Buffer;
  /** needed only to encrypt sensitive fields; a function is asked on each use (see selectSensitiveKey) */
  sensitiveKey?: SensitiveKey | (() => SensitiveKey);
  /** per attempt; default 3000 ms */
  timeoutMs?: number;
  /** default 3 (one try and two retries) */
  maxAttempts?: number;
  /** first backoff; doubles each retry, capped at 1 s; default 100 ms */
  backoffMs?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  nonce?: () => string;
  sleep?: (ms: number) => Promise<void>;
}

export const newNonce = (): string => randomBytes(16).toString('hex').toUpperCase();
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ApiResponse {
  status: number;
  body: Buffer;
  requestId: string | undefined;
}

export class WechatPayClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly nonce: () => string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WechatPayClientOptions) {
    this.baseUrl = (options.baseUrl ?? WECHATPAY_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffMs = options.backoffMs ?? 100;
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.nonce = options.nonce ?? newNonce;
    this.sleep = options.sleep ?? defaultSleep;
  }

  get mchid(): string {
    return this.options.credential.mchid;
  }

  get mode(): WechatPayMode {
    return this.options.mode ?? 'direct';
  }

  /** The sub-merchant a call is for: required in partner mode, refused in direct mode (a mix-up is a bug, not a call). */
  private partner(sub: SubMerchantRef | undefined, what: string): SubMerchantRef | undefined {
    if (this.mode === 'direct') {
      if (sub) throw new TypeError(`${what}: sub_mchid in direct mode`);
      return undefined;
    }
    if (!sub?.subMchid) throw new TypeError(`${what}: no sub_mchid in partner mode`);
    return sub;
  }

  prepayJsapi(request: Omit<JsapiPrepayRequest, 'mchid'>, sub?: SubMerchantRef): Promise<JsapiPrepayResponse> {
    const partner = this.partner(sub, 'prepayJsapi');
    if (partner)
      return this.json('POST', '/v3/pay/partner/transactions/jsapi', partnerPrepayBody(this.mchid, request, partner));
    return this.json('POST', '/v3/pay/transactions/jsapi', { ...request, mchid: this.mchid });
  }

  /** Native下单: answers the code_url a QR code shows (valid 2 hours; prepaying again with identical fields renews it). */
  prepayNative(request: Omit<NativePrepayRequest, 'mchid'>, sub?: SubMerchantRef): Promise<NativePrepayResponse> {
    const partner = this.partner(sub, 'prepayNative');
    if (partner)
      return this.json('POST', '/v3/pay/partner/transactions/native', partnerPrepayBody(this.mchid, request, partner));
    return this.json('POST', '/v3/pay/transactions/native', { ...request, mchid: this.mchid });
  }

  /** The path prefix and merchant query of the transaction endpoints. */
  private transactions(sub: SubMerchantRef | undefined, what: string): { prefix: string; merchant: string } {
    const partner = this.partner(sub, what);
    const mchid = encodeURIComponent(this.mchid);
    return partner
      ? {
          prefix: '/v3/pay/partner/transactions',
          merchant: `sp_mchid=${mchid}&sub_mchid=${encodeURIComponent(partner.subMchid)}`,
        }
      : { prefix: '/v3/pay/transactions', merchant: `mchid=${mchid}` };
  }

  queryByOutTradeNo(outTradeNo: string, sub?: SubMerchantRef): Promise<Transaction> {
    const { prefix, merchant } = this.transactions(sub, 'queryByOutTradeNo');
    return this.json('GET', `${prefix}/out-trade-no/${encodeURIComponent(outTradeNo)}?${merchant}`);
  }

  queryByTransactionId(transactionId: string, sub?: SubMerchantRef): Promise<Transaction> {
    const { prefix, merchant } = this.transactions(sub, 'queryByTransactionId');
    return this.json('GET', `${prefix}/id/${encodeURIComponent(transactionId)}?${merchant}`);
  }

  async closeByOutTradeNo(outTradeNo: string, sub?: SubMerchantRef): Promise<void> {
    const partner = this.partner(sub, 'closeByOutTradeNo');
    const path = `/out-trade-no/${encodeURIComponent(outTradeNo)}/close`;
    if (partner)
      await this.send('POST', `/v3/pay/partner/transactions${path}`, {
        sp_mchid: this.mchid,
        sub_mchid: partner.subMchid,
      });
    else await this.send('POST', `/v3/pay/transactions${path}`, { mchid: this.mchid });
  }

  createRefund(request: RefundCreateRequest, sub?: SubMerchantRef): Promise<Refund> {
    const partner = this.partner(sub, 'createRefund');
    return this.json(
      'POST',
      '/v3/refund/domestic/refunds',
      partner ? { sub_mchid: partner.subMchid, ...request } : request,
    );
  }

  queryRefund(outRefundNo: string, sub?: SubMerchantRef): Promise<Refund> {
    const partner = this.partner(sub, 'queryRefund');
    const query = partner ? `?sub_mchid=${encodeURIComponent(partner.subMchid)}` : '';
    return this.json('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}${query}`);
  }

  /**
   * Resolves an ABNORMAL refund (money left the merchant, the user's account refused it): to the user's bank card,
   * whose account and holder's name are encrypted here, or back to the merchant's bank account. The request carries
   * `Wechatpay-Serial` of the encryption key. Arguments are checked before anything is sent.
   */
  async applyAbnormalRefund(refundId: string, request: AbnormalRefundRequest, sub?: SubMerchantRef): Promise<Refund> {
    checkAbnormalRefund(refundId, request);
    const partner = this.partner(sub, 'applyAbnormalRefund');
    const sensitive = this.sensitiveKey();
    const body: AbnormalRefundRequest & { sub_mchid?: string } = {
      ...(partner ? { sub_mchid: partner.subMchid } : {}),
      out_refund_no: request.out_refund_no,
      type: request.type,
    };
    if (request.type === 'USER_BANK_CARD') {
      body.bank_type = request.bank_type;
      body.bank_account = encryptSensitive(request.bank_account!, sensitive.key);
      body.real_name = encryptSensitive(request.real_name!, sensitive.key);
    }
    return this.json(
      'POST',
      `/v3/refund/domestic/refunds/${encodeURIComponent(refundId)}/apply-abnormal-refund`,
      body,
      {
        'Wechatpay-Serial': sensitive.serial,
      },
    );
  }

  private sensitiveKey(): SensitiveKey {
    const source = this.options.sensitiveKey;
    if (!source)
      throw new WechatPaySensitiveError(
        'NO_KEY',
        'the client has no sensitiveKey (WeChat Pay public key or platform certificate)',
      );
    return typeof source === 'function' ? source() : source;
  }

  /**
   * `GET /v3/bill/tradebill`: where to download one day's trade bill, and the SHA1 of the original file (bill.ts). A
   * service provider names the sub-merchant whose bill it wants (without one: every sub-merchant's in one file).
   */
  applyTradeBill(request: TradeBillRequest, sub?: SubMerchantRef): Promise<BillApplication> {
    // the one call a service provider may make for all its sub-merchants at once
    const partner = this.mode === 'partner' && !sub ? undefined : this.partner(sub, 'applyTradeBill');
    return this.json(
      'GET',
      `/v3/bill/tradebill?${tradeBillQuery(partner ? { ...request, sub_mchid: partner.subMchid } : request)}`,
    );
  }

  /**
   * Starts downloading a bill from an application's `download_url`: signed like any request, its answer NOT verified
   * (WeChat Pay signs no bill file; the application's hash_value checks it, see readBill). One attempt: a link lives
   * 30 s, so a failed download is applied for again. The link must be on this client's base URL: the Authorization
   * goes nowhere else. `timeoutMs` bounds the whole download.
   */
  async downloadBill(downloadUrl: string, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<BillDownload> {
    const url = new URL(downloadUrl);
    if (url.origin !== new URL(this.baseUrl).origin)
      throw new WechatPayBillError('FOREIGN_URL', `download_url ${url.origin} is not on ${this.baseUrl}`);
    const pathAndQuery = url.pathname + url.search;
    const timestamp = String(Math.floor(this.clock() / 1000));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url.toString(), {
        method: 'GET',
        headers: {
          Accept: '*/*',
          Authorization: authorize(this.options.credential, 'GET', pathAndQuery, '', timestamp, this.nonce()),
          'User-Agent': 'wxpay-miniprogram/0.1 (node)',
        },
        signal: controller.signal,
      });
    } catch (error) {
      clearTimeout(timer);
      throw new WechatPayNetworkError(
        `GET ${url.pathname} failed: ${(error as Error).message}`,
        controller.signal.aborted,
        { cause: error },
      );
    }
    const requestId = response.headers.get('Request-ID') ?? undefined;
    if (response.status < 200 || response.status >= 300) {
      const raw = Buffer.from(await response.arrayBuffer().finally(() => clearTimeout(timer)));
      throw toApiError(response.status, raw, requestId);
    }
    const body = responseBodyStream(response.body);
    body.once('close', () => clearTimeout(timer));
    return { body, requestId };
  }

  /**
   * Downloads and decrypts the platform certificates. The answer is verified against the keys already known or,
   * on first download, against the certificates it carries (the bootstrap every official SDK uses).
   */
  async downloadCertificates(): Promise<PlatformCertificate[]> {
    const apiV3Key = this.options.apiV3Key;
    if (!apiV3Key) throw new TypeError('downloadCertificates needs apiV3Key');
    const response = await this.send('GET', '/v3/certificates', undefined, { verify: false });
    const parsed = JSON.parse(response.body.toString('utf8')) as {
      data: {
        serial_no: string;
        effective_time: string;
        expire_time: string;
        encrypt_certificate: { nonce: string; associated_data: string; ciphertext: string };
      }[];
    };
    const certificates = parsed.data.map((item) => {
      const pem = decryptAesGcm({
        key: apiV3Key,
        nonce: item.encrypt_certificate.nonce,
        associatedData: item.encrypt_certificate.associated_data,
        ciphertext: item.encrypt_certificate.ciphertext,
      });
      const serial = new X509Certificate(pem).serialNumber.toUpperCase();
      if (serial !== item.serial_no.toUpperCase())
        throw new Error(`certificate serial ${serial} differs from serial_no ${item.serial_no}`);
      return { serialNo: serial, effectiveTime: item.effective_time, expireTime: item.expire_time, pem };
    });
    const headers = response.headers;
    try {
      this.options.verifier.verify(headers, response.body);
    } catch (known) {
      const own = new SignatureVerifier({
        keys: loadPlatformKeys(certificates.map((c) => ({ pem: c.pem }))),
        clock: this.clock,
      });
      try {
        own.verify(headers, response.body);
      } catch {
        throw known;
      }
    }
    return certificates;
  }

  private async json<T>(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const response = await this.send(method, pathAndQuery, body, { headers });
    return JSON.parse(response.body.toString('utf8')) as T;
  }

  /** Signs, sends, retries what may be retried, verifies 2xx answers. `headers` are added, never replace the signed ones. */
  async send(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body?: unknown,
    { verify = true, headers: extraHeaders }: { verify?: boolean; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse & { headers: Headers }> {
    const bodyText = body === undefined ? '' : JSON.stringify(body); // fixed once: every retry sends the same bytes
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await this.sleep(Math.min(1000, this.backoffMs * 2 ** (attempt - 2)));
      const timestamp = String(Math.floor(this.clock() / 1000));
      const headers: Record<string, string> = {
        ...withoutOwnHeaders(extraHeaders),
        Accept: 'application/json',
        Authorization: authorize(this.options.credential, method, pathAndQuery, bodyText, timestamp, this.nonce()),
        'User-Agent': 'wxpay-miniprogram/0.1 (node)',
      };
      if (method === 'POST') headers['Content-Type'] = 'application/json';
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.timeoutMs);
      let status: number;
      let responseHeaders: Headers;
      let raw: Buffer;
      try {
        const response = await this.fetchImpl(this.baseUrl + pathAndQuery, {
          method,
          headers,
          body: method === 'POST' ? bodyText : undefined,
          signal: controller.signal,
        });
        status = response.status;
        responseHeaders = response.headers;
        raw = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        const timedOut = controller.signal.aborted;
        lastError = new WechatPayNetworkError(
          timedOut
            ? `${method} ${pathAndQuery} timed out after ${this.timeoutMs} ms`
            : `${method} ${pathAndQuery} failed: ${(error as Error).message}`,
          timedOut,
          { cause: error },
        );
        continue;
      } finally {
        clearTimeout(timer);
      }
      const requestId = responseHeaders.get('Request-ID') ?? undefined;
      if (status >= 200 && status < 300) {
        if (verify) this.options.verifier.verify(responseHeaders, raw);
        return { status, body: raw, requestId, headers: responseHeaders };
      }
      const error = toApiError(status, raw, requestId);
      if (status < 500) throw error;
      lastError = error;
    }
    throw lastError ?? new WechatPayNetworkError('no attempt made', false);
  }
}

const OWN_HEADERS = new Set(['accept', 'authorization', 'user-agent', 'content-type']);

/** Extra headers minus the ones send() sets itself, in any letter case (fetch would join two spellings into one value). */
function withoutOwnHeaders(extra: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(extra ?? {}).filter(([name]) => !OWN_HEADERS.has(name.toLowerCase())));
}

const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;

/** The endpoint's documented shapes: refund_id string(32), out_refund_no string(64) of [0-9A-Za-z_-|*@], bank_type string(16). */
function checkAbnormalRefund(refundId: string, request: AbnormalRefundRequest): void {
  const problem = (what: string) => new TypeError(`applyAbnormalRefund: ${what}`);
  if (refundId.length < 1 || refundId.length > 32) throw problem('refund_id must be 1-32 characters');
  if (!OUT_REFUND_NO.test(request.out_refund_no)) throw problem('out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]');
  if (!ABNORMAL_REFUND_TYPES.includes(request.type))
    throw problem(`type must be one of ${ABNORMAL_REFUND_TYPES.join(', ')}`);
  const bankFields = [request.bank_type, request.bank_account, request.real_name];
  if (request.type === 'MERCHANT_BANK_CARD') {
    // the merchant's own account is on file at WeChat Pay: a user's bank details have no business in this request
    if (bankFields.some((field) => field !== undefined))
      throw problem('MERCHANT_BANK_CARD takes no bank_type, bank_account or real_name');
    return;
  }
  if (bankFields.some((field) => !field)) throw problem('USER_BANK_CARD needs bank_type, bank_account and real_name');
  if (request.bank_type!.length > 16) throw problem('bank_type is at most 16 characters');
}

function toApiError(status: number, raw: Buffer, requestId: string | undefined): WechatPayApiError {
  let code = `HTTP_${status}`;
  let message = '';
  let detail: unknown;
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { code?: unknown; message?: unknown; detail?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    if (typeof parsed.message === 'string') message = parsed.message;
    detail = parsed.detail;
  } catch {
    message = raw.toString('utf8').slice(0, 200);
  }
  return new WechatPayApiError(status, code, message, detail, requestId);
}

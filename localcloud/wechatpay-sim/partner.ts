/**
 * Service-provider (partner) mode of the simulator: the local merchant (keys.mchid, keys.appid) is a service provider
 * (sp_mchid, sp_appid) with sub-merchants it is bound to. The partner endpoints (/v3/pay/partner/transactions/…, and
 * sub_mchid on refunds and bills) answer as WeChat Pay's, with the errors a service provider meets:
 *
 * | what | answer |
 * |---|---|
 * | sp_mchid not ours | 400 MCH_NOT_EXISTS 商户号不存在 |
 * | sp_appid not bound to sp_mchid | 400 APPID_MCHID_NOT_MATCH appid和mch_id不匹配 |
 * | sub_mchid not bound to the service provider | 403 NO_AUTH 受理关系不存在 |
 * | sub_appid not bound to the sub-merchant (特约商户AppID配置) | 400 APPID_MCHID_NOT_MATCH sub_appid和sub_mchid不匹配 |
 * | the sub-merchant has not authorised the product (JSAPI or Native) | 403 NO_AUTH 商户号该产品权限未开通，请前往商户平台>产品中心检查后重试 |
 * | payer.sub_openid without sub_appid, or both or neither openid kind | 400 PARAM_ERROR |
 * | another sub-merchant's out_trade_no or out_refund_no | 404 ORDER_NOT_EXIST / RESOURCE_NOT_EXISTS (not found under this sub_mchid) |
 *
 * A partner transaction is kept in the same ledger with its sub_mchid, sub_appid and the payer's openid kind; what it
 * reports (query, notification, bill) carries sp_appid, sp_mchid, sub_mchid, sub_appid when prepaid with one, and the
 * payer as payer.sp_openid or payer.sub_openid, the kind prepaid.
 */
import { createHash } from 'node:crypto';
import { HttpError } from '../http';
import type { LocalKeys } from '../keys';
import type { SimContext } from './context';
import type { SimTransaction } from './ledger';
import { paramError } from './validate';

export type SimMode = 'direct' | 'partner';
export type PartnerProduct = 'JSAPI' | 'NATIVE';

export interface SimSubMerchant {
  sub_mchid: string;
  name: string;
  /** the sub-merchant's own mini-program, bound to it (特约商户AppID配置); absent: none */
  sub_appid?: string;
  /** products the sub-merchant authorised the service provider for (特约商户授权) */
  products: PartnerProduct[];
}

export interface PartnerSettings {
  mode: SimMode;
  subMerchants: SimSubMerchant[];
}

/**
 * The two demo sub-merchants of `LOCALCLOUD_WECHATPAY_MODE=partner`: A is paid in the service provider's mini-program
 * (sp_openid), B also has a mini-program of its own bound to it (sub_appid, derived from the local appid).
 */
export function demoSubMerchants(keys: Pick<LocalKeys, 'mchid' | 'appid'>): SimSubMerchant[] {
  return [
    { sub_mchid: `${keys.mchid.slice(0, 8)}01`, name: '演示特约商户A', products: ['JSAPI', 'NATIVE'] },
    {
      sub_mchid: `${keys.mchid.slice(0, 8)}02`,
      name: '演示特约商户B',
      sub_appid: `wx${createHash('sha256').update(`${keys.appid}:sub-merchant-B`).digest('hex').slice(0, 16)}`,
      products: ['JSAPI', 'NATIVE'],
    },
  ];
}

const isPartner = (ctx: SimContext) => ctx.settings.partner.mode === 'partner';

/** The partner endpoints exist for a service provider only. */
export function requirePartner(ctx: SimContext): void {
  if (!isPartner(ctx)) throw new HttpError(403, 'NO_AUTH', '商户号该产品权限未开通，请前往商户平台>产品中心检查后重试');
}

/** sp_mchid ours, sub_mchid bound to us: the sub-merchant. */
export function boundSubMerchant(ctx: SimContext, spMchid: string | null, subMchid: string | null): SimSubMerchant {
  requirePartner(ctx);
  if (!spMchid) throw paramError('/sp_mchid', 'missing');
  if (!subMchid) throw paramError('/sub_mchid', 'missing');
  if (spMchid !== ctx.keys.mchid) throw new HttpError(400, 'MCH_NOT_EXISTS', '商户号不存在');
  const sub = ctx.settings.partner.subMerchants.find((s) => s.sub_mchid === subMchid);
  if (!sub) throw new HttpError(403, 'NO_AUTH', '受理关系不存在');
  return sub;
}

/** A refund or bill request's sub_mchid in partner mode (required), nothing in direct mode. */
export function refundSubMerchant(ctx: SimContext, subMchid: string | null | undefined): string | undefined {
  if (!isPartner(ctx)) return undefined;
  return boundSubMerchant(ctx, ctx.keys.mchid, subMchid ?? null).sub_mchid;
}

export interface PartnerPrepay {
  appid: string;
  mchid: string;
  sub_mchid: string;
  sub_appid?: string;
  payer_kind: 'sp_openid' | 'sub_openid';
  openid: string;
}

type Body = Record<string, unknown>;
const text = (body: Body, key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);

/** A partner prepay's merchant fields and payer, checked as WeChat Pay checks them. */
export function partnerPrepay(ctx: SimContext, body: Body, tradeType: PartnerProduct): PartnerPrepay {
  const spAppid = text(body, 'sp_appid');
  if (!spAppid) throw paramError('/sp_appid', 'missing');
  const sub = boundSubMerchant(ctx, text(body, 'sp_mchid') ?? null, text(body, 'sub_mchid') ?? null);
  if (spAppid !== ctx.keys.appid) throw new HttpError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
  const subAppid = text(body, 'sub_appid');
  if (subAppid !== undefined && subAppid !== sub.sub_appid)
    throw new HttpError(400, 'APPID_MCHID_NOT_MATCH', 'sub_appid和sub_mchid不匹配');
  if (!sub.products.includes(tradeType))
    throw new HttpError(403, 'NO_AUTH', '商户号该产品权限未开通，请前往商户平台>产品中心检查后重试');
  let openid = '';
  let kind: PartnerPrepay['payer_kind'] = subAppid ? 'sub_openid' : 'sp_openid';
  if (tradeType === 'JSAPI') {
    const payer = body.payer;
    if (typeof payer !== 'object' || payer === null) throw paramError('/payer', 'missing');
    const sp = text(payer as Body, 'sp_openid');
    const subOpenid = text(payer as Body, 'sub_openid');
    if ((sp === undefined) === (subOpenid === undefined))
      throw paramError('/payer', 'exactly one of sp_openid and sub_openid', 'sp_openid和sub_openid必须且只能传一个');
    if (subOpenid !== undefined && !subAppid)
      throw paramError('/payer/sub_openid', 'needs sub_appid', '传入sub_openid时sub_appid必填');
    kind = subOpenid !== undefined ? 'sub_openid' : 'sp_openid';
    openid = (subOpenid ?? sp)!;
    if (openid.length < 1 || openid.length > 128) throw paramError(`/payer/${kind}`, 'length 1..128');
  }
  return {
    appid: spAppid,
    mchid: ctx.keys.mchid,
    sub_mchid: sub.sub_mchid,
    ...(subAppid ? { sub_appid: subAppid } : {}),
    payer_kind: kind,
    openid,
  };
}

/** The merchant fields a partner transaction reports; a direct one's appid and mchid. */
export function merchantView(tx: SimTransaction): Record<string, string> {
  if (!tx.sub_mchid) return { appid: tx.appid, mchid: tx.mchid };
  return {
    sp_appid: tx.appid,
    sp_mchid: tx.mchid,
    ...(tx.sub_appid ? { sub_appid: tx.sub_appid } : {}),
    sub_mchid: tx.sub_mchid,
  };
}

/** The payer as reported: payer.openid (direct), or the openid kind prepaid (partner). */
export function payerView(tx: SimTransaction): Record<string, string> {
  return { [tx.sub_mchid ? (tx.payer_kind ?? 'sp_openid') : 'openid']: tx.payer.openid };
}

/** A query for another sub-merchant's transaction finds nothing under this sub_mchid. */
export function sameSubMerchant(tx: SimTransaction | undefined, subMchid: string | undefined): boolean {
  return !!tx && (tx.sub_mchid ?? undefined) === subMchid;
}

/** `POST /sim/partner {mode?, subMerchants?}`: switch the merchant's mode, or change who is bound and authorised. */
export function configurePartner(settings: PartnerSettings, body: unknown): void {
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'INVALID_REQUEST', 'body must be an object');
  const { mode, subMerchants } = body as { mode?: unknown; subMerchants?: unknown };
  if (mode !== undefined) {
    if (mode !== 'direct' && mode !== 'partner') throw new HttpError(400, 'INVALID_REQUEST', 'mode: direct or partner');
    settings.mode = mode;
  }
  if (subMerchants !== undefined) {
    const valid =
      Array.isArray(subMerchants) &&
      subMerchants.every(
        (s: Partial<SimSubMerchant>) =>
          typeof s?.sub_mchid === 'string' &&
          /^\d{1,32}$/.test(s.sub_mchid) &&
          typeof s.name === 'string' &&
          (s.sub_appid === undefined || /^wx\w{8,30}$/.test(s.sub_appid)) &&
          Array.isArray(s.products) &&
          s.products.every((p) => p === 'JSAPI' || p === 'NATIVE'),
      );
    if (!valid)
      throw new HttpError(
        400,
        'INVALID_REQUEST',
        'subMerchants: [{sub_mchid, name, sub_appid?, products: [JSAPI|NATIVE]}]',
      );
    settings.subMerchants = subMerchants as SimSubMerchant[];
  }
}

/** `GET /sim/partner`: the mode, and per sub-merchant its ledger: trades, paid and refunded fen. */
export async function partnerLedger(ctx: SimContext) {
  const transactions = await ctx.ledger.listTransactions();
  const refunds = await ctx.ledger.listRefunds();
  const subOf = new Map(transactions.map((t) => [t._id, t.sub_mchid]));
  const subMerchants = ctx.settings.partner.subMerchants.map((sub) => {
    const mine = transactions.filter((t) => t.sub_mchid === sub.sub_mchid);
    const paid = mine.filter((t) => t.trade_state === 'SUCCESS' || t.trade_state === 'REFUND');
    const refunded = refunds.filter((r) => subOf.get(r.out_trade_no) === sub.sub_mchid && r.status === 'SUCCESS');
    return {
      ...sub,
      transactions: mine.length,
      paid: paid.length,
      paidFen: paid.reduce((n, t) => n + t.amount.total, 0),
      refundedFen: refunded.reduce((n, r) => n + r.amount.refund, 0),
    };
  });
  return { mode: ctx.settings.partner.mode, sp_mchid: ctx.keys.mchid, sp_appid: ctx.keys.appid, subMerchants };
}

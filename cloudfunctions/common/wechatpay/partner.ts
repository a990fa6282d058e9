/**
 * Service-provider (partner) mode: one merchant (the service provider, sp_mchid and sp_appid) takes payments for its
 * sub-merchants (sub_mchid, each optionally with its own mini-program, sub_appid). The endpoints differ from a direct
 * merchant's only in path and merchant fields, so the client builds both here, from the order's sub-merchant:
 *
 * | call | direct | partner |
 * |---|---|---|
 * | JSAPI / Native prepay | `/v3/pay/transactions/jsapi\|native` appid, mchid, payer.openid | `/v3/pay/partner/transactions/jsapi\|native` sp_appid, sp_mchid, sub_mchid, sub_appid?, payer.sp_openid or payer.sub_openid |
 * | query | `…/out-trade-no/{no}?mchid=` | `/v3/pay/partner/transactions/out-trade-no/{no}?sp_mchid=&sub_mchid=` |
 * | close | body `{mchid}` | `/v3/pay/partner/…/close` body `{sp_mchid, sub_mchid}` |
 * | refund, abnormal refund | body as is | body + `sub_mchid` |
 * | refund query | `/v3/refund/domestic/refunds/{no}` | + `?sub_mchid=` |
 * | trade bill | `?bill_date=…` | + `&sub_mchid=` (absent: every sub-merchant's) |
 *
 * Which mini-program the buyer pays in decides the payer field and the paySign appId (小程序调起支付: appId is the
 * appid the prepay named for the buyer's openid): a buyer in the service provider's mini-program is `payer.sp_openid`
 * and paySign uses sp_appid; a buyer in the sub-merchant's own mini-program is `payer.sub_openid`, the prepay names
 * `sub_appid`, and paySign uses sub_appid.
 */

export type WechatPayMode = 'direct' | 'partner';
export const WECHATPAY_MODES: readonly WechatPayMode[] = ['direct', 'partner'];

/**
 * The sub-merchant a partner-mode call is for. `subAppid` present: the buyer pays in that mini-program (the sub-
 * merchant's own, bound to it in 特约商户AppID配置), so the payer is named by sub_openid; absent: by sp_openid.
 */
export interface SubMerchantRef {
  subMchid: string;
  subAppid?: string;
}

/** The appid whose openid names the payer, and with which wx.requestPayment's paySign is made. */
export const payingAppid = (spAppid: string, sub: SubMerchantRef | undefined): string => sub?.subAppid ?? spAppid;

export interface PartnerPrepayFields {
  sp_appid: string;
  sp_mchid: string;
  sub_appid?: string;
  sub_mchid: string;
  payer?: { sp_openid: string } | { sub_openid: string };
}

/** A direct-shaped prepay body (appid, payer.openid) as the partner endpoint takes it. */
export function partnerPrepayBody<T extends { appid: string; payer?: { openid: string } }>(
  spMchid: string,
  request: T,
  sub: SubMerchantRef,
): Omit<T, 'appid' | 'payer'> & PartnerPrepayFields {
  const { appid, payer, ...rest } = request;
  return {
    sp_appid: appid,
    sp_mchid: spMchid,
    ...(sub.subAppid ? { sub_appid: sub.subAppid } : {}),
    sub_mchid: sub.subMchid,
    ...rest,
    ...(payer ? { payer: sub.subAppid ? { sub_openid: payer.openid } : { sp_openid: payer.openid } } : {}),
  };
}

/**
 * Sub-merchants (partner mode, wechatpay/partner.ts): data in the `merchants` collection, one document per sub_mchid,
 * managed by `merchants.save`. A product belongs to one sub-merchant; an order, its payments and refunds
 * carry the order's sub_mchid (and sub_appid when the buyer pays in the sub-merchant's own mini-program), and every
 * WeChat Pay call about them is made for that sub-merchant: `subMerchantOf` is the one place that turns a record into
 * the client's SubMerchantRef. In direct mode nothing here applies and records carry no sub-merchant.
 */
import type { SubMerchantRef } from '../wechatpay';
import { COLLECTIONS } from '../store/store';
import type { Deps } from './deps';
import { invalid } from './errors';

export interface MerchantDoc {
  _id: string; // sub_mchid
  name: string;
  /** the sub-merchant's own mini-program, bound to it at WeChat Pay (特约商户AppID配置); absent: none */
  subAppid?: string;
  /** false: its products are not sold (confirmation refuses them); its paid orders are still refunded and booked */
  active: boolean;
  /** its sub-merchant admins (each also a merchant_admins document, which adminScopeOf reads) */
  adminOpenids?: string[];
  createdAt: number;
  updatedAt: number;
}

/** A sub-merchant admin: sees and acts on its own sub-merchant's orders only (admin/admin.ts adminAction). */
export interface MerchantAdminDoc {
  _id: string; // openid
  subMchid: string;
  /** false: removed from the sub-merchant's admins (documents are never deleted: the admin log names them) */
  active: boolean;
  updatedAt: number;
}

/** Whose orders an admin sees: every order (ADMIN_OPENIDS), or one sub-merchant's (a sub-merchant admin). */
export type AdminScope = { all: true } | { all: false; subMchid: string };

/** The caller's admin scope, or undefined when it is no admin at all. */
export async function adminScopeOf(deps: Deps, openid: string): Promise<AdminScope | undefined> {
  if (deps.config.adminOpenids.has(openid)) return { all: true };
  if (!isPartner(deps)) return undefined;
  const doc = await deps.store.getById<MerchantAdminDoc>(COLLECTIONS.merchantAdmins, openid);
  return doc?.active && doc.subMchid ? { all: false, subMchid: doc.subMchid } : undefined;
}

/** Whether a record (order, refund) is within an admin's scope. */
export const inScope = (scope: AdminScope, record: MerchantFields): boolean =>
  scope.all || record.subMchid === scope.subMchid;

/** What a record names of its sub-merchant. */
export interface MerchantFields {
  subMchid?: string;
  subAppid?: string;
}

/** The domain's one test of the mode (AppConfig: readable where WeChat Pay is not configured). */
export const isPartner = (deps: Pick<Deps, 'config'>): boolean => deps.config.payMode === 'partner';

/**
 * The sub-merchant a WeChat Pay call about this record is for: undefined in direct mode; in partner mode the record's,
 * which it must name (a record made before the deployment switched mode cannot be paid for any sub-merchant).
 */
export function subMerchantOf(deps: Pick<Deps, 'config'>, record: MerchantFields): SubMerchantRef | undefined {
  if (!isPartner(deps)) return undefined;
  if (!record.subMchid) throw new Error('partner mode: no sub_mchid on this record');
  return { subMchid: record.subMchid, ...(record.subAppid ? { subAppid: record.subAppid } : {}) };
}

/** The record fields of a sub-merchant reference (nothing in direct mode). */
export const merchantFields = (sub: SubMerchantRef | undefined): MerchantFields =>
  sub ? { subMchid: sub.subMchid, ...(sub.subAppid ? { subAppid: sub.subAppid } : {}) } : {};

/**
 * The sub-merchant an order of these products is paid to, at confirmation: every product must belong to the same,
 * active one (combined payment of several sub-merchants is out of scope). The buyer pays in the sub-merchant's own
 * mini-program when the caller's appid (from the cloud context) is the one bound to it: the prepay then names sub_appid
 * and payer.sub_openid; otherwise the service provider's (sp_appid, payer.sp_openid).
 */
export async function orderMerchant(
  deps: Deps,
  products: readonly { _id: string; subMchid?: string }[],
  callerAppid: string | undefined,
): Promise<SubMerchantRef | undefined> {
  if (!isPartner(deps)) return undefined;
  const owners = [...new Set(products.map((p) => p.subMchid ?? ''))];
  if (owners.length !== 1 || !owners[0])
    throw invalid('items', owners.length > 1 ? '订单中的商品属于不同商户，请分开下单' : '商品未归属商户，暂不能购买');
  const merchant = await deps.store.getById<MerchantDoc>(COLLECTIONS.merchants, owners[0]);
  if (!merchant?.active) throw invalid('items', '该商户暂不接单');
  return {
    subMchid: merchant._id,
    ...(merchant.subAppid && merchant.subAppid === callerAppid ? { subAppid: merchant.subAppid } : {}),
  };
}

/** A refund's sub-merchant field: the order's or payment's sub_mchid (a refund names no appid or payer). */
export const refundMerchant = (record: MerchantFields): { subMchid?: string } =>
  record.subMchid ? { subMchid: record.subMchid } : {};

/**
 * Sub-merchants as data (partner mode, domain/merchants.ts), the `merchants` function: `save` adds or changes one and
 * names its sub-merchant admins (admins of ADMIN_OPENIDS only); `list` lists them with one China day's figures of
 * their orders, and shows a sub-merchant admin its own only.
 */
import type {
  ListMerchantsRequest,
  ListMerchantsResponse,
  MerchantView,
  SaveMerchantRequest,
} from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { between, chinaDate, chinaDayStart, DAY_MS, pages } from '../days';
import type { Deps } from '../deps';
import { DomainError, invalid } from '../errors';
import { isPartner, type AdminScope, type MerchantAdminDoc, type MerchantDoc } from '../merchants';
import type { OrderDoc } from '../records';
import { onlyKeys, readString, type Input } from '../validate';
import { adminAction } from './action';

const SUB_MCHID = /^\d{8,32}$/;
const APPID = /^wx[0-9a-zA-Z]{8,30}$/;
const OPENID = /^[A-Za-z0-9_-]{6,64}$/;
const MAX_MERCHANT_ADMINS = 20;
export const MERCHANTS_LIMIT = 100;

function readOpenids(obj: Input): string[] | undefined {
  const value = obj.adminOpenids;
  if (value === undefined) return undefined;
  const valid =
    Array.isArray(value) &&
    value.length <= MAX_MERCHANT_ADMINS &&
    value.every((v) => typeof v === 'string' && OPENID.test(v));
  if (!valid) throw invalid('adminOpenids', `adminOpenids: at most ${MAX_MERCHANT_ADMINS} openids`);
  return [...new Set(value as string[])];
}

function requirePartner(deps: Deps): void {
  if (!isPartner(deps)) throw new DomainError('FAILED_PRECONDITION', 'WECHATPAY_MODE is not partner');
}
/** a concurrent save of the same sub-merchant won: the caller saves again */
const busy = () => new DomainError('CONFLICT', '请重试');

/** merchants.save: creates the sub-merchant or changes it; each write a compare-and-set on its own document. */
export const saveMerchant = adminAction<MerchantView>('saveMerchant', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'subMchid', 'name', 'subAppid', 'active', 'adminOpenids']);
  if (typeof obj.active !== 'boolean') throw invalid('active', 'active must be a boolean');
  const request: SaveMerchantRequest = {
    subMchid: readString(obj, 'subMchid', { max: 32, pattern: SUB_MCHID }),
    name: readString(obj, 'name', { max: 64 }),
    subAppid: readString(obj, 'subAppid', { max: 32, pattern: APPID, optional: true }),
    active: obj.active,
    adminOpenids: readOpenids(obj),
  };
  requirePartner(deps);
  const { store } = deps;
  const now = deps.clock();
  const existing = await store.getById<MerchantDoc>(COLLECTIONS.merchants, request.subMchid);
  const admins = request.adminOpenids ?? existing?.adminOpenids ?? [];
  // an openid administers one sub-merchant: claim each first, so a refused one leaves the merchant as it was
  for (const openid of admins) {
    const claim: MerchantAdminDoc = { _id: openid, subMchid: request.subMchid, active: true, updatedAt: now };
    if ((await store.insert(COLLECTIONS.merchantAdmins, claim)) === 'created') continue;
    const held = await store.getById<MerchantAdminDoc>(COLLECTIONS.merchantAdmins, openid);
    const free = held?.subMchid === request.subMchid || !held?.active;
    if (
      !free ||
      !(await store.updateWhere(
        COLLECTIONS.merchantAdmins,
        { _id: openid, active: held!.active, subMchid: held!.subMchid },
        { subMchid: request.subMchid, active: true, updatedAt: now },
      ))
    )
      throw new DomainError('CONFLICT', `${openid}: admin of another sub-merchant`);
  }
  for (const openid of existing?.adminOpenids ?? []) {
    if (admins.includes(openid)) continue;
    await store.updateWhere(
      COLLECTIONS.merchantAdmins,
      { _id: openid, subMchid: request.subMchid },
      { active: false, updatedAt: now },
    );
  }
  const fields = {
    name: request.name,
    ...(request.subAppid ? { subAppid: request.subAppid } : {}),
    active: request.active,
    adminOpenids: admins,
    updatedAt: now,
  };
  if (!existing) {
    const doc = { _id: request.subMchid, ...fields, createdAt: now };
    if ((await store.insert(COLLECTIONS.merchants, doc)) !== 'created') throw busy();
  } else if (
    !(await store.updateWhere(COLLECTIONS.merchants, { _id: request.subMchid, updatedAt: existing.updatedAt }, fields))
  ) {
    throw busy();
  }
  const saved = (await store.getById<MerchantDoc>(COLLECTIONS.merchants, request.subMchid))!;
  const [view] = await withDayFigures(deps, [saved], chinaDate(now));
  return { result: view!, target: request.subMchid, note: `${admins.length} admins, active ${request.active}` };
});

/** merchants.list { date? }: every sub-merchant (a sub-merchant admin: its own) with the day's figures. */
export const listMerchants = adminAction<ListMerchantsResponse>(
  'listMerchants',
  async (deps, _admin, obj, scope: AdminScope) => {
    onlyKeys(obj, ['action', 'date']);
    const { date }: ListMerchantsRequest = {
      date: readString(obj, 'date', { max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/, optional: true }),
    };
    if (date !== undefined && chinaDayStart(date) === undefined) throw invalid('date', 'date is not a day');
    requirePartner(deps);
    const docs = scope.all
      ? await deps.store.find<MerchantDoc>(
          COLLECTIONS.merchants,
          {},
          { orderBy: [['_id', 'asc']], limit: MERCHANTS_LIMIT },
        )
      : [await deps.store.getById<MerchantDoc>(COLLECTIONS.merchants, scope.subMchid)].filter(
          (d): d is MerchantDoc => d !== undefined,
        );
    const day = date ?? chinaDate(deps.clock());
    return { result: { merchants: await withDayFigures(deps, docs, day) }, target: day };
  },
  { subMerchantAdmins: true },
);

/** The day's paid orders of each sub-merchant: how many, what they took, what of it was refunded since. */
async function withDayFigures(deps: Deps, docs: MerchantDoc[], date: string): Promise<MerchantView[]> {
  const start = chinaDayStart(date)!;
  const figures = new Map(docs.map((d) => [d._id, { date, paidOrders: 0, paidFen: 0, refundedFen: 0 }]));
  for await (const page of pages<OrderDoc>(deps.store, COLLECTIONS.orders, {
    paidAt: between(deps.store, start, start + DAY_MS),
  })) {
    for (const order of page) {
      const f = order.subMchid ? figures.get(order.subMchid) : undefined;
      if (!f) continue;
      f.paidOrders += 1;
      f.paidFen += order.paidFen;
      f.refundedFen += order.refundedFen;
    }
  }
  return docs.map((d) => ({
    subMchid: d._id,
    name: d.name,
    ...(d.subAppid ? { subAppid: d.subAppid } : {}),
    active: d.active,
    adminOpenids: d.adminOpenids ?? [],
    day: figures.get(d._id)!,
  }));
}

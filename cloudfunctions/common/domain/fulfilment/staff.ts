/**
 * The staff function: the queue of paid orders nobody took, the caller's own orders, and the moves a staff member
 * makes (accept, decline, ready, hand over against the pickup code, ship, start, complete). Callers listed in
 * STAFF_OPENIDS only; they see the buyer's phone masked.
 */
import type {
  DeliveryCompany,
  StaffAcceptRequest,
  StaffCompleteRequest,
  StaffDeclineRequest,
  StaffDeliveryCompaniesRequest,
  StaffGetRequest,
  StaffHandOverRequest,
  StaffMeRequest,
  StaffMineRequest,
  StaffMineResponse,
  StaffOrderRequest,
  StaffQueueRequest,
  StaffReadyRequest,
  StaffShipRequest,
  StaffStartRequest,
  StaffSubscribeRequest,
  StaffDeliveryCompaniesResponse,
  StaffMeResponse,
  StaffOrderView,
  StaffQueueResponse,
  StaffSubscribeResponse,
} from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { requireCaller } from '../access';
import type { StaffMember } from '../config';
import type { Caller, Deps } from '../deps';
import { DomainError, invalid } from '../errors';
import { takeRate, type RateLimit } from '../rate-limit';
import type { OrderDoc } from '../records';
import { maskPhone, shippingDue, uploadShipping } from '../shipping/upload';
import { asObject, ID_PATTERN, onlyKeys, readInt, readOrderId, readString, type Input } from '../validate';
import { toFulfilmentView } from '../views';
import { FULFILLING_STATUSES, moveFulfilment, newPickupCode, type Actor } from './moves';
import { sendProgressMessage } from './progress';
import { OPEN_STATES, transitionFor, type FulfilmentMove } from './table';

/** Wrong pickup codes: 5 tries per order in 10 minutes (a 6-digit code then takes years to guess). */
export const PICKUP_CODE_LIMIT: RateLimit = { scope: 'pickup-code', max: 5, windowMs: 10 * 60_000 };
export const QUEUE_PAGE = 20;

/**
 * WeChat's delivery list (get_delivery_list: delivery_id and delivery_name) has no cloud call (its page: 本接口不支持云调用),
 * so the companies staff choose from are kept here: the common express companies' ids as that list names them.
 */
export const DELIVERY_COMPANIES: readonly DeliveryCompany[] = [
  { id: 'SF', name: '顺丰速运' },
  { id: 'ZTO', name: '中通快递' },
  { id: 'YTO', name: '圆通速递' },
  { id: 'STO', name: '申通快递' },
  { id: 'YD', name: '韵达速递' },
  { id: 'JTSD', name: '极兔速递' },
  { id: 'JD', name: '京东物流' },
  { id: 'EMS', name: 'EMS' },
  { id: 'YZPY', name: '邮政快递包裹' },
  { id: 'DBL', name: '德邦快递' },
];

interface Staff extends StaffMember {
  openid: string;
}

function requireStaff(deps: Deps, caller: Caller): Staff {
  const openid = requireCaller(caller);
  const member = deps.config.staff.get(openid);
  if (!member) throw new DomainError('FORBIDDEN', '不是店员');
  return { openid, ...member };
}

const actorOf = (staff: Staff): Actor => ({ role: 'staff', openid: staff.openid, name: staff.name });

/** A service order is for the staff whose services include every item; counter and shipped goods are for anyone. */
export function mayTake(staff: StaffMember, order: OrderDoc): boolean {
  if (order.fulfilment?.kind !== 'service') return true;
  return order.items.every((i) => staff.services.includes(i.productId));
}

export function toStaffView(order: OrderDoc, staff: Staff): StaffOrderView {
  const f = order.fulfilment!;
  const mine = f.staffOpenid === staff.openid;
  const may = (move: FulfilmentMove) => {
    if (!FULFILLING_STATUSES.includes(order.status)) return false;
    if (!transitionFor(f.kind, move, 'staff', f.state).ok) return false;
    if (move === 'accept') return f.state === 'assigned' ? mine : mayTake(staff, order);
    return mine;
  };
  return {
    id: order._id,
    status: order.status,
    items: order.items,
    totalFen: order.totalFen,
    ...(order.paidAt !== undefined ? { paidAt: order.paidAt } : {}),
    ...(order.serviceStartsAt !== undefined ? { serviceStartsAt: order.serviceStartsAt } : {}),
    contact: { name: order.contact.name, phone: maskPhone(order.contact.phone) },
    remark: order.remark,
    fulfilment: toFulfilmentView(f, { audience: 'staff', order }),
    mine,
    can: {
      accept: may('accept'),
      decline: may('decline'),
      ready: may('ready'),
      handOver: may('hand_over'),
      ship: may('ship'),
      start: may('start'),
      complete: may('complete'),
    },
  };
}

function readPage(obj: Input): { cursor?: number; limit: number } {
  onlyKeys(obj, ['action', 'cursor', 'limit']);
  const request: StaffQueueRequest & StaffMineRequest = {
    ...(obj.cursor !== undefined ? { cursor: readString(obj, 'cursor', { max: 20, pattern: /^\d+$/ }) } : {}),
    limit: readInt(obj, 'limit', { min: 1, max: 50, optional: true }) ?? QUEUE_PAGE,
  };
  return { ...(request.cursor !== undefined ? { cursor: Number(request.cursor) } : {}), limit: request.limit! };
}

/** Newest paid first; the cursor is the last paidAt seen (orders paid in the same millisecond may share a page edge). */
async function page(deps: Deps, staff: Staff, where: Record<string, unknown>, obj: Input): Promise<StaffQueueResponse> {
  const { cursor, limit } = readPage(obj);
  const _ = deps.store.command;
  const docs = await deps.store.find<OrderDoc>(
    COLLECTIONS.orders,
    { ...where, ...(cursor !== undefined ? { paidAt: _.lt(cursor) } : {}) },
    { orderBy: [['paidAt', 'desc']], limit: limit + 1 },
  );
  const shown = docs.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    orders: shown
      .filter((o) => mayTake(staff, o) || o.fulfilment?.staffOpenid === staff.openid)
      .map((o) => toStaffView(o, staff)),
    ...(docs.length > limit && last?.paidAt !== undefined ? { nextCursor: String(last.paidAt) } : {}),
  };
}

export async function staffQueue(deps: Deps, caller: Caller, event: unknown): Promise<StaffQueueResponse> {
  const staff = requireStaff(deps, caller);
  const _ = deps.store.command;
  return page(
    deps,
    staff,
    {
      status: _.in([...FULFILLING_STATUSES]),
      'fulfilment.state': 'awaiting',
    },
    asObject(event),
  );
}

export async function staffMine(deps: Deps, caller: Caller, event: unknown): Promise<StaffMineResponse> {
  const staff = requireStaff(deps, caller);
  const _ = deps.store.command;
  return page(
    deps,
    staff,
    { 'fulfilment.staffOpenid': staff.openid, 'fulfilment.state': _.in(OPEN_STATES.filter((s) => s !== 'awaiting')) },
    asObject(event),
  );
}

async function loadForStaff(deps: Deps, staff: Staff, orderId: string, accepting = false): Promise<OrderDoc> {
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  if (!order || !order.fulfilment || order.paidAt === undefined) throw new DomainError('NOT_FOUND', '订单不存在');
  const f = order.fulfilment;
  // a staff member sees the queue they may take from and what they hold; other members' orders are not theirs
  // (one who tries to accept an order just taken is told who took it: the move's CONFLICT)
  if (!accepting && f.staffOpenid !== undefined && f.staffOpenid !== staff.openid && f.state !== 'awaiting')
    throw new DomainError('FORBIDDEN', `这不是你负责的订单（${f.staffName ?? '其他店员'}）`);
  return order;
}

function orderOnly(obj: Input, extra: string[] = []): string {
  onlyKeys(obj, ['action', 'orderId', ...extra]);
  const { orderId }: StaffOrderRequest = { orderId: readOrderId(obj) };
  return orderId;
}

export async function staffGet(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const { orderId }: StaffGetRequest = { orderId: orderOnly(asObject(event)) };
  return toStaffView(await loadForStaff(deps, staff, orderId), staff);
}

export async function staffAccept(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const { orderId }: StaffAcceptRequest = { orderId: orderOnly(asObject(event)) };
  const order = await loadForStaff(deps, staff, orderId, true);
  if (!mayTake(staff, order)) throw new DomainError('FORBIDDEN', '你不能接这项服务');
  const after = await moveFulfilment(deps, order, 'accept', actorOf(staff), {
    fulfilment: { staffOpenid: staff.openid, staffName: staff.name },
  });
  return toStaffView(after, staff);
}

export async function staffDecline(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const obj = asObject(event);
  const { orderId, reason }: StaffDeclineRequest = {
    orderId: orderOnly(obj, ['reason']),
    reason: readString(obj, 'reason', { min: 0, max: 80, optional: true }),
  };
  const order = await loadForStaff(deps, staff, orderId);
  // back to the queue: nobody holds it (the notice goes out again from the reconcile timer)
  const after = await moveFulfilment(deps, order, 'decline', actorOf(staff), {
    fulfilment: {
      staffOpenid: deps.store.command.remove(),
      staffName: deps.store.command.remove(),
      notifiedAt: deps.store.command.remove(),
    },
    ...(reason ? { detail: reason } : {}),
  });
  return toStaffView(after, staff);
}

export async function staffReady(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const { orderId }: StaffReadyRequest = { orderId: orderOnly(asObject(event)) };
  const order = await loadForStaff(deps, staff, orderId);
  const after = await moveFulfilment(deps, order, 'ready', actorOf(staff), {
    fulfilment: { pickupCode: newPickupCode() },
  });
  await sendProgressMessage(deps, after);
  return toStaffView(after, staff);
}

export async function staffHandOver(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const obj = asObject(event);
  const { orderId, pickupCode }: StaffHandOverRequest = {
    orderId: orderOnly(obj, ['pickupCode']),
    pickupCode: readString(obj, 'pickupCode', { min: 4, max: 6, pattern: /^\d+$/ }),
  };
  const order = await loadForStaff(deps, staff, orderId);
  // every try counts, so a code cannot be guessed by trying: the limit is per order, whoever tries
  await takeRate(deps, PICKUP_CODE_LIMIT, order._id);
  if (order.fulfilment?.state === 'ready' && order.fulfilment.pickupCode !== pickupCode)
    throw invalid('pickupCode', '取餐码不正确');
  const now = deps.clock();
  const after = await moveFulfilment(deps, order, 'hand_over', actorOf(staff), {
    order: { wxShipping: shippingDue(order, 4, now) },
  });
  await uploadShipping(deps, after._id);
  return toStaffView((await deps.store.getById<OrderDoc>(COLLECTIONS.orders, after._id))!, staff);
}

export async function staffShip(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const obj = asObject(event);
  const { orderId, expressCompany, trackingNo }: StaffShipRequest = {
    orderId: orderOnly(obj, ['expressCompany', 'trackingNo']),
    expressCompany: readString(obj, 'expressCompany', { max: 20, pattern: /^[A-Za-z0-9()_-]+$/ }),
    trackingNo: readString(obj, 'trackingNo', { min: 4, max: 64, pattern: ID_PATTERN }),
  };
  const company = DELIVERY_COMPANIES.find((c) => c.id === expressCompany);
  if (!company) throw invalid('expressCompany', '请选择快递公司');
  const order = await loadForStaff(deps, staff, orderId);
  const now = deps.clock();
  const after = await moveFulfilment(deps, order, 'ship', actorOf(staff), {
    fulfilment: { shipping: { expressCompany, expressName: company.name, trackingNo } },
    order: { wxShipping: shippingDue(order, 1, now, { expressCompany, trackingNo }) },
    detail: `${company.name} ${trackingNo}`,
  });
  await sendProgressMessage(deps, after);
  await uploadShipping(deps, after._id);
  return toStaffView((await deps.store.getById<OrderDoc>(COLLECTIONS.orders, after._id))!, staff);
}

export async function staffStart(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const { orderId }: StaffStartRequest = { orderId: orderOnly(asObject(event)) };
  const order = await loadForStaff(deps, staff, orderId);
  return toStaffView(await moveFulfilment(deps, order, 'start', actorOf(staff)), staff);
}

export async function staffComplete(deps: Deps, caller: Caller, event: unknown): Promise<StaffOrderView> {
  const staff = requireStaff(deps, caller);
  const { orderId }: StaffCompleteRequest = { orderId: orderOnly(asObject(event)) };
  const order = await loadForStaff(deps, staff, orderId);
  const now = deps.clock();
  // a service given in person is, for WeChat's shipping management, virtual goods (logistics_type 3)
  const after = await moveFulfilment(deps, order, 'complete', actorOf(staff), {
    order: { wxShipping: shippingDue(order, 3, now) },
  });
  await uploadShipping(deps, after._id);
  return toStaffView((await deps.store.getById<OrderDoc>(COLLECTIONS.orders, after._id))!, staff);
}

export const MAX_STAFF_CREDITS = 50;

interface StaffSubscriptionDoc {
  _id: string;
  credits: number;
  updatedAt: number;
}

/** The staff member accepted `accepted` 「新订单提醒」 messages: each allows one notice (kept like alert credits). */
export async function staffSubscribe(deps: Deps, caller: Caller, event: unknown): Promise<StaffSubscribeResponse> {
  const staff = requireStaff(deps, caller);
  const obj = asObject(event);
  onlyKeys(obj, ['action', 'accepted']);
  const { accepted }: StaffSubscribeRequest = { accepted: readInt(obj, 'accepted', { min: 1, max: 10 })! };
  const { store } = deps;
  const now = deps.clock();
  const fresh: StaffSubscriptionDoc = {
    _id: staff.openid,
    credits: Math.min(accepted, MAX_STAFF_CREDITS),
    updatedAt: now,
  };
  if ((await store.insert(COLLECTIONS.staffSubscriptions, fresh)) === 'exists') {
    await store.updateWhere(
      COLLECTIONS.staffSubscriptions,
      { _id: staff.openid, credits: store.command.lte(MAX_STAFF_CREDITS - accepted) },
      { credits: store.command.inc(accepted), updatedAt: now },
    );
  }
  const doc = await store.getById<StaffSubscriptionDoc>(COLLECTIONS.staffSubscriptions, staff.openid);
  return { credits: doc?.credits ?? 0 };
}

/** Takes one of the staff member's credits (a compare-and-set above zero): true when a message may be sent. */
export async function takeStaffCredit(deps: Deps, openid: string): Promise<boolean> {
  return (
    (await deps.store.updateWhere(
      COLLECTIONS.staffSubscriptions,
      { _id: openid, credits: deps.store.command.gt(0) },
      { credits: deps.store.command.inc(-1), updatedAt: deps.clock() },
    )) > 0
  );
}

/** staff.me and staff.deliveryCompanies take nothing but their action. */
function parseMe(event: unknown): StaffMeRequest {
  onlyKeys(asObject(event), ['action']);
  return {};
}
function parseDeliveryCompanies(event: unknown): StaffDeliveryCompaniesRequest {
  onlyKeys(asObject(event), ['action']);
  return {};
}

export async function staffMe(deps: Deps, caller: Caller, event: unknown): Promise<StaffMeResponse> {
  const staff = requireStaff(deps, caller);
  parseMe(event);
  const doc = await deps.store.getById<StaffSubscriptionDoc>(COLLECTIONS.staffSubscriptions, staff.openid);
  return { name: staff.name, services: [...staff.services], credits: doc?.credits ?? 0 };
}

export async function staffDeliveryCompanies(
  deps: Deps,
  caller: Caller,
  event: unknown,
): Promise<StaffDeliveryCompaniesResponse> {
  requireStaff(deps, caller);
  parseDeliveryCompanies(event);
  return { companies: [...DELIVERY_COMPANIES] };
}

/**
 * The merchant's fulfilment actions (admin only, audited by adminAction): assign a service order, decide after-sales
 * (an approval refunds through the refund path, money/refunds.ts, with all its guarantees), correct an upload once,
 * give up an order (the exception queue) and refund it in full, and the admin home's counts.
 */
import type {
  AdminOrderView,
  AssignRequest,
  CorrectShippingRequest,
  DecideAfterSaleRequest,
  FulfilmentSummaryRequest,
  ListAfterSalesRequest,
  ListStaffRequest,
  MarkUnfulfillableRequest,
  RefundUnfulfillableRequest,
  FulfilmentState,
  FulfilmentSummaryResponse,
  ListAfterSalesResponse,
  ListStaffResponse,
} from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { entry } from '../access';
import { exceptionId, openException, resolveException } from '../attention/exceptions';
import { DomainError, invalid } from '../errors';
import { FULFILLING_STATUSES, moveFulfilment } from '../fulfilment/moves';
import { DELIVERY_COMPANIES, mayTake } from '../fulfilment/staff';
import { createOrderRefund, outRefundNoFor } from '../money/refunds';
import type { OrderDoc } from '../records';
import { lastTradeManaged, tradeManaged, uploadShipping, UPLOAD_ALERT_AFTER_MS } from '../shipping/upload';
import { ID_PATTERN, onlyKeys, readEnum, readInt, readOrderId, readString } from '../validate';
import { toView } from '../views';
import { adminAction } from './action';
import { adminOrderView } from './orders';
import type { Deps } from '../deps';

const readNote = (obj: Record<string, unknown>) => readString(obj, 'note', { max: 200 });
const readRequestId = (obj: Record<string, unknown>) =>
  readString(obj, 'requestId', { min: 8, max: 64, pattern: ID_PATTERN });

async function loadOrder(deps: Deps, orderId: string): Promise<OrderDoc> {
  const order = await deps.store.getById<OrderDoc>(COLLECTIONS.orders, orderId);
  if (!order) throw new DomainError('NOT_FOUND', '订单不存在');
  return order;
}

const reload = (deps: Deps, orderId: string) => loadOrder(deps, orderId);

const AFTER_SALE_STATUSES = ['requested', 'approved', 'partly_approved', 'declined'] as const;

/** listStaff and fulfilmentSummary take nothing but their action. */
function nothing(obj: Record<string, unknown>): ListStaffRequest & FulfilmentSummaryRequest {
  onlyKeys(obj, ['action']);
  return {};
}

export const listStaff = adminAction<ListStaffResponse>('listStaff', async (deps, _admin, obj) => {
  nothing(obj);
  const staff = [...deps.config.staff].map(([openid, m]) => ({ openid, name: m.name, services: [...m.services] }));
  return { result: { staff }, target: '' };
});

export const assignOrder = adminAction<AdminOrderView>('assign', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'orderId', 'staffOpenid']);
  const { orderId, staffOpenid }: AssignRequest = {
    orderId: readOrderId(obj),
    staffOpenid: readString(obj, 'staffOpenid', { max: 64, pattern: ID_PATTERN }),
  };
  const member = deps.config.staff.get(staffOpenid);
  if (!member) throw invalid('staffOpenid', '不是店员');
  const order = await loadOrder(deps, orderId);
  if (!mayTake(member, order)) throw new DomainError('FAILED_PRECONDITION', `${member.name}不能接这项服务`);
  await moveFulfilment(
    deps,
    order,
    'assign',
    { role: 'admin', openid: admin, name: '商家' },
    {
      fulfilment: { staffOpenid, staffName: member.name },
      detail: member.name,
    },
  );
  return { result: await adminOrderView(deps, await reload(deps, orderId)), target: orderId, note: staffOpenid };
});

export const listAfterSales = adminAction<ListAfterSalesResponse>('listAfterSales', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'status', 'page', 'pageSize']);
  const request: ListAfterSalesRequest = {
    status: readEnum(obj, 'status', AFTER_SALE_STATUSES, { optional: true }) ?? 'requested',
    page: readInt(obj, 'page', { min: 1, max: 1000, optional: true }) ?? 1,
    pageSize: readInt(obj, 'pageSize', { min: 1, max: 50, optional: true }) ?? 20,
  };
  const { status = 'requested', page = 1, pageSize = 20 } = request;
  const docs = await deps.store.find<OrderDoc>(
    COLLECTIONS.orders,
    { 'afterSale.status': status },
    { orderBy: [['afterSale.at', 'desc']], skip: (page - 1) * pageSize, limit: pageSize + 1 },
  );
  return {
    result: { orders: docs.slice(0, pageSize).map((o) => toView(o, deps)), page, hasMore: docs.length > pageSize },
    target: status,
  };
});

export const decideAfterSale = adminAction<AdminOrderView>('decideAfterSale', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'orderId', 'decision', 'amountFen', 'note', 'requestId']);
  const {
    orderId,
    decision,
    amountFen: amountIn,
    note,
    requestId,
  }: DecideAfterSaleRequest = {
    orderId: readOrderId(obj),
    decision: readEnum(obj, 'decision', ['approve', 'partly', 'decline'] as const)!,
    amountFen: readInt(obj, 'amountFen', { min: 1, max: 100_000_000, optional: true }),
    note: readNote(obj),
    requestId: readRequestId(obj),
  };
  if (decision === 'partly' && amountIn === undefined) throw invalid('amountFen', '部分同意须填写退款金额');
  if (decision !== 'partly' && amountIn !== undefined) throw invalid('amountFen', '只有部分同意时填写金额');
  const order = await loadOrder(deps, orderId);
  const a = order.afterSale;
  if (!a) throw new DomainError('FAILED_PRECONDITION', '此订单没有售后申请');
  const outRefundNo = outRefundNoFor(order._id, requestId);
  const status = decision === 'approve' ? 'approved' : decision === 'partly' ? 'partly_approved' : 'declined';
  if (a.status === 'requested') {
    const amountFen = decision === 'approve' ? order.refundableFen : decision === 'partly' ? amountIn! : undefined;
    if (amountFen !== undefined && (amountFen <= 0 || amountFen > order.refundableFen))
      throw invalid('amountFen', `可退金额为 ${order.refundableFen} 分`);
    const now = deps.clock();
    const won = await deps.store.updateWhere(
      COLLECTIONS.orders,
      { _id: orderId, 'afterSale.status': 'requested' },
      {
        afterSale: {
          status,
          decisionNote: note,
          decidedAt: now,
          decidedBy: admin,
          ...(amountFen !== undefined ? { amountFen, outRefundNo } : {}),
        },
        updatedAt: now,
        timeline: deps.store.command.push([entry(now, `after_sale_${status}`, note)]),
      },
    );
    if (!won) throw new DomainError('CONFLICT', '售后申请已被处理，请刷新');
  } else if (a.status !== status || (a.outRefundNo !== undefined && a.outRefundNo !== outRefundNo)) {
    throw new DomainError('CONFLICT', '售后申请已被处理');
  }
  // the decision is kept first, so a retry (same requestId) completes the same refund after a crash
  const decided = (await reload(deps, orderId)).afterSale!;
  if (decided.amountFen !== undefined && decided.outRefundNo)
    await createOrderRefund(deps, await reload(deps, orderId), {
      outRefundNo: decided.outRefundNo,
      amountFen: decided.amountFen,
      reason: `售后：${decided.reason}`.slice(0, 80),
      requestedBy: 'admin',
      requestedByOpenid: admin,
    });
  return { result: await adminOrderView(deps, await reload(deps, orderId)), target: orderId, note: decision };
});

export const correctShipping = adminAction<AdminOrderView>('correctShipping', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'orderId', 'expressCompany', 'trackingNo', 'confirmLast']);
  if (obj.confirmLast !== true) throw invalid('confirmLast', '微信只允许修改一次发货信息，请确认这是最后一次修改');
  const { orderId, expressCompany, trackingNo }: CorrectShippingRequest = {
    orderId: readOrderId(obj),
    expressCompany: readString(obj, 'expressCompany', { max: 20, pattern: /^[A-Za-z0-9()_-]+$/ }),
    trackingNo: readString(obj, 'trackingNo', { min: 4, max: 64, pattern: ID_PATTERN }),
    confirmLast: true,
  };
  const company = DELIVERY_COMPANIES.find((c) => c.id === expressCompany);
  if (!company) throw invalid('expressCompany', '请选择快递公司');
  const order = await loadOrder(deps, orderId);
  const w = order.wxShipping;
  if (order.fulfilment?.state !== 'shipped' || !w || w.logisticsType !== 1)
    throw new DomainError('FAILED_PRECONDITION', '只有已发货、未确认收货的快递订单可以修改发货信息');
  if (w.status !== 'uploaded') throw new DomainError('FAILED_PRECONDITION', '发货信息尚未录入微信，无需修改');
  if (w.corrected || w.correctionPending)
    throw new DomainError('FAILED_PRECONDITION', '发货信息已修改过一次，微信不允许再次修改');
  const now = deps.clock();
  const won = await deps.store.updateWhere(
    COLLECTIONS.orders,
    {
      _id: orderId,
      'fulfilment.state': 'shipped',
      'wxShipping.status': 'uploaded',
      'wxShipping.corrected': deps.store.command.neq(true),
      'wxShipping.correctionPending': deps.store.command.neq(true),
    },
    {
      fulfilment: { shipping: { expressCompany, expressName: company.name, trackingNo } },
      wxShipping: { expressCompany, trackingNo, correctionPending: true, nextAttemptAt: now },
      updatedAt: now,
      timeline: deps.store.command.push([entry(now, 'shipping_correction', `${company.name} ${trackingNo}`)]),
    },
  );
  if (!won) throw new DomainError('CONFLICT', '发货信息已变化，请刷新');
  await uploadShipping(deps, orderId);
  return { result: await adminOrderView(deps, await reload(deps, orderId)), target: orderId, note: trackingNo };
});

export const markUnfulfillable = adminAction<AdminOrderView>('markUnfulfillable', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'orderId', 'note']);
  const { orderId, note }: MarkUnfulfillableRequest = { orderId: readOrderId(obj), note: readNote(obj) };
  const order = await loadOrder(deps, orderId);
  if (order.fulfilment?.state !== 'unfulfillable')
    await moveFulfilment(deps, order, 'give_up', { role: 'admin', openid: admin, name: '商家' }, { detail: note });
  await openException(deps, {
    kind: 'unfulfillable',
    key: orderId,
    orderId,
    ...(order.paidOutTradeNo ? { outTradeNo: order.paidOutTradeNo } : {}),
    expectedFen: order.refundableFen,
    detail: note,
  });
  return { result: await adminOrderView(deps, await reload(deps, orderId)), target: orderId, note };
});

export const refundUnfulfillable = adminAction<AdminOrderView>('refundUnfulfillable', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'orderId', 'note', 'requestId']);
  const { orderId, note, requestId }: RefundUnfulfillableRequest = {
    orderId: readOrderId(obj),
    note: readNote(obj),
    requestId: readRequestId(obj),
  };
  const order = await loadOrder(deps, orderId);
  if (order.fulfilment?.state !== 'unfulfillable')
    throw new DomainError('FAILED_PRECONDITION', '只有无法履约的订单可以在这里全额退款');
  const outRefundNo = outRefundNoFor(order._id, requestId);
  const known = order.refundReservations?.[outRefundNo];
  await createOrderRefund(deps, order, {
    outRefundNo,
    amountFen: known?.amountFen ?? order.refundableFen,
    reason: `无法履约：${note}`.slice(0, 80),
    requestedBy: 'admin',
    requestedByOpenid: admin,
  });
  await resolveException(deps, exceptionId('unfulfillable', orderId), admin, { action: 'refunded', note });
  return { result: await adminOrderView(deps, await reload(deps, orderId)), target: orderId, note };
});

export const fulfilmentSummary = adminAction<FulfilmentSummaryResponse>(
  'fulfilmentSummary',
  async (deps, _admin, obj) => {
    onlyKeys(obj, ['action']);
    const { store, config } = deps;
    const _ = store.command;
    const now = deps.clock();
    const fulfilling = { status: _.in([...FULFILLING_STATUSES]) };
    const open: FulfilmentState[] = [
      'awaiting',
      'assigned',
      'accepted',
      'ready',
      'in_service',
      'shipped',
      'unfulfillable',
    ];
    const [byStateCounts, waitingOverdue, uploadsPending, uploadsFailed, uploadsOverdue, afterSalesOpen] =
      await Promise.all([
        Promise.all(
          open.map((state) => store.countWhere(COLLECTIONS.orders, { ...fulfilling, 'fulfilment.state': state })),
        ),
        store.countWhere(COLLECTIONS.orders, {
          ...fulfilling,
          'fulfilment.state': 'awaiting',
          paidAt: _.lte(now - config.fulfilAcceptAlertMinutes * 60_000),
        }),
        store.countWhere(COLLECTIONS.orders, { 'wxShipping.status': 'pending' }),
        store.countWhere(COLLECTIONS.orders, { 'wxShipping.status': 'failed' }),
        store.countWhere(COLLECTIONS.orders, {
          'wxShipping.status': _.in(['pending', 'failed']),
          'wxShipping.firstAttemptAt': _.lte(now - UPLOAD_ALERT_AFTER_MS),
        }),
        store.countWhere(COLLECTIONS.orders, { 'afterSale.status': 'requested' }),
      ]);
    // asks WeChat when the cached answer is stale, so the home says whether uploads are needed at all
    await tradeManaged(deps);
    const managed = await lastTradeManaged(deps);
    const byState = Object.fromEntries(open.map((s, i) => [s, byStateCounts[i]!]));
    return {
      result: {
        waitingForStaff: byState.awaiting ?? 0,
        waitingOverdue,
        byState,
        uploadsPending,
        uploadsFailed,
        uploadsOverdue,
        afterSalesOpen,
        isTradeManaged: managed.managed,
        ...(managed.checkedAt !== undefined ? { tradeManagedCheckedAt: managed.checkedAt } : {}),
      },
      target: '',
    };
  },
);

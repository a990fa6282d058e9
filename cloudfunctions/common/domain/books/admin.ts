/**
 * The merchant's side of the books: statements (one day, or the latest first), comparing a past day again now,
 * the last days' metrics, and an admin's acceptance of alert subscribe messages. ADMIN_OPENIDS only, each call in the
 * admin log (admin.ts `adminAction`).
 */
import type {
  GetStatementRequest,
  ListMetricsRequest,
  ListMetricsResponse,
  ListStatementsRequest,
  ListStatementsResponse,
  RunBillDayRequest,
  StatementView,
  SubscribeAlertsRequest,
  SubscribeAlertsResponse,
} from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import { adminAction } from '../admin/action';
import type { AlertSubscriptionDoc } from '../attention/alerts';
import { checkBillDate, runBillDay } from './books';
import { addDays, chinaDate } from '../days';
import { DomainError } from '../errors';
import { toMetricsView, type MetricsDoc } from './metrics';
import { getStatement, toStatementView, type StatementDoc } from './statements';
import { findPage, readCursor } from '../paging';
import { onlyKeys, readInt, readString, type Input, type WithDefaults } from '../validate';

const readBillDate = (obj: Input) => readString(obj, 'billDate', { max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/ });
/** a one-time subscription is one message; WeChat lets a user accept many, the backend keeps at most this many */
export const MAX_ALERT_CREDITS = 100;

export const getStatementAction = adminAction<StatementView>('getStatement', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'billDate']);
  const { billDate }: GetStatementRequest = { billDate: readBillDate(obj) };
  const doc = await getStatement(deps, billDate);
  if (!doc) throw new DomainError('NOT_FOUND', '该日尚无对账单');
  return { result: toStatementView(doc), target: billDate };
});

export const listStatements = adminAction<ListStatementsResponse>('listStatements', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'cursor', 'pageSize']);
  const { pageSize }: WithDefaults<ListStatementsRequest, 'pageSize'> = {
    pageSize: readInt(obj, 'pageSize', { min: 1, max: 31, optional: true }) ?? 10,
  };
  const cursor = readCursor(obj);
  // every statement (each `_id` is a date), newest first: served by the `_id` index
  const { docs, nextCursor } = await findPage<StatementDoc & Record<string, unknown>>(
    deps.store,
    COLLECTIONS.statements,
    { _id: deps.store.command.gt('') },
    '_id',
    pageSize,
    cursor,
  );
  return {
    result: {
      statements: docs.map(toStatementView),
      hasMore: nextCursor !== undefined,
      ...(nextCursor ? { nextCursor } : {}),
    },
    target: cursor ? `after ${cursor.id}` : 'first page',
  };
});

/** Compares a day again now, whatever its statement says (a day already compared is replaced). */
export const runBillDayAction = adminAction<StatementView>('runBillDay', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'billDate']);
  const { billDate }: RunBillDayRequest = { billDate: readBillDate(obj) };
  checkBillDate(billDate, deps.clock());
  const statement = await runBillDay(deps, billDate, { by: admin });
  return {
    result: statement,
    target: billDate,
    note: `${statement.status}: ${statement.differenceCount} differences, ${statement.healedCount} healed`,
  };
});

export const listMetrics = adminAction<ListMetricsResponse>('listMetrics', async (deps, _admin, obj) => {
  onlyKeys(obj, ['action', 'days']);
  const { days }: WithDefaults<ListMetricsRequest, 'days'> = {
    days: readInt(obj, 'days', { min: 1, max: 30, optional: true }) ?? 30,
  };
  const today = chinaDate(deps.clock());
  const docs = await deps.store.find<MetricsDoc>(
    COLLECTIONS.metrics,
    { _id: deps.store.command.gte(addDays(today, -days)) },
    { orderBy: [['_id', 'desc']], limit: days },
  );
  return { result: { metrics: docs.map(toMetricsView) }, target: `${days} days` };
});

/** The admin's mini-program reports how many alert subscriptions the admin just accepted (wx.requestSubscribeMessage). */
export const subscribeAlerts = adminAction<SubscribeAlertsResponse>('subscribeAlerts', async (deps, admin, obj) => {
  onlyKeys(obj, ['action', 'accepted']);
  const { accepted }: SubscribeAlertsRequest = {
    accepted: readInt(obj, 'accepted', { min: 1, max: MAX_ALERT_CREDITS })!,
  };
  const { store } = deps;
  const now = deps.clock();
  const fresh: AlertSubscriptionDoc = { _id: admin, credits: accepted, updatedAt: now };
  if ((await store.insert(COLLECTIONS.alertSubscriptions, fresh)) === 'exists') {
    await store.updateWhere(
      COLLECTIONS.alertSubscriptions,
      { _id: admin },
      { credits: store.command.inc(accepted), updatedAt: now },
    );
    // kept within the cap: a compare-and-set on what was read, so a concurrent report is not lost
    const doc = await store.getById<AlertSubscriptionDoc>(COLLECTIONS.alertSubscriptions, admin);
    if (doc && doc.credits > MAX_ALERT_CREDITS)
      await store.updateWhere(
        COLLECTIONS.alertSubscriptions,
        { _id: admin, credits: doc.credits },
        { credits: MAX_ALERT_CREDITS },
      );
  }
  const doc = await store.getById<AlertSubscriptionDoc>(COLLECTIONS.alertSubscriptions, admin);
  return { result: { credits: doc?.credits ?? 0 }, target: admin, note: `+${accepted}` };
});

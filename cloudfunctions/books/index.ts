/**
 * books: the timer (from 10:00 yesterday's trade bill against the books, watched alerts, the daily metrics) and the
 * merchant's books pages (statements, a past day compared again, metrics, alert subscriptions; callers listed in
 * ADMIN_OPENIDS only). One function for both: the pages need the bill's code the job has, and the admin function
 * stays within its bundle budget.
 */
import { booksTimer } from '../common/domain/books/books';
import {
  getStatementAction,
  listMetrics,
  listStatements,
  runBillDayAction,
  subscribeAlerts,
} from '../common/domain/books/admin';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, timerWithActions } from '../common/runtime/handler';

export const main = timerWithActions(
  cloudRuntime('books'),
  (deps) => booksTimer(deps),
  byAction<unknown>({
    getStatement: getStatementAction,
    listStatements,
    runBillDay: runBillDayAction,
    listMetrics,
    subscribeAlerts,
  }),
);

/**
 * The store layer: typed, counted access to the cloud database. Every method is one database round trip, counted in
 * `storeMetrics` (the benchmarks and tests read it to hold the notification path to its budget).
 * Writes that change state are compare-and-set: `updateWhere` returns how many documents changed, so a condition
 * on the current status makes exactly one of several concurrent callers win.
 */
import type { CloudDatabase, DbCommand } from './database';

export const storeMetrics = { roundTrips: 0, reads: 0, writes: 0 };

export const COLLECTIONS = {
  users: 'users',
  products: 'products',
  orders: 'orders',
  payments: 'payments',
  refunds: 'refunds',
  notifications: 'notification_log',
  exceptions: 'exceptions',
  adminLog: 'admin_log',
  /** one document per WeChat Pay transaction_id, naming the payment it settled: a transaction settles one payment */
  transactionClaims: 'transaction_claims',
  /** append-only: what the mini-program could not explain to its user (clientLog), no personal data */
  clientLog: 'client_log',
  /** one per user (hashed) and hour: how many client log entries were taken */
  clientLogQuota: 'client_log_quota',
  /** one per order (`_id` the order id): the payment-success subscribe message its owner accepted, and whether it went */
  paySubscriptions: 'pay_subscriptions',
  /** one document per rate-limit window (`_id` scope:key:window): how many requests it has taken (the Native checkout) */
  rateLimits: 'rate_limits',
  /** one document per bill day (`_id` the date): the books job's comparison with WeChat Pay's trade bill */
  statements: 'statements',
  /** one document per day (`_id` the date): the daily roll-up */
  metrics: 'metrics',
  /** one document per alert cause (`_id` the cause): when it was sent and what each channel answered */
  alerts: 'alerts',
  /** one document per admin openid: alert subscribe messages the admin accepted and not yet used */
  alertSubscriptions: 'alert_subscriptions',
  /** one document per staff openid: 「新订单提醒」 subscribe messages the staff member accepted and not yet used */
  staffSubscriptions: 'staff_subscriptions',
  /** WeChat-side facts kept for a while (`_id` the fact): is_trade_managed's last answer */
  wxState: 'wx_state',
  /** one document per message-push event (`_id` a hash of it): a delivery repeated by WeChat is handled once */
  wxEvents: 'wx_events',
  /** partner mode: one per sub-merchant (`_id` its sub_mchid): name, the mini-program bound to it, whether it takes orders */
  merchants: 'merchants',
  /** partner mode: one per sub-merchant admin (`_id` the openid): the one sub-merchant whose orders it sees and acts on */
  merchantAdmins: 'merchant_admins',
} as const;
export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

export interface FindOptions {
  orderBy?: [string, 'asc' | 'desc'][];
  skip?: number;
  limit: number;
}

/** A sort as given, ending with `_id`: the real database returns documents with equal keys in no defined order. */
export function sortEndingWithId(orderBy: FindOptions['orderBy'] = []): [string, 'asc' | 'desc'][] {
  const last = orderBy.at(-1);
  return !last || last[0] === '_id' ? orderBy : [...orderBy, ['_id', last[1]]];
}

export class Store {
  constructor(private readonly db: CloudDatabase) {}

  get command(): DbCommand {
    return this.db.command;
  }

  private count(kind: 'reads' | 'writes'): void {
    storeMetrics.roundTrips += 1;
    storeMetrics[kind] += 1;
  }

  async getById<T>(collection: CollectionName, id: string): Promise<T | undefined> {
    this.count('reads');
    const { data } = await this.db.collection(collection).doc(id).get();
    return (data ?? undefined) as T | undefined;
  }

  /**
   * Adds a document; 'exists' when its `_id` is taken (a retry of the same business key). After a failed add the
   * document is read back by `_id` instead of trusting the error's wording, which the platform does not promise.
   */
  async insert<T extends { _id: string }>(collection: CollectionName, doc: T): Promise<'created' | 'exists'> {
    this.count('writes');
    try {
      await this.db.collection(collection).add({ data: doc });
      return 'created';
    } catch (error) {
      if ((await this.getById(collection, doc._id)) !== undefined) return 'exists';
      throw error;
    }
  }

  /** Appends a document with a generated `_id` (the notification log). */
  async append<T extends object>(collection: CollectionName, doc: T): Promise<void> {
    this.count('writes');
    await this.db.collection(collection).add({ data: doc });
  }

  /** Compare-and-set: updates the documents matching `where`; returns how many changed. */
  async updateWhere(
    collection: CollectionName,
    where: Record<string, unknown>,
    data: Record<string, unknown>,
  ): Promise<number> {
    this.count('writes');
    const { stats } = await this.db.collection(collection).where(where).update({ data });
    return stats.updated;
  }

  async find<T>(collection: CollectionName, where: unknown, options: FindOptions): Promise<T[]> {
    this.count('reads');
    let query = this.db.collection(collection).where(where);
    for (const [field, direction] of sortEndingWithId(options.orderBy)) query = query.orderBy(field, direction);
    if (options.skip) query = query.skip(options.skip);
    const { data } = await query.limit(options.limit).get();
    return data as T[];
  }

  /** Deletes the documents matching `where` (at most the platform's batch, 1,000, per call); returns how many. */
  async removeWhere(collection: CollectionName, where: Record<string, unknown>): Promise<number> {
    this.count('writes');
    const { stats } = await this.db.collection(collection).where(where).remove();
    return stats.removed;
  }

  async countWhere(collection: CollectionName, where: unknown): Promise<number> {
    this.count('reads');
    return (await this.db.collection(collection).where(where).count()).total;
  }
}

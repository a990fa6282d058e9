/**
 * Notification delivery as WeChat Pay does it: POST the signed, encrypted envelope to notify_url; a 200/204 within
 * 5 s is success; anything else is retried after 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h
 * (scaled by the time factor). Every attempt is logged with the exact headers and body sent and the merchant's
 * answer, so an outside tool can re-verify what was delivered and see what the merchant said; a delivery can be
 * replayed on demand. Faults: drop, duplicate, delay, reorder, and a SIGNTEST probe sent before the real notification.
 */
import { randomBytes } from 'node:crypto';
import type { LocalDatabase } from '../db/database';
import { chinaTime } from './clock';
import type { FaultBook } from './faults';
import type { NotificationEnvelope } from './signing';

export const RETRY_SCHEDULE_SECONDS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
] as const;
export const DELIVERY_TIMEOUT_MS = 5000;
/** the merchant's answer body is kept up to this many bytes (a notify handler answers a short JSON, or nothing) */
export const ANSWER_BODY_LIMIT = 4096;

export interface DeliveryAttempt {
  at: string;
  /** the merchant's HTTP status; absent when no answer came */
  status?: number;
  error?: string;
  ms: number;
  kind: 'delivery' | 'duplicate' | 'probe' | 'replay';
  /** exactly what was sent: every header (signature headers included) and the body */
  request: { method: 'POST'; url: string; headers: Record<string, string>; body: string };
  /** what the merchant answered */
  response?: { status: number; headers: Record<string, string>; body: string; truncated?: true };
}

export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'dropped' | 'held';

export interface Delivery {
  _id: string;
  eventType: string;
  outTradeNo: string;
  outRefundNo?: string;
  url: string;
  body: string;
  createdAt: string;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  nextAttemptAt?: number;
}

export interface NotifierOptions {
  db: LocalDatabase;
  faults: FaultBook;
  /** signature headers for one attempt; `id` is the notification's, so a key can be chosen per notification */
  sign: (body: string, probe: boolean, id: string) => Record<string, string>;
  timeFactor: () => number;
  clock: () => number;
  fetch?: typeof fetch;
}

export class Notifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private held: Delivery[] = [];
  private closed = false;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: NotifierOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  private get deliveries() {
    return this.options.db.collection('deliveries');
  }

  /** Picks up deliveries that were waiting for a retry when the simulator stopped. */
  async resume(): Promise<void> {
    const { data } = await this.deliveries.where({ state: 'pending' }).limit(1000).get();
    for (const d of data as unknown as Delivery[])
      this.schedule(d, Math.max(0, (d.nextAttemptAt ?? 0) - this.options.clock()));
  }

  async enqueue(
    envelope: NotificationEnvelope,
    url: string,
    refs: { outTradeNo: string; outRefundNo?: string },
  ): Promise<Delivery> {
    const delivery: Delivery = {
      _id: envelope.id,
      eventType: envelope.event_type,
      outTradeNo: refs.outTradeNo,
      ...(refs.outRefundNo ? { outRefundNo: refs.outRefundNo } : {}),
      url,
      body: JSON.stringify(envelope),
      createdAt: chinaTime(this.options.clock()),
      state: 'pending',
      attempts: [],
    };
    const fault = this.options.faults.take('notify');
    if (fault?.kind === 'DROP') delivery.state = 'dropped';
    if (fault?.kind === 'REORDER') delivery.state = 'held';
    await this.deliveries.add({ data: { ...delivery } });
    if (delivery.state === 'dropped') return delivery;
    if (delivery.state === 'held') {
      this.held.push(delivery);
      return delivery;
    }
    const release = this.held;
    this.held = [];
    const first = async () => {
      if (fault?.kind === 'SIGNTEST') await this.attempt(delivery, 'probe');
      if (fault?.kind === 'DUPLICATE')
        await Promise.all([this.attempt(delivery, 'delivery'), this.attempt(delivery, 'duplicate')]);
      else await this.attempt(delivery, 'delivery');
      for (const h of release) {
        h.state = 'pending';
        await this.attempt(h, 'delivery');
      }
    };
    this.later(fault?.kind === 'DELAY' ? (fault.delayMs ?? 1000) : 0, first);
    return delivery;
  }

  /** Sends a delivery again now, whatever its state (a tester replaying a dropped or failed notification). */
  async replay(id: string): Promise<Delivery | undefined> {
    const { data } = await this.deliveries.where({ _id: id }).get();
    const delivery = data[0] as unknown as Delivery | undefined;
    if (!delivery) return undefined;
    await this.attempt(delivery, 'replay');
    return delivery;
  }

  async get(id: string): Promise<Delivery | undefined> {
    const { data } = await this.deliveries.where({ _id: id }).get();
    return data[0] as unknown as Delivery | undefined;
  }

  async list(filter: Partial<Pick<Delivery, 'outTradeNo' | 'state' | 'eventType'>> = {}): Promise<Delivery[]> {
    const { data } = await this.deliveries.where(filter).orderBy('createdAt', 'asc').limit(1000).get();
    return data as unknown as Delivery[];
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.inFlight) c.abort();
  }

  private later(ms: number, fn: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn().catch((error: unknown) => console.error('[wechatpay-sim] notification delivery failed:', error));
    }, ms);
    this.timers.add(timer);
  }

  private schedule(delivery: Delivery, ms: number): void {
    this.later(ms, () => this.attempt(delivery, 'delivery'));
  }

  private async attempt(delivery: Delivery, kind: DeliveryAttempt['kind']): Promise<void> {
    if (this.closed) return;
    const started = this.options.clock();
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'Mozilla/4.0',
      ...this.options.sign(delivery.body, kind === 'probe', delivery._id),
    };
    const record: DeliveryAttempt = {
      at: chinaTime(started),
      ms: 0,
      kind,
      request: { method: 'POST', url: delivery.url, headers, body: delivery.body },
    };
    try {
      const response = await this.fetchImpl(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: controller.signal,
      });
      const answer = Buffer.from(await response.arrayBuffer());
      record.status = response.status;
      record.response = {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: answer.subarray(0, ANSWER_BODY_LIMIT).toString('utf8'),
        ...(answer.length > ANSWER_BODY_LIMIT ? { truncated: true as const } : {}),
      };
    } catch (error) {
      record.error = controller.signal.aborted
        ? `no answer within ${DELIVERY_TIMEOUT_MS} ms`
        : (error as Error).message;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
      record.ms = this.options.clock() - started;
    }
    if (this.closed) return;
    delivery.attempts.push(record);
    const ok = record.status !== undefined && record.status >= 200 && record.status < 300;
    if (kind === 'delivery' || kind === 'replay') {
      if (ok) {
        delivery.state = 'delivered';
        delete delivery.nextAttemptAt;
      } else if (kind === 'delivery' && delivery.state !== 'delivered') {
        const failures = delivery.attempts.filter(
          (a) => a.kind === 'delivery' && !(a.status !== undefined && a.status >= 200 && a.status < 300),
        ).length;
        const wait = RETRY_SCHEDULE_SECONDS[failures - 1];
        if (wait === undefined) {
          delivery.state = 'failed';
          delete delivery.nextAttemptAt;
        } else {
          const ms = Math.round(wait * 1000 * this.options.timeFactor());
          delivery.state = 'pending';
          delivery.nextAttemptAt = this.options.clock() + ms;
          this.schedule(delivery, ms);
        }
      }
    }
    const { _id, ...rest } = delivery;
    await this.deliveries.doc(_id).set({ data: rest });
  }
}

export const signtestSignature = () => `WECHATPAY/SIGNTEST/${randomBytes(32).toString('base64')}`;

/**
 * What the simulator's rooms share, and what a room is. A room answers a family of WeChat Pay endpoints
 * (`route`) and may add control endpoints under /sim/ (`control`); the server routes to it, authenticates the
 * request and applies faults first. A bills room plugs in the same way (`WechatPaySimulator.plug`).
 */
import type { IncomingMessage } from 'node:http';
import type { LocalKeys } from '../keys';
import type { SimClock } from './clock';
import type { FaultBook } from './faults';
import type { Ledger } from './ledger';
import type { Delivery, Notifier } from './notifier';
import type { PartnerSettings } from './partner';
import type { PlatformSigning, SigningSettings } from './signing';

/** A JSON answer (2xx ones are signed), or bytes sent as they are, unsigned (a bill download). */
export type Answer =
  { status: number; body?: unknown } | { status: number; raw: Buffer; headers: Record<string, string> };

export interface RoomRoute {
  /** the fault target this endpoint answers to (faults for `any` reach every endpoint) */
  target: string;
  run(url: URL, raw: Buffer, req: IncomingMessage): Promise<Answer>;
}

export interface Room {
  route(method: string, path: string): RoomRoute | undefined;
  /** control endpoints under /sim/; undefined when the path is not the room's */
  control?(
    method: string,
    path: string,
    body: unknown,
    url: URL,
  ): { status: number; body: unknown } | undefined | Promise<{ status: number; body: unknown } | undefined>;
}

export interface SimSettings extends SigningSettings {
  /** scales the notification retry schedule: 1 is WeChat's real timing */
  timeFactor: number;
  /** how long a refund stays PROCESSING */
  refundDelayMs: number;
  /** refunds of one payment at least this far apart; 0 turns the rule off */
  refundIntervalMs: number;
  /** error answers of the refund API per second before it answers 429; 0: off */
  refundErrorLimitPerSecond: number;
  /** direct merchant, or service provider with its sub-merchants (partner.ts) */
  partner: PartnerSettings;
}

/** Timers that close() cancels all at once. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

export interface SimContext {
  keys: LocalKeys;
  settings: SimSettings;
  clock: SimClock;
  ledger: Ledger;
  faults: FaultBook;
  notifier: Notifier;
  signing: PlatformSigning;
  timers: Timers;
  /** encrypts, signs and delivers a notification to `url` */
  notify(
    url: string,
    eventType: string,
    summary: string,
    originalType: 'transaction' | 'refund',
    resource: unknown,
    refs: { outTradeNo: string; outRefundNo?: string },
  ): Promise<Delivery>;
  log?: (line: string) => void;
}

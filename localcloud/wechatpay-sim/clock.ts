/**
 * WeChat Pay's business clock: the time its rules read (prepay validity, time_expire, refund intervals, error-rate
 * windows, the signing-key migration, bill days, create_time / success_time). A tester moves it with
 * `advance` or `set` (control API `POST /sim/clock`) to reach tomorrow's bill or the end of a refund interval
 * without waiting.
 *
 * Signature timestamps are not business time: on the real wire both sides share the wall clock, and a merchant
 * refuses an answer more than 5 minutes off. So request freshness and the Wechatpay-Timestamp of answers and
 * notifications stay on `wall`, and moving this clock never makes the merchant's verification fail.
 */
export class SimClock {
  private offsetMs = 0;

  constructor(readonly wall: () => number = Date.now) {}

  /** business time, ms since the epoch */
  readonly now = (): number => this.wall() + this.offsetMs;

  get offset(): number {
    return this.offsetMs;
  }

  /** Moves business time forward; WeChat Pay's time never runs backwards, so a negative step is refused. */
  advance(ms: number): number {
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new RangeError('advanceMs must be a non-negative integer of milliseconds');
    this.offsetMs += ms;
    return this.now();
  }

  /** Sets business time to `at` (ms since the epoch); later wall time moves it on from there. */
  set(at: number): number {
    if (!Number.isSafeInteger(at) || at <= 0)
      throw new RangeError('now must be a positive integer of milliseconds since the epoch');
    this.offsetMs = at - this.wall();
    return this.now();
  }

  /** Back to the wall clock. */
  reset(): void {
    this.offsetMs = 0;
  }
}

/** RFC 3339 in China Standard Time (`2026-11-23T22:33:12+08:00`), as WeChat Pay writes times. */
export function chinaTime(ms: number): string {
  return `${new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 19)}+08:00`;
}

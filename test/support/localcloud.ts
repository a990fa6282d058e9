/** A local cloud per test file: temporary data folder, fast notification retries, helpers to act as users. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiResult, OrderView, PayResponse } from '../../typings/api';
import { LocalCloud, type LocalCloudOptions } from '../../localcloud/cloud';

export interface TestCloud {
  cloud: LocalCloud;
  /** calls a function as `user` (undefined: no identity) and returns its ApiResult */
  call<T = unknown>(fn: string, event: unknown, user?: string): Promise<ApiResult<T>>;
  /** calls and unwraps, failing the test on an error result */
  ok<T = unknown>(fn: string, event: unknown, user?: string): Promise<T>;
  confirm(user: string, items?: { productId: string; quantity: number }[], requestId?: string): Promise<OrderView>;
  payAndWait(user: string, orderId: string): Promise<OrderView>;
  order(user: string, orderId: string): Promise<OrderView>;
  openid(user: string): string;
  close(): Promise<void>;
}

let counter = 0;

export const TEST_ADDRESS = {
  userName: '张三',
  telNumber: '13800001234',
  provinceName: '云南省',
  cityName: '昆明市',
  countyName: '五华区',
  detailInfo: '翠湖路 1 号',
};

export async function startTestCloud(options: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'localcloud-'));
  // refundIntervalMs 0: tests refund one payment several times in a row; a test of WeChat Pay's minute asks for it
  const cloud = new LocalCloud({
    timeFactor: 0.001,
    refundDelayMs: 5,
    refundIntervalMs: 0,
    ...options,
    dataDir,
    env: { LOG_LEVEL: 'silent', ...options.env },
  });
  await cloud.start();
  const call = async <T>(fn: string, event: unknown, user?: string) =>
    (await cloud.call(fn, event, user)) as ApiResult<T>;
  const ok = async <T>(fn: string, event: unknown, user?: string): Promise<T> => {
    const result = await call<T>(fn, event, user);
    if (!result.ok) throw new Error(`${fn} failed: ${JSON.stringify(result.error)}`);
    return result.data;
  };
  const helpers: TestCloud = {
    cloud,
    call,
    ok,
    confirm: (user, items = [{ productId: 'latte', quantity: 2 }], requestId = `req-${Date.now()}-${counter++}`) =>
      ok<OrderView>(
        'orders',
        // an address as wx.chooseAddress gives one: shipped goods need it, the others ignore it
        {
          action: 'confirm',
          requestId,
          items,
          contact: { name: '张三', phone: '13800138000' },
          remark: '少糖',
          address: TEST_ADDRESS,
        },
        user,
      ),
    async payAndWait(user, orderId) {
      const { params } = await ok<PayResponse>('payment', { action: 'pay', orderId }, user);
      // through the payment sheet's checks: the wx.requestPayment parameters and the mini-program's appId
      const { transaction } = await cloud.pay.cashier('pay', { appId: cloud.keys.appid, ...params });
      const outTradeNo = (transaction as { out_trade_no: string }).out_trade_no;
      // the handler has finished (every write done) once WeChat Pay has its answer
      await waitFor(
        () => cloud.pay.notifier.list({ outTradeNo }),
        (ds) => ds.some((d) => d.state === 'delivered'),
      );
      return waitFor(
        () => ok<OrderView>('orders', { action: 'get', orderId }, user),
        (o) => o.status === 'paid',
      );
    },
    order: (user, orderId) => ok<OrderView>('orders', { action: 'get', orderId }, user),
    openid: (user) => cloud.wxApi.openidFor(user),
    async close() {
      await cloud.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return helpers;
}

/** Polls `read` until `done` holds (bounded: 10 s). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${String(JSON.stringify(value)).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

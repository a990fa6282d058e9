/**
 * Reconcile's budget (domain/money/reconcile.ts) against a scripted WeChat Pay: the platform kills a function at 60 s,
 * so no new item starts once the run's time budget is spent, whatever the call cap still allows.
 */
import { reconcile, TIME_BUDGET_MS } from '../../../cloudfunctions/common/domain/money/reconcile';
import { createHarness, seedUnpaidOrder, successTx, type Harness } from './harness';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  expect(h.unscripted).toEqual([]);
  await h.close();
});

test('a slow WeChat Pay: no new item starts after the time budget, though the call cap is far off', async () => {
  const seeded = await Promise.all([1, 2, 3, 4].map(() => seedUnpaidOrder(h, 1990)));
  h.advance(5 * 60_000);
  const slowMs = TIME_BUDGET_MS / 2 + 1;
  h.wx.queryByOutTradeNo.fallback = (outTradeNo) => {
    h.advance(slowMs);
    const payment = seeded.flatMap((s) => s.payments).find((p) => p._id === outTradeNo)!;
    return successTx(payment, { trade_state: 'NOTPAY', trade_state_desc: '未支付' });
  };
  const summary = await reconcile(h.deps, { maxCalls: 200 });
  expect(summary).toMatchObject({ paymentsChecked: 2, wechatPayCalls: 2, stoppedEarly: true });
  expect(h.wx.queryByOutTradeNo.calls).toHaveLength(2);
});

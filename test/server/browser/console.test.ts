/**
 * The local cloud's console in Chromium, driven by clicks only: a fault is switched on, a payment's notification is
 * dropped and shown as dropped, replayed, and the order shows paid, every change arriving over server-sent events
 * (the page is never reloaded). The mini-program's part (an order and its prepay) is made through the functions.
 */
import type { Browser, Page } from 'puppeteer-core';
import type { PayResponse } from '../../../typings/api';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';
import { describeInBrowser, launch, openPage, textOf } from './support';

describeInBrowser('console', () => {
  jest.setTimeout(30_000);
  let t: TestCloud;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const statusOf = (page: Page, orderId: string) => textOf(page, `tr[data-order="${orderId}"] .status`);
  const waitForCell = (page: Page, selector: string, text: string) =>
    page.waitForFunction(
      (sel, want) => [...document.querySelectorAll(sel)].some((el) => el.textContent === want),
      { timeout: 5000, polling: 50 },
      selector,
      text,
    );

  test('fault on → the notification is dropped and shown as dropped → replay → the order is paid, all by clicks', async () => {
    const order = await t.confirm('alice');
    const { prepayId } = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, 'alice');
    const { page, problems } = await openPage(browser);
    await page.goto(`${t.cloud.urls.cloud}/console`);
    await page.evaluate(() => Object.assign(window, { neverReloaded: true }));
    await page.waitForSelector(`tr[data-order="${order.id}"]`);
    expect(await statusOf(page, order.id)).toBe('pending_payment');

    // the fault switch: notify / DROP / once
    await page.click('[data-tab="faults"]');
    await page.select('#fault-target', 'notify');
    await page.select('#fault-kind', 'DROP');
    await page.select('#fault-times', '1');
    expect(await textOf(page, '#fault-meaning')).toContain('lost');
    await page.click('#fault-add');
    await page.waitForSelector('tr[data-fault="notify:DROP"]');
    expect(t.cloud.pay.faults.list()).toEqual([expect.objectContaining({ target: 'notify', kind: 'DROP', times: 1 })]);

    // the cashier pays the pending prepay
    await page.click('[data-tab="cashier"]');
    await page.waitForSelector(`tr[data-prepay="${prepayId}"] button[data-act="pay"]`);
    await page.click(`tr[data-prepay="${prepayId}"] button[data-act="pay"]`);

    // the delivery is shown as dropped, the fault is spent, the order still unpaid: all pushed, no reload
    await page.click('[data-tab="deliveries"]');
    await waitForCell(page, 'tr[data-delivery] .state', 'dropped');
    const [delivery] = await t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` });
    expect(delivery).toMatchObject({ state: 'dropped' });
    expect(await textOf(page, `tr[data-delivery="${delivery!._id}"] .state`)).toBe('dropped');
    await page.click('[data-tab="faults"]');
    await page.waitForFunction(() => document.querySelector('#faults')?.textContent?.includes('No fault'), {
      timeout: 5000,
      polling: 50,
    });
    await page.click('[data-tab="orders"]');
    expect(await statusOf(page, order.id)).toBe('pending_payment');

    // the order's own view shows the dropped delivery beside the ledger; replay it from there
    await page.click(`tr[data-order="${order.id}"]`);
    await page.waitForSelector(`#order-${order.id} tr[data-delivery="${delivery!._id}"]`);
    expect(await textOf(page, `#order-${order.id}`)).toContain('SUCCESS'); // WeChat Pay took the money
    await page.click(`#order-${order.id} button[data-replay="${delivery!._id}"]`);
    await waitForCell(page, `tr[data-order="${order.id}"] .status`, 'paid');
    await waitForCell(page, `#order-${order.id} tr[data-delivery="${delivery!._id}"] .state`, 'delivered');
    expect((await t.order('alice', order.id)).status).toBe('paid');

    // the delivery as sent and answered: signature headers, the body, the 204, the backend's verdict
    await page.click(`#order-${order.id} button[data-show="${delivery!._id}"]`);
    await page.waitForFunction(() => document.querySelector('#delivery-detail')?.textContent?.includes('Attempt 1'), {
      timeout: 5000,
      polling: 50,
    });
    const detail = await textOf(page, '#delivery-detail');
    expect(detail).toMatch(/Wechatpay-Signature: /i);
    expect(detail).toContain('204');
    expect(detail).toContain('Backend verdict: paid');
    expect(await page.evaluate(() => (window as unknown as { neverReloaded?: boolean }).neverReloaded)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('a Native code in the cashier is scanned and paid as the chosen user; the clock moves from the page', async () => {
    const created = await fetch(`${t.cloud.urls.http}/checkout/api/orders`, {
      method: 'POST',
      body: JSON.stringify({ items: [{ productId: 'croissant', quantity: 1 }] }),
      headers: { 'Content-Type': 'application/json' },
    });
    const { token, order } = (await created.json()) as { token: string; order: { id: string } };
    await fetch(`${t.cloud.urls.http}/checkout/api/order/pay`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    const { page, problems } = await openPage(browser);
    await page.goto(`${t.cloud.urls.cloud}/console#cashier`);
    await page.waitForSelector('tr[data-code] button[data-act="pay"]');
    await page.click('#scan-user', { count: 3 });
    await page.type('#scan-user', 'dave');
    await page.keyboard.press('Tab');
    await page.waitForFunction(
      (openid) => document.querySelector('#scan-openid')?.textContent?.includes(openid),
      { timeout: 5000, polling: 50 },
      t.openid('dave'),
    );
    await page.click('tr[data-code] button[data-act="pay"]');
    await waitFor(
      () => t.cloud.pay.getTransaction(`${order.id}P1`),
      (tx) => tx?.trade_state === 'SUCCESS',
    );
    expect((await t.cloud.pay.getTransaction(`${order.id}P1`))!.payer.openid).toBe(t.openid('dave'));

    await page.click('[data-tab="wechatpay"]');
    const before = t.cloud.pay.simClock.offset;
    await page.click('[data-advance="3600000"]');
    await page.waitForFunction(() => document.querySelector('#clock-offset')?.textContent?.includes('+60 min'), {
      timeout: 5000,
      polling: 50,
    });
    expect(t.cloud.pay.simClock.offset - before).toBe(3_600_000);
    await page.click('#clock-reset');
    await page.waitForFunction(() => document.querySelector('#clock-offset')?.textContent?.includes('wall time'), {
      timeout: 5000,
      polling: 50,
    });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('works in a narrow window: the tabs scroll, the page does not', async () => {
    const { page, problems } = await openPage(browser, 390, 844);
    await page.goto(`${t.cloud.urls.cloud}/console`);
    await page.waitForSelector('tr[data-order]');
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.view);
    await page.click('[data-tab="faults"]');
    expect(await page.$eval('#tab-faults', (el) => (el as HTMLElement).hidden)).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  });
});

/**
 * `npm run screenshots:web`: the local cloud's console and the Native checkout page as PNG files under
 * docs/screenshots/ (web-console-*.png, web-checkout-*.png), at 1280×800 and in a narrow window (390×844).
 * Recipe: a real local cloud in a temporary folder with a little history (a paid order and a refund, a notification
 * dropped by a fault, a guest's Native order scanned and paid), photographed by Debian's headless Chromium through
 * puppeteer-core. Needs `chromium` and `fonts-noto-cjk` (it says so if not).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import type { PayResponse } from '../../typings/api';
import type { CheckoutAnswer, CheckoutCreated } from '../../typings/checkout';
import { ROOT } from '../../cloudfunctions/functions';
import { LocalCloud } from '../../localcloud/cloud';
import { useLocalWxServerSdk } from '../../localcloud/resolve-sdk';
import { requireScreenshotTools } from './screenshot-tools';

const SHOTS_DIR = join(ROOT, 'docs', 'screenshots');

async function call<T>(cloud: LocalCloud, fn: string, event: unknown, user: string): Promise<T> {
  const result = (await cloud.call(fn, event, user)) as { ok: boolean; data?: T; error?: unknown };
  if (!result.ok) throw new Error(`${fn}: ${JSON.stringify(result.error)}`);
  return result.data!;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: not within 5 s`);
}

/** A little history for the console to show. */
async function seed(cloud: LocalCloud): Promise<{ paidOrder: string; guestToken: string }> {
  let n = 0;
  const order = (user: string, items: { productId: string; quantity: number }[]) =>
    call<{ id: string }>(
      cloud,
      'orders',
      {
        action: 'confirm',
        requestId: `shots-${Date.now()}-${n++}`,
        items,
        contact: { name: '张三', phone: '13800138000' },
        remark: '',
      },
      user,
    );
  const payByCashier = async (user: string, orderId: string) => {
    const { params } = await call<PayResponse>(cloud, 'payment', { action: 'pay', orderId }, user);
    await cloud.pay.cashier('pay', { appId: cloud.keys.appid, ...params });
  };
  // alice pays; an admin refunds part of it
  const paid = await order('alice', [
    { productId: 'latte', quantity: 2 },
    { productId: 'croissant', quantity: 1 },
  ]);
  await payByCashier('alice', paid.id);
  await until(
    async () =>
      (await call<{ status: string }>(cloud, 'orders', { action: 'get', orderId: paid.id }, 'alice')).status === 'paid',
    'alice paid',
  );
  await call(
    cloud,
    'admin',
    { action: 'refund', orderId: paid.id, amountFen: 1200, reason: '可颂售罄', requestId: `shots-refund-${paid.id}` },
    'admin',
  );
  // bob pays, but WeChat Pay's notification is lost (the console shows it dropped, ready to replay)
  const dropped = await order('bob', [{ productId: 'americano', quantity: 1 }]);
  cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  await payByCashier('bob', dropped.id);
  // a JSAPI prepay still waiting in the cashier
  const waiting = await order('dave', [{ productId: 'beans-250g', quantity: 1 }]);
  await call<PayResponse>(cloud, 'payment', { action: 'pay', orderId: waiting.id }, 'dave');
  // a guest's Native order, scanned and paid by carol's phone; another one waiting for its scan
  const guest = async (items: { productId: string; quantity: number }[]) => {
    const created = (await (
      await fetch(`${cloud.urls.http}/checkout/api/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ items }),
      })
    ).json()) as CheckoutCreated;
    const paying = (await (
      await fetch(`${cloud.urls.http}/checkout/api/order/pay`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${created.token}` },
      })
    ).json()) as CheckoutAnswer;
    return { token: created.token, codeUrl: paying.order.code!.codeUrl, id: created.order.id };
  };
  const scanned = await guest([{ productId: 'latte', quantity: 1 }]);
  await cloud.pay.scan('pay', scanned.codeUrl, cloud.wxApi.openidFor('carol'));
  await guest([{ productId: 'class-latte-art', quantity: 1 }]);
  for (const user of ['alice', 'bob', 'carol', 'dave', 'admin']) cloud.wxApi.login(user);
  await until(async () => (await cloud.pay.notifier.list()).every((d) => d.state !== 'pending'), 'deliveries settled');
  return { paidOrder: paid.id, guestToken: scanned.token };
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  const file = join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage });
  console.log(`  ${file.slice(ROOT.length + 1)}`);
}

async function main(): Promise<void> {
  const chromium = requireScreenshotTools();
  useLocalWxServerSdk();
  const dataDir = mkdtempSync(join(tmpdir(), 'web-shots-'));
  process.env.ADMIN_OPENIDS = 'placeholder_admin';
  const cloud = new LocalCloud({
    dataDir,
    timeFactor: 0.001,
    refundDelayMs: 5,
    refundIntervalMs: 0,
    env: { LOG_LEVEL: 'silent', ORDER_EXPIRY_MINUTES: '30' },
  });
  await cloud.start();
  process.env.ADMIN_OPENIDS = cloud.wxApi.openidFor('admin');
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--font-render-hinting=none'],
  });
  try {
    mkdirSync(SHOTS_DIR, { recursive: true });
    const { paidOrder } = await seed(cloud);
    console.log('screenshots:');
    const page = await browser.newPage();

    // the console at 1280×800
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${cloud.urls.cloud}/console`);
    await page.waitForSelector(`tr[data-order="${paidOrder}"]`);
    await page.click(`tr[data-order="${paidOrder}"]`);
    await page.waitForSelector(`#order-${paidOrder}`);
    await shot(page, 'web-console-order');
    await page.click('[data-tab="deliveries"]');
    await page.waitForSelector('#deliveries tr[data-delivery]');
    const firstShow = await page.$('#deliveries tr[data-delivery] button[data-show]');
    await firstShow!.click();
    await page.waitForFunction(
      () =>
        document.querySelector('#delivery-detail')?.textContent?.includes('Attempt') ||
        document.querySelector('#delivery-detail')?.textContent?.includes('Dropped'),
      { polling: 50 },
    );
    await shot(page, 'web-console-deliveries');
    await page.click('[data-tab="faults"]');
    await page.select('#fault-target', 'refund');
    await page.select('#fault-kind', 'NOT_ENOUGH');
    await page.select('#fault-times', 'standing');
    await page.click('#fault-add');
    await page.waitForSelector('tr[data-fault="refund:NOT_ENOUGH"]');
    await shot(page, 'web-console-faults');
    // the cashier in a narrow window
    await page.setViewport({ width: 390, height: 844 });
    await page.click('[data-tab="cashier"]');
    await page.waitForSelector('#codes tr[data-code], #prepays tr[data-prepay]');
    await shot(page, 'web-console-cashier-narrow');

    // the checkout page: a guest picks items, gets the QR code, and is told paid
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${cloud.urls.http}/checkout/`);
    await page.waitForSelector('.product .plus');
    for (const pick of ['latte', 'latte', 'croissant']) await page.click(`.product[data-id="${pick}"] .plus`);
    await shot(page, 'web-checkout-items');
    await page.click('#submit');
    await page.waitForFunction(() => document.querySelector('#qr')?.className === 'qr', { polling: 50 });
    await shot(page, 'web-checkout-qr');
    await page.setViewport({ width: 390, height: 844 });
    await shot(page, 'web-checkout-qr-narrow', true);
    const codeUrl = await page.$eval('#qr-img', (img) => img.getAttribute('data-code'));
    await cloud.pay.scan('pay', codeUrl!, cloud.wxApi.openidFor('erin'));
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'paid', {
      polling: 50,
      timeout: 5000,
    });
    await shot(page, 'web-checkout-paid-narrow');
  } finally {
    await browser.close();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * The Native checkout page in Chromium against a local cloud: a guest picks items and gets a QR code whose pixels say
 * the order's code_url; a phone (the simulator's scan-and-pay) pays it and the page shows paid within 3 seconds, from
 * the backend's word only; the code lapses with WeChat Pay's clock and is refreshed; a second tab with another order's
 * token sees nothing of the first; the page polls every 2 s for a minute, then slower; a narrow window works too.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, HTTPRequest, Page } from 'puppeteer-core';
import type { PaymentDoc } from '../../../cloudfunctions/common/domain/records';
import { CODE_URL_LIFETIME_MS } from '../../../localcloud/wechatpay-sim/simulator';
import { exportCheckoutPage } from '../../../scripts/release/checkout-static';
import { startTestCloud, type TestCloud } from '../../support/localcloud';
import { describeInBrowser, launch, openPage, readQr, textOf } from './support';

describeInBrowser('checkout page', () => {
  jest.setTimeout(30_000);
  let t: TestCloud;
  let browser: Browser;
  /** the page as exported for static hosting (scripts/release/checkout-static.ts), served from another origin */
  const staticDir = mkdtempSync(join(tmpdir(), 'checkout-static-'));
  let staticSite: Server;
  let staticOrigin = '';
  beforeAll(async () => {
    staticSite = createServer((req, res) => {
      if (req.url !== '/' && req.url !== '/index.html') return void res.writeHead(404).end();
      res
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(readFileSync(join(staticDir, 'index.html')));
    });
    await new Promise<void>((resolve) => staticSite.listen(0, '127.0.0.1', resolve));
    staticOrigin = `http://127.0.0.1:${(staticSite.address() as AddressInfo).port}`;
    // orders live 5 hours here, so a code_url (2 hours) can lapse while its order is still payable
    t = await startTestCloud({ env: { ORDER_EXPIRY_MINUTES: '300', CHECKOUT_ALLOWED_ORIGINS: staticOrigin } });
    exportCheckoutPage(`${t.cloud.urls.http}/checkout/`, staticDir);
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise<void>((resolve) => (staticSite ? staticSite.close(() => resolve()) : resolve()));
    rmSync(staticDir, { recursive: true, force: true });
  });
  // every page comes from 127.0.0.1: each test starts with fresh rate-limit windows
  beforeEach(() => t.cloud.engine.database().collection('rate_limits').where({}).remove());

  const pageUrl = () => `${t.cloud.urls.http}/checkout/`;
  const sim = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${t.cloud.urls.wechatpay}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const scanAndPay = (codeUrl: string, user: string) =>
    sim('POST', '/sim/native/scan', { code_url: codeUrl, openid: t.openid(user), action: 'pay' });
  const orderIdOn = (page: Page) => textOf(page, '#order-id');
  const tokenOn = async (page: Page) => /#t=(.+)$/.exec(page.url())?.[1] ?? '';
  const payment = async (orderId: string) =>
    (await t.cloud.engine.database().collection('payments').doc(`${orderId}P1`).get()).data as unknown as PaymentDoc;
  /** the QR code as the page draws it: waits until it is shown and not veiled, then reads its pixels */
  async function qrOn(page: Page): Promise<string> {
    await page.waitForFunction(
      () =>
        document.querySelector('#qr')?.className === 'qr' &&
        (document.querySelector('#qr-img') as HTMLImageElement | null)?.complete === true,
      { timeout: 5000, polling: 50 },
    );
    const decoded = await readQr((await page.$('#qr'))!);
    if (!decoded) throw new Error('no QR code could be read from the page');
    return decoded;
  }
  async function pickAndSubmit(page: Page, picks: Record<string, number>) {
    await page.goto(pageUrl());
    await page.waitForSelector('.product .plus');
    for (const [productId, count] of Object.entries(picks))
      for (let i = 0; i < count; i++) await page.click(`.product[data-id="${productId}"] .plus`);
    await page.click('#submit');
    await page.waitForSelector('#order-id:not(:empty)');
  }

  test('pick items → QR of that order’s code_url, read from the pixels → scan and pay → paid on the page within 3 s', async () => {
    const { page, problems } = await openPage(browser);
    await pickAndSubmit(page, { latte: 2, croissant: 1 });
    expect(await textOf(page, '#amount')).toBe('¥51.80');
    expect(await textOf(page, '#countdown')).toMatch(/^二维码 [12]:\d\d:\d\d 后失效$/);
    const orderId = await orderIdOn(page);
    const decoded = await qrOn(page);
    // that order's code_url: the one the backend holds for its payment and WeChat Pay issued for its out_trade_no
    expect(decoded).toBe((await payment(orderId)).codeUrl);
    const codes = (await t.cloud.pay.pendingPayments()).codes.filter((c) => c.out_trade_no === `${orderId}P1`);
    expect(codes.map((c) => c.code_url)).toEqual([decoded]);

    // the page never decides paid: until the backend says so it stays unpaid, whatever the phone does
    expect(await page.$eval('#status', (el) => el.getAttribute('data-status'))).toBe('pending_payment');
    const scanned = Date.now();
    expect((await scanAndPay(decoded, 'bob')).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'paid', {
      timeout: 3000,
      polling: 20,
    });
    const shownAfterMs = Date.now() - scanned;
    expect(shownAfterMs).toBeLessThan(3000);
    expect(await textOf(page, '#done-title')).toBe('支付成功');
    expect(await page.$eval('#pay', (el) => (el as HTMLElement).hidden)).toBe(true);
    expect(problems).toEqual([]);
    console.log(`checkout: paid shown ${shownAfterMs} ms after the scan`);
    await page.close();
  });

  test("expiry and refresh on WeChat Pay's clock: the lapsed code is veiled and refused, the refreshed one pays", async () => {
    const { page, problems } = await openPage(browser);
    await pickAndSubmit(page, { americano: 1 });
    const orderId = await orderIdOn(page);
    const first = await qrOn(page);

    // two hours pass: WeChat Pay's clock (the simulator's control API), and the backend's record of the code with it
    expect((await sim('POST', '/sim/clock', { advanceMs: CODE_URL_LIFETIME_MS })).status).toBe(200);
    await t.cloud.engine
      .database()
      .collection('payments')
      .doc(`${orderId}P1`)
      .update({ data: { prepayExpiresAt: Date.now() - 1 } });
    expect(await scanAndPay(first, 'bob')).toMatchObject({ status: 400, json: { code: 'CODE_EXPIRED' } });
    await page.waitForFunction(() => document.querySelector('#qr')?.className === 'qr lapsed', {
      timeout: 5000,
      polling: 50,
    });
    expect(await textOf(page, '#countdown')).toBe('二维码已失效，请刷新后重新扫码');

    await page.click('#refresh');
    const second = await qrOn(page);
    expect(second).not.toBe(first);
    expect(second).toBe((await payment(orderId)).codeUrl);
    expect(await textOf(page, '#countdown')).toMatch(/^二维码 [12]:\d\d:\d\d 后失效$/);
    expect((await scanAndPay(second, 'bob')).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'paid', {
      timeout: 3000,
      polling: 20,
    });
    expect(await t.cloud.pay.getTransaction(`${orderId}P1`)).toMatchObject({
      trade_state: 'SUCCESS',
      trade_type: 'NATIVE',
      payer: { openid: t.openid('bob') },
    });
    await sim('DELETE', '/sim/clock');
    expect(problems).toEqual([]);
    await page.close();
  });

  test("a second tab with another order's token sees nothing of the first", async () => {
    const first = await openPage(browser);
    await pickAndSubmit(first.page, { latte: 1 });
    const firstId = await orderIdOn(first.page);
    const firstToken = await tokenOn(first.page);
    const firstCode = await qrOn(first.page);

    const second = await openPage(browser);
    const sent: string[] = [];
    second.page.on('request', (request: HTTPRequest) =>
      sent.push(`${request.url()} ${request.headers().authorization ?? ''}`),
    );
    await pickAndSubmit(second.page, { 'beans-250g': 1 });
    const secondId = await orderIdOn(second.page);
    const secondCode = await qrOn(second.page);
    expect(secondId).not.toBe(firstId);
    expect(secondCode).not.toBe(firstCode);
    const html = await second.page.content();
    for (const secret of [firstId, firstToken, firstCode]) expect(html).not.toContain(secret);
    expect(sent.join('\n')).not.toContain(firstToken);

    // the first is paid: the second tab still shows its own order, unpaid
    await scanAndPay(firstCode, 'bob');
    await first.page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'paid', {
      timeout: 3000,
      polling: 50,
    });
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a poll of the second tab has come and gone
    expect(await second.page.$eval('#status', (el) => el.getAttribute('data-status'))).toBe('pending_payment');
    expect(await orderIdOn(second.page)).toBe(secondId);

    // a third tab with a token that is nobody's (one character off the first's) is told there is no such order
    const third = await openPage(browser);
    await third.page.goto(`${pageUrl()}#t=${firstToken.slice(0, -1)}${firstToken.endsWith('A') ? 'B' : 'A'}`);
    await third.page.waitForFunction(() => document.querySelector('#ended-title')?.textContent === '订单不存在', {
      timeout: 5000,
      polling: 50,
    });
    const thirdHtml = await third.page.content();
    for (const secret of [firstId, firstCode]) expect(thirdHtml).not.toContain(secret);
    expect([...first.problems, ...second.problems, ...third.problems]).toEqual([]);
    await Promise.all([first.page.close(), second.page.close(), third.page.close()]);
  });

  test('polls every 2 s during the first minute, then every 5 s', async () => {
    const { page, problems } = await openPage(browser);
    const polls: number[] = [];
    page.on('request', (request: HTTPRequest) => {
      if (request.method() === 'GET' && request.url().endsWith('/api/order')) polls.push(Date.now());
    });
    await pickAndSubmit(page, { croissant: 1 });
    await qrOn(page);
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const early = polls.slice(1).map((at, i) => at - polls[i]!);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    for (const gap of early) expect(gap).toBeGreaterThanOrEqual(1900);
    for (const gap of early) expect(gap).toBeLessThan(3000);
    // a minute on (the page's own clock moved 61 s ahead): the next waits are 5 s
    await page.evaluate(() => {
      const real = Date.now.bind(Date);
      Date.now = () => real() + 61_000;
    });
    const skewedFrom = polls.length;
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const later = polls
      .slice(skewedFrom)
      .map((at, i, all) => (i === 0 ? 0 : at - all[i - 1]!))
      .slice(1);
    expect(later.length).toBeGreaterThanOrEqual(1);
    for (const gap of later) expect(gap).toBeGreaterThanOrEqual(4900);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('exported for static hosting and served from another origin, it orders and pays through CORS', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`${staticOrigin}/`);
    await page.waitForSelector('.product .plus');
    await page.click('.product[data-id="americano"] .plus');
    await page.click('#submit');
    await page.waitForSelector('#order-id:not(:empty)');
    const decoded = await qrOn(page);
    expect(decoded).toBe((await payment(await orderIdOn(page))).codeUrl);
    expect((await scanAndPay(decoded, 'bob')).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'paid', {
      timeout: 3000,
      polling: 50,
    });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('a narrow window (390×844): items, QR and buttons fit, nothing scrolls sideways', async () => {
    const { page, problems } = await openPage(browser, 390, 844);
    await page.goto(pageUrl());
    await page.waitForSelector('.product .plus');
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(await fits()).toBe(true);
    await page.click('.product[data-id="latte"] .plus');
    await page.click('#submit');
    const decoded = await qrOn(page);
    expect(decoded).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(await fits()).toBe(true);
    const box = (await (await page.$('#qr'))!.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
    await page.close();
  });
});

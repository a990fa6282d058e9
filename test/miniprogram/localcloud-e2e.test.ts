/**
 * The whole flow in the client against a real local cloud (`npm start` in a child process): the pages and services
 * over the local transport (wx.request on node's http), the cashier sheet paying through the WeChat Pay simulator,
 * and the result page learning from the server that the order is paid.
 */
import { appConfig } from '../../miniprogram/config';
import { setTransport } from '../../miniprogram/services/transport';
import { flush, loadComponent, renderPage, resetClient, tap, text, FakeBackend } from './harness';

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';

jest.setTimeout(60_000);

/** A page path loads once per file (simulate's module cache): kept by path. */
const loaded = new Map<string, string>();
function load(path: string): string {
  if (!loaded.has(path)) loaded.set(path, loadComponent(path));
  return loaded.get(path)!;
}

let child: ChildProcess;
let dataDir: string;
let cloudUrl: string;

beforeAll(async () => {
  dataDir = mkdtempSync(`${tmpdir()}/e2e-`);
  child = spawn(
    process.execPath,
    [createRequire(__filename).resolve('tsx/cli'), `${__dirname}/../../localcloud/main.ts`],
    {
      env: {
        ...process.env,
        LOCALCLOUD_DATA: dataDir,
        LOCALCLOUD_PORT: '0',
        LOCALCLOUD_PAY_PORT: '0',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cloudUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`local cloud did not start: ${output}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      const m = output.match(/cloud functions\s+(http:\/\/127\.0\.0\.1:\d+)\/functions/);
      if (m && output.includes('Drive it:')) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
});
afterAll(async () => {
  await new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM')));
  rmSync(dataDir, { recursive: true, force: true });
});

/** wx.request on node's http, as the local transport uses it in DevTools. */
function wxRequestOverHttp(options: {
  url: string;
  method: string;
  data?: unknown;
  header?: Record<string, string>;
  success(r: unknown): void;
  fail(e: unknown): void;
}) {
  const body = options.method === 'GET' ? undefined : JSON.stringify(options.data ?? {});
  const req = http.request(
    options.url,
    { method: options.method, headers: { ...options.header, 'content-type': 'application/json' } },
    (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        options.success({ statusCode: res.statusCode, data: text ? JSON.parse(text) : '' });
      });
    },
  );
  req.on('error', (e: Error) => options.fail({ errMsg: `request:fail ${e.message}` }));
  req.end(body);
}

test('catalogue → confirm → local cashier pays → result page shows paid (from the server)', async () => {
  const wxMock = resetClient(new FakeBackend());
  (wxMock.request as jest.Mock).mockImplementation(wxRequestOverHttp);
  appConfig.mode = 'local';
  appConfig.localCloudUrl = cloudUrl;
  appConfig.localUser = 'e2e-user';
  setTransport(undefined);

  const home = renderPage(load('pages/home/index/index'));
  home.instance.onLoad({});
  await waitUntil(() => text(home).includes('拿铁咖啡') && home.instance.data.loginState === 'ok');
  home.querySelectorAll('.product__stepper')[0]!.dispatchEvent('change', { detail: { value: 2 } });
  await flush();
  await tap(home, '.checkout-bar__go');
  const confirmUrl = (wxMock.navigateTo as jest.Mock).mock.calls[0][0].url as string;

  const confirm = renderPage(load('pages/order/confirm/index'));
  await confirm.instance.onLoad({ items: confirmUrl.split('items=')[1] });
  confirm.querySelector('.confirm__name')!.dispatchEvent('change', { detail: { value: '李四' } });
  confirm.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '13912345678' } });
  await flush();
  // one tap: the order is made and the cashier opens
  await tap(confirm, '.confirm__submit');
  await waitUntil(() => confirm.querySelector('#cashier')!.instance.data.visible === true);
  expect(confirm.instance.data.totalText).toBe('¥39.80');
  await tap(confirm.querySelector('#cashier')!, '.cashier__pay');
  await waitUntil(() => (wxMock.redirectTo as jest.Mock).mock.calls.length > 0);
  const resultUrl = (wxMock.redirectTo as jest.Mock).mock.calls[0][0].url as string;
  const query = new URL(resultUrl, 'https://servicewechat.com').searchParams;
  // the sheet said ok: the result page asks WeChat Pay through the backend at once
  expect(query.get('paid')).toBe('1');

  const result = renderPage(load('pages/order/result/index'));
  result.instance.onLoad({ id: query.get('id')!, paid: '1' });
  await waitUntil(() => result.instance.data.state === 'paid', 15_000);
  expect(text(result)).toContain('支付成功');
  expect(text(result)).toContain('¥39.80');
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await flush(20);
  }
}

/** The local user the local cloud makes an admin (npm start sets ADMIN_OPENIDS to it unless told otherwise). */
async function as(user: string) {
  const wxMock = resetClient(new FakeBackend());
  (wxMock.request as jest.Mock).mockImplementation(wxRequestOverHttp);
  appConfig.mode = 'local';
  appConfig.localCloudUrl = cloudUrl;
  appConfig.localUser = user;
  setTransport(undefined);
  return wxMock;
}

test('the merchant, against the real backend: the entry, order search, a partial refund, statements and metrics; a buyer is refused', async () => {
  // a paid order to find
  await as('e2e-buyer');
  const { confirmOrder } = await import('../../miniprogram/services/orders');
  const { payOrder } = await import('../../miniprogram/services/payment');
  const order = await confirmOrder({
    requestId: `e2e-admin-${Date.now()}`,
    items: [{ productId: 'latte', quantity: 2 }],
    contact: { name: '王五', phone: '13700001111' },
    remark: '',
  });
  await expect(payOrder(order.id, async () => 'pay')).resolves.toEqual({ kind: 'ok' });

  // a buyer opening the admin home sees nothing to do
  const buyerAdmin = renderPage(load('pages/admin/index/index'));
  buyerAdmin.instance.onLoad({});
  await waitUntil(() => !buyerAdmin.instance.data.loading);
  expect(text(buyerAdmin)).toContain('没有管理权限');

  const wxMock = await as('admin');
  const mine = renderPage(load('pages/mine/index/index'));
  mine.instance.onLoad({});
  await waitUntil(() => mine.instance.data.isAdmin === true);
  await flush(10);
  expect(mine.querySelector('.mine__admin')).toBeTruthy();

  const search = renderPage(load('pages/admin/orders/index'));
  search.instance.onQuery({ detail: { value: '13700001111' } });
  await search.instance.onSearch();
  expect(search.instance.data.rows.map((r: { id: string }) => r.id)).toContain(order.id);

  const detail = renderPage(load('pages/admin/order/index'));
  detail.instance.onLoad({ id: order.id });
  await waitUntil(() => !detail.instance.data.loading);
  expect(text(detail)).toContain(`商户单号 ${order.id}P1`);
  await tap(detail, '.admin-order__refund-button');
  detail.instance.onAmount({ detail: { value: '10' } });
  detail.instance.onReason({ detail: { value: '少做了一杯' } });
  await detail.instance.onSubmitRefund();
  await waitUntil(() => text(detail).includes('¥10.00 · 退款'), 15_000);
  expect(wxMock.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '退款已提交' }));

  for (const name of ['statements', 'metrics', 'exceptions']) {
    const page = renderPage(load(`pages/admin/${name}/index`));
    page.instance.onLoad({});
    await waitUntil(() => !page.instance.data.loading);
    expect(page.instance.data.forbidden).toBe(false);
    expect(wxMock.showToast).not.toHaveBeenCalledWith(expect.objectContaining({ icon: 'none' }));
  }
});

/**
 * The release guard: a trial or release build always uses the cloud, whatever config.ts says, and the local cashier
 * cannot be reached. Also the app's launch (app.ts): wx.cloud.init before any cloud call, as the platform requires.
 */
import { appConfig, backendMode } from '../../miniprogram/config';
import { payOrder } from '../../miniprogram/services/payment';
import { localTransport, TransportError } from '../../miniprogram/services/transport';
import { ensureLogin } from '../../miniprogram/services/auth';
import {
  FakeBackend,
  flush,
  loadComponent,
  payThrough,
  renderPage,
  resetClient,
  until,
  type Rendered,
} from './harness';
import { orderView, products } from './fixtures';

const ID = orderView().id;
const backend = () =>
  new FakeBackend()
    .on('catalog.list', () => ({ products }))
    .on('orders.confirm', () => orderView({ expiresAt: Date.now() + 30 * 60_000 }))
    .on('payment.pay', () => ({
      orderId: ID,
      prepayId: 'wx1',
      params: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 's' },
    }));

let confirmId: string;
beforeAll(() => {
  confirmId = loadComponent('pages/order/confirm/index');
});

describe.each(['trial', 'release'] as const)('a %s build with config.ts left in local mode', (envVersion) => {
  let client: ReturnType<typeof resetClient>;
  let fns: FakeBackend;
  beforeEach(() => {
    fns = backend();
    client = resetClient(fns, { mode: 'local', envVersion, launch: true });
    expect(appConfig.mode).toBe('local');
  });

  test('launch initialises wx.cloud and logs in through wx.login and the cloud; nothing goes to 127.0.0.1', async () => {
    expect(backendMode()).toBe('cloud');
    expect(client.cloud.init).toHaveBeenCalledTimes(1);
    await ensureLogin();
    expect(client.login).toHaveBeenCalled();
    expect(client.cloud.callFunction).toHaveBeenCalledWith({
      name: 'login',
      data: { code: expect.stringMatching(/^code-/) },
    });
    expect(client.request).not.toHaveBeenCalled();
  });

  test('paying opens WeChat’s payment sheet; the local cashier never opens and the simulator is never called', async () => {
    const page: Rendered = renderPage(confirmId);
    await page.instance.onLoad({ items: encodeURIComponent(JSON.stringify([{ productId: 'latte', quantity: 1 }])) });
    page.querySelector('.confirm__name')!.dispatchEvent('change', { detail: { value: '张三' } });
    page.querySelector('.confirm__phone')!.dispatchEvent('change', { detail: { value: '13800138000' } });
    await flush();
    // as the cloud mode user does: the payment sheet is WeChat's
    await payThrough(page, '.confirm__submit', 'ok', { ...client.platform, mode: 'cloud' });
    await until(() => (client.redirectTo as jest.Mock).mock.calls.length > 0);
    expect(client.requestPayment).toHaveBeenCalledTimes(1);
    expect(page.querySelector('#cashier')!.instance.data.visible).toBe(false);
    expect(client.request).not.toHaveBeenCalled();
    expect(client.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/result/index?id=${ID}&paid=1` });
  });

  test('the cashier code is not reachable: payOrder never asks for the local cashier, the local transport refuses', async () => {
    const presentCashier = jest.fn(async () => 'pay' as const);
    await expect(payOrder(ID, presentCashier)).resolves.toEqual({ kind: 'ok' });
    expect(presentCashier).not.toHaveBeenCalled();
    const local = localTransport(appConfig.localCloudUrl, 'alice');
    await expect(local.loginCode()).rejects.toBeInstanceOf(TransportError);
    await expect(local.callFunction('orders', { action: 'list' })).rejects.toBeInstanceOf(TransportError);
    expect(client.request).not.toHaveBeenCalled();
  });
});

test('a build whose version cannot be read counts as a release', () => {
  resetClient(backend(), { mode: 'local', launch: false });
  (globalThis as unknown as { wx: { getAccountInfoSync: jest.Mock } }).wx.getAccountInfoSync.mockImplementation(() => {
    throw new Error('getAccountInfoSync:fail');
  });
  expect(backendMode()).toBe('cloud');
});

test('a develop build in local mode uses the local cloud and never touches wx.cloud', async () => {
  const client = resetClient(backend(), { mode: 'local', envVersion: 'develop', launch: true });
  expect(backendMode()).toBe('local');
  await ensureLogin();
  expect(client.cloud.init).not.toHaveBeenCalled();
  expect(client.cloud.callFunction).not.toHaveBeenCalled();
  expect(client.request).toHaveBeenCalledWith(
    expect.objectContaining({ url: `${appConfig.localCloudUrl}/wxapi/_local/login` }),
  );
});

test('cloud mode: launch initialises wx.cloud with the environment before the first call (the platform refuses calls before init)', async () => {
  const fns = backend();
  const client = resetClient(fns, { mode: 'cloud', launch: false });
  await expect(client.cloud.callFunction({ name: 'login', data: {} })).rejects.toMatchObject({
    errMsg: expect.stringContaining('wx.cloud.init'),
  });
  const launched = resetClient(fns, { mode: 'cloud', launch: true });
  expect(launched.cloud.init).toHaveBeenCalledWith(expect.objectContaining({ env: 'shop-prod-1a2b', traceUser: true }));
  const initOrder = launched.cloud.init.mock.invocationCallOrder[0]!;
  await ensureLogin();
  expect(launched.cloud.callFunction.mock.invocationCallOrder[0]).toBeGreaterThan(initOrder);
});

test('cloud mode: the platform’s failures are readable (unknown function, a function that throws)', async () => {
  const fns = backend().on('orders.get', () => {
    throw new Error('boom');
  });
  resetClient(fns, { mode: 'cloud', launch: true });
  const { callApi, callFunction } = await import('../../miniprogram/services/api');
  const { messageFor } = await import('../../miniprogram/services/errors');
  const thrown = await callApi('orders.get', { orderId: ID }).catch((e: unknown) => e);
  expect(thrown).toMatchObject({ code: 'NETWORK' });
  expect(messageFor(thrown)).toBe('网络不给力，请检查网络后重试');
  await expect(callFunction('noSuchFunction', {})).rejects.toMatchObject({ code: 'NETWORK' });
});

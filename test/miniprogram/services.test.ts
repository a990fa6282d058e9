/** Services against a mocked wx: both transports, errors normalised in one place, re-login, payment outcomes. */
import { appConfig } from '../../miniprogram/config';
import { callApi } from '../../miniprogram/services/api';
import { ensureLogin, loginState } from '../../miniprogram/services/auth';
import { ApiFailure, messageFor } from '../../miniprogram/services/errors';
import { requestPayment } from '../../miniprogram/services/payment';
import { cloudTransport, localTransport, setTransport, transportFor } from '../../miniprogram/services/transport';
import { parseItems, validateContact } from '../../miniprogram/pages/order/confirm/form';
import { formatFen } from '../../miniprogram/utils/money';
import { FakeBackend, fail, resetClient } from './harness';

let wxMock: ReturnType<typeof resetClient>;
beforeEach(() => {
  wxMock = resetClient(new FakeBackend());
});

describe('cloud transport: wx.cloud.callFunction', () => {
  beforeEach(() => setTransport(cloudTransport));

  test('returns the function result; identity is never sent', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({ result: { ok: true, data: { products: [] } } });
    await expect(callApi('catalog.list', { action: 'list' })).resolves.toEqual({ products: [] });
    expect((wxMock.cloud as { callFunction: jest.Mock }).callFunction).toHaveBeenCalledWith({ name: 'catalog', data: { action: 'list' } });
  });

  test('a typed error becomes an ApiFailure with that code', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({ result: { ok: false, error: { code: 'ORDER_EXPIRED', message: '订单已过期，请重新下单' } } });
    await expect(callApi('payment.pay', { action: 'pay', orderId: 'O1' })).rejects.toMatchObject({ code: 'ORDER_EXPIRED' });
  });

  test('a platform failure (network, function crash) is NETWORK, with a readable message', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockRejectedValue({ errMsg: 'cloud.callFunction:fail timeout' });
    const error = await callApi('orders.get', { action: 'get', orderId: 'O1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiFailure);
    expect(messageFor(error)).toBe('网络不给力，请检查网络后重试');
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({ result: 'not the contract' });
    await expect(callApi('orders.get', { action: 'get', orderId: 'O1' })).rejects.toMatchObject({ code: 'NETWORK' });
  });

  test('wx.login gives the login code', async () => {
    (wxMock.login as jest.Mock).mockImplementation((o: { success: (r: unknown) => void }) => o.success({ code: 'abc' }));
    await expect(cloudTransport.loginCode()).resolves.toBe('abc');
  });
});

describe('local transport: wx.request to the local cloud', () => {
  test('the local wx.login session is sent with each call', async () => {
    const transport = localTransport('http://127.0.0.1:8787', 'bob');
    (wxMock.request as jest.Mock).mockImplementation((o: { url: string; data: unknown; success: (r: unknown) => void }) => {
      if (o.url.endsWith('/wxapi/_local/login')) o.success({ statusCode: 200, data: { code: 'c1', session: 's1', openid: 'o1' } });
      else o.success({ statusCode: 200, data: { result: { ok: true, data: { echoed: o.data } } } });
    });
    expect(await transport.loginCode()).toBe('c1');
    expect(wxMock.request).toHaveBeenCalledWith(expect.objectContaining({ data: { user: 'bob' } }));
    expect(await transport.callFunction('orders', { action: 'list' })).toEqual({ ok: true, data: { echoed: { action: 'list' } } });
    expect(wxMock.request).toHaveBeenLastCalledWith(expect.objectContaining({ url: 'http://127.0.0.1:8787/functions/orders', method: 'POST', header: expect.objectContaining({ 'X-WX-Session': 's1' }) }));
  });

  test('HTTP failures are transport errors', async () => {
    const transport = localTransport('http://127.0.0.1:8787', 'bob');
    (wxMock.request as jest.Mock).mockImplementation((o: { success: (r: unknown) => void }) => o.success({ statusCode: 500, data: { errMsg: 'functions execute fail' } }));
    await expect(transport.callFunction('orders', {})).rejects.toThrow('functions execute fail');
    (wxMock.request as jest.Mock).mockImplementation((o: { fail: (r: unknown) => void }) => o.fail({ errMsg: 'request:fail' }));
    await expect(transport.loginCode()).rejects.toThrow('request:fail');
  });

  test('config.ts chooses the transport', () => {
    expect(transportFor({ ...appConfig, mode: 'cloud' })).toBe(cloudTransport);
    expect(transportFor({ ...appConfig, mode: 'local' })).not.toBe(cloudTransport);
  });
});

describe('login and re-login', () => {
  test('concurrent callers share one login; the profile is kept', async () => {
    const backend = new FakeBackend().on('login', () => ({ openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 }));
    setTransport(backend);
    const [a, b] = await Promise.all([ensureLogin(), ensureLogin()]);
    expect(a).toBe(b);
    await ensureLogin();
    expect(backend.count('login')).toBe(1);
    expect(loginState()).toBe('ok');
  });

  test('an UNAUTHENTICATED answer logs in again once and retries the call', async () => {
    let sessions = 0;
    const backend = new FakeBackend()
      .on('login', () => (sessions++, { openid: 'o1', isAdmin: false, createdAt: 1, lastLoginAt: 1 }))
      .on('orders.list', () => (sessions < 1 ? fail('UNAUTHENTICATED') : { orders: [], page: 1, hasMore: false }));
    setTransport(backend);
    await expect(callApi('orders.list', { action: 'list' })).resolves.toEqual({ orders: [], page: 1, hasMore: false });
    expect(backend.count('login')).toBe(1);
  });
});

describe('payment outcomes from wx.requestPayment', () => {
  const params = { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=x', signType: 'RSA' as const, paySign: 's' };
  test.each([
    [{ success: true }, { kind: 'ok' }],
    [{ errMsg: 'requestPayment:fail cancel' }, { kind: 'cancel' }],
    [{ errMsg: 'requestPayment:fail (detail message)' }, { kind: 'fail', reason: '(detail message)' }],
    [{ errMsg: 'requestPayment:fail' }, { kind: 'fail', reason: '支付失败' }],
  ])('%o → %o', async (answer, outcome) => {
    (wxMock.requestPayment as jest.Mock).mockImplementation((o: { success: () => void; fail: (e: unknown) => void }) => ('success' in answer ? o.success() : o.fail(answer)));
    await expect(requestPayment(params)).resolves.toEqual(outcome);
  });
});

describe('errors, money and form input', () => {
  test('every code maps to a readable message; server Chinese wins, English and internals do not leak', () => {
    expect(messageFor(new ApiFailure('CONFLICT', '订单已支付'))).toBe('订单已支付');
    expect(messageFor(new ApiFailure('INVALID_ARGUMENT', 'items must be a non-empty array'))).toBe('填写的信息有误，请检查');
    expect(messageFor(new ApiFailure('INTERNAL', '数据库错误 stack'))).toBe('服务繁忙，请稍后重试');
    expect(messageFor(new Error('x'))).toBe('服务繁忙，请稍后重试');
    for (const code of ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'ORDER_EXPIRED', 'FAILED_PRECONDITION', 'PAYMENT_PROVIDER_ERROR', 'UNAVAILABLE'] as const) {
      expect(messageFor(new ApiFailure(code, ''))).toMatch(/[\u4e00-\u9fa5]/);
    }
  });

  test('fen formatting', () => {
    expect([0, 1, 10, 199, 1990, 100000, -250].map(formatFen)).toEqual(['¥0.00', '¥0.01', '¥0.10', '¥1.99', '¥19.90', '¥1000.00', '-¥2.50']);
  });

  test('confirm page input', () => {
    expect(parseItems(encodeURIComponent('[{"productId":"latte","quantity":2},{"productId":"x","quantity":0},{"quantity":1},"junk"]'))).toEqual([{ productId: 'latte', quantity: 2 }]);
    expect(parseItems('%%%')).toEqual([]);
    expect(validateContact('张三', '13800138000', '')).toEqual({});
    expect(validateContact(' ', '1380013800', 'x'.repeat(201))).toEqual({ name: '请填写姓名', phone: '请填写正确的 11 位手机号', remark: '备注最多 200 字' });
  });
});

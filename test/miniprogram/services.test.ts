/** Services against a mocked wx: both transports, errors normalised in one place, re-login, payment outcomes. */
import { appConfig } from '../../miniprogram/config';
import { callApi } from '../../miniprogram/services/api';
import { ensureLogin, loginState } from '../../miniprogram/services/auth';
import { ApiFailure, messageFor } from '../../miniprogram/services/errors';
import { describePayFailure, orderAndPay, requestPayment } from '../../miniprogram/services/payment';
import { onOrderChanged } from '../../miniprogram/services/orders';
import { reportClientLog } from '../../miniprogram/services/client-log';
import { PAY_FAILURE_RULES, UNKNOWN_PAY_FAILURE } from '../../miniprogram/constants/payment';
import { cloudTransport, localTransport, setTransport, transportFor } from '../../miniprogram/services/transport';
import { parseItems, validateContact } from '../../miniprogram/pages/order/confirm/form';
import { formatFen, parseYuan } from '../../miniprogram/utils/money';
import { maskPhone } from '../../miniprogram/utils/mask';
import { FakeBackend, fail, resetClient } from './harness';

let wxMock: ReturnType<typeof resetClient>;
beforeEach(() => {
  wxMock = resetClient(new FakeBackend());
});

describe('cloud transport: wx.cloud.callFunction', () => {
  beforeEach(() => setTransport(cloudTransport));

  test('returns the function result; identity is never sent', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({
      result: { ok: true, data: { products: [] } },
    });
    await expect(callApi('catalog.list', {})).resolves.toEqual({ products: [] });
    expect((wxMock.cloud as { callFunction: jest.Mock }).callFunction).toHaveBeenCalledWith({
      name: 'catalog',
      data: { action: 'list' },
    });
  });

  test('a typed error becomes an ApiFailure with that code', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({
      result: { ok: false, error: { code: 'ORDER_EXPIRED', message: '订单已过期，请重新下单' } },
    });
    await expect(callApi('payment.pay', { orderId: 'O1' })).rejects.toMatchObject({ code: 'ORDER_EXPIRED' });
  });

  test('a platform failure (network, function crash) is NETWORK, with a readable message', async () => {
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockRejectedValue({
      errMsg: 'cloud.callFunction:fail timeout',
    });
    const error = await callApi('orders.get', { orderId: 'O1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiFailure);
    expect(messageFor(error)).toBe('网络不给力，请检查网络后重试');
    (wxMock.cloud as { callFunction: jest.Mock }).callFunction.mockResolvedValue({ result: 'not the contract' });
    await expect(callApi('orders.get', { orderId: 'O1' })).rejects.toMatchObject({ code: 'NETWORK' });
  });

  test('wx.login gives the login code', async () => {
    (wxMock.login as jest.Mock).mockImplementation((o: { success: (r: unknown) => void }) =>
      o.success({ code: 'abc' }),
    );
    await expect(cloudTransport.loginCode()).resolves.toBe('abc');
  });
});

describe('local transport: wx.request to the local cloud', () => {
  test('the local wx.login session is sent with each call', async () => {
    const transport = localTransport('http://127.0.0.1:8787', 'bob');
    (wxMock.request as jest.Mock).mockImplementation(
      (o: { url: string; data: unknown; success: (r: unknown) => void }) => {
        if (o.url.endsWith('/wxapi/_local/login'))
          o.success({ statusCode: 200, data: { code: 'c1', session: 's1', openid: 'o1' } });
        else o.success({ statusCode: 200, data: { result: { ok: true, data: { echoed: o.data } } } });
      },
    );
    expect(await transport.loginCode()).toBe('c1');
    expect(wxMock.request).toHaveBeenCalledWith(expect.objectContaining({ data: { user: 'bob' } }));
    expect(await transport.callFunction('orders', { action: 'list' })).toEqual({
      ok: true,
      data: { echoed: { action: 'list' } },
    });
    expect(wxMock.request).toHaveBeenLastCalledWith(
      expect.objectContaining({
        url: 'http://127.0.0.1:8787/functions/orders',
        method: 'POST',
        header: expect.objectContaining({ 'X-WX-Session': 's1' }),
      }),
    );
  });

  test('HTTP failures are transport errors', async () => {
    const transport = localTransport('http://127.0.0.1:8787', 'bob');
    (wxMock.request as jest.Mock).mockImplementation((o: { success: (r: unknown) => void }) =>
      o.success({ statusCode: 500, data: { errMsg: 'functions execute fail' } }),
    );
    await expect(transport.callFunction('orders', {})).rejects.toThrow('functions execute fail');
    (wxMock.request as jest.Mock).mockImplementation((o: { fail: (r: unknown) => void }) =>
      o.fail({ errMsg: 'request:fail' }),
    );
    await expect(transport.loginCode()).rejects.toThrow('request:fail');
  });

  test('config.ts chooses the transport in a develop build; trial and release always get the cloud', () => {
    expect(transportFor({ ...appConfig, mode: 'cloud' })).toBe(cloudTransport);
    expect(transportFor({ ...appConfig, mode: 'local' })).not.toBe(cloudTransport);
    for (const envVersion of ['trial', 'release']) {
      (wxMock.getAccountInfoSync as jest.Mock).mockReturnValue({ miniProgram: { envVersion } });
      expect(transportFor({ ...appConfig, mode: 'local' })).toBe(cloudTransport);
    }
  });
});

describe('login and re-login', () => {
  test('concurrent callers share one login; the profile is kept', async () => {
    const backend = new FakeBackend().on('login', () => ({
      openid: 'o1',
      isAdmin: false,
      createdAt: 1,
      lastLoginAt: 1,
    }));
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
    await expect(callApi('orders.list', {})).resolves.toEqual({ orders: [], page: 1, hasMore: false });
    expect(backend.count('login')).toBe(1);
  });
});

describe('payment outcomes from wx.requestPayment', () => {
  const params = { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=x', signType: 'RSA' as const, paySign: 's' };
  const answer = (a: { success: true } | { errMsg: string }) =>
    (wxMock.requestPayment as jest.Mock).mockImplementation((o: { success: () => void; fail: (e: unknown) => void }) =>
      'success' in a ? o.success() : o.fail(a),
    );
  let backend: FakeBackend;
  beforeEach(() => {
    backend = new FakeBackend();
    setTransport(backend);
  });

  test('ok, and cancel as a choice (logged: WeChat answers cancel for some real errors too)', async () => {
    answer({ success: true });
    await expect(requestPayment(params)).resolves.toEqual({ kind: 'ok' });
    answer({ errMsg: 'requestPayment:fail cancel' });
    await expect(requestPayment(params)).resolves.toEqual({ kind: 'cancel' });
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.of('clientLog.report')).toEqual([
      expect.objectContaining({
        kind: 'pay_cancel',
        message: 'requestPayment:fail cancel',
        elapsedMs: expect.any(Number),
      }),
    ]);
  });

  test('the pay tap in one call: one payment.orderAndPay with the confirm request, the order published, then the sheet', async () => {
    wxMock = resetClient(backend, { mode: 'cloud' });
    setTransport(backend);
    const order = { id: 'O1', status: 'pending_payment', totalFen: 3980 };
    backend.on('payment.orderAndPay', () => ({ order, orderId: 'O1', prepayId: 'x', params }));
    const seen: unknown[] = [];
    const stop = onOrderChanged((o) => seen.push(o.id));
    const request = {
      requestId: 'req-12345678',
      items: [{ productId: 'latte', quantity: 2 }],
      contact: { name: '张三', phone: '13800138000' },
      remark: '',
    };
    const cashier = jest.fn(async () => 'pay' as const);
    await expect(orderAndPay(request, cashier)).resolves.toEqual({ order, outcome: { kind: 'ok' } });
    stop();
    expect(backend.calls.map((c) => c.fn).filter((fn) => fn !== 'login')).toEqual(['payment']);
    expect(backend.of('payment.orderAndPay')).toEqual([{ action: 'orderAndPay', ...request }]);
    expect(seen).toEqual(['O1']);
    // WeChat's sheet (a cloud build), not the local cashier, with the parameters the one call answered
    expect(cashier).not.toHaveBeenCalled();
    expect((wxMock.requestPayment as jest.Mock).mock.calls[0][0]).toMatchObject(params);
  });

  test.each([
    ['requestPayment:fail jsapi has no permission', '商家暂未开通微信支付，请稍后再试或联系商家'],
    ['requestPayment:fail no permission', '商家暂未开通微信支付，请稍后再试或联系商家'],
    ['requestPayment:fail 支付验证签名失败', '支付校验没有通过，请稍后重试；多次失败请联系商家'],
    ['requestPayment:fail 调用支付的小程序appid与下单时的appid不一致', '商家的支付设置有误，请联系商家'],
    ['requestPayment:fail prepay_id已失效，请重新下单（有效期2小时）', '支付信息已过期，请重新支付'],
    ['requestPayment:fail 无效的prepay_id', '支付信息已过期，请重新支付'],
    [
      'requestPayment:fail parameter error: parameter.package should be String instead of Undefined;',
      '支付参数有误，请稍后重试；多次失败请联系商家',
    ],
    ['requestPayment:fail 订单已支付', '这笔订单已经支付过了，正在为你确认结果'],
    ['requestPayment:fail 订单已关闭', '订单已关闭或已过期，请重新下单'],
    ['requestPayment:fail 余额不足（模拟）', '余额不足，请换一张银行卡或其他方式支付'],
    ['requestPayment:fail network error', '网络不给力，请检查网络后重试'],
    ['requestPayment:fail system error', '微信支付系统繁忙，请稍后重试'],
  ])('%s → %s', async (errMsg, message) => {
    answer({ errMsg });
    const outcome = await requestPayment(params);
    expect(outcome).toMatchObject({ kind: 'fail', message, raw: errMsg, known: true });
    expect(JSON.stringify(outcome)).not.toMatch(/message":"[^"]*[a-z]{4}/); // what the buyer reads has no English
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.count('clientLog.report')).toBe(0);
  });

  test('every rule’s message is plain Chinese', () => {
    for (const rule of [...PAY_FAILURE_RULES.map((r) => r.message), UNKNOWN_PAY_FAILURE])
      expect(rule).toMatch(/^[^A-Za-z]*$/);
  });

  test('an unknown reason, or none, says so and is logged with its raw text', async () => {
    for (const errMsg of ['requestPayment:fail (detail message)', 'requestPayment:fail']) {
      answer({ errMsg });
      await expect(requestPayment(params)).resolves.toEqual({
        kind: 'fail',
        message: UNKNOWN_PAY_FAILURE,
        action: 'retry',
        raw: errMsg,
        known: false,
      });
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.of('clientLog.report').map((e) => e.message)).toEqual([
      'requestPayment:fail (detail message)',
      'requestPayment:fail',
    ]);
    expect(describePayFailure('requestPayment:fail 订单已支付').action).toBe('check');
  });
});

describe('client log', () => {
  test('fire and forget, the same text once a session, at most 10 lines a session, never throwing', async () => {
    const backend = new FakeBackend().on('clientLog.report', () => fail('INTERNAL'));
    setTransport(backend);
    reportClientLog('pay_error', 'requestPayment:fail x');
    reportClientLog('pay_error', 'requestPayment:fail x');
    for (let i = 0; i < 20; i++) reportClientLog('pay_error', `requestPayment:fail ${i}`);
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.count('clientLog.report')).toBe(10);
    const first = backend.of('clientLog.report')[0]!;
    expect(first).toMatchObject({
      action: 'report',
      kind: 'pay_error',
      message: 'requestPayment:fail x',
      page: 'pages/unknown',
      sdkVersion: '2.19.1',
    });
    // nothing about the user: only these fields go out
    expect(
      Object.keys(first).every((k) =>
        ['action', 'kind', 'message', 'page', 'sdkVersion', 'platform', 'elapsedMs'].includes(k),
      ),
    ).toBe(true);
  });
});

describe('errors, money and form input', () => {
  test('every code maps to a readable message; server Chinese wins, English and internals do not leak', () => {
    expect(messageFor(new ApiFailure('CONFLICT', '订单已支付'))).toBe('订单已支付');
    expect(messageFor(new ApiFailure('INVALID_ARGUMENT', 'items must be a non-empty array'))).toBe(
      '填写的信息有误，请检查',
    );
    expect(messageFor(new ApiFailure('INTERNAL', '数据库错误 stack'))).toBe('服务繁忙，请稍后重试');
    expect(messageFor(new Error('x'))).toBe('服务繁忙，请稍后重试');
    for (const code of [
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'ORDER_EXPIRED',
      'FAILED_PRECONDITION',
      'PAYMENT_PROVIDER_ERROR',
      'UNAVAILABLE',
    ] as const) {
      expect(messageFor(new ApiFailure(code, ''))).toMatch(/[\u4e00-\u9fa5]/);
    }
  });

  test('fen formatting, yuan typed by a person, masked phones', () => {
    expect([0, 1, 10, 199, 1990, 100000, -250].map(formatFen)).toEqual([
      '¥0.00',
      '¥0.01',
      '¥0.10',
      '¥1.99',
      '¥19.90',
      '¥1000.00',
      '-¥2.50',
    ]);
    expect(['12', '12.5', '12.34', '¥0.01', ' 19.90 ', '1.234', 'abc', '-1', ''].map(parseYuan)).toEqual([
      1200,
      1250,
      1234,
      1,
      1990,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(maskPhone('13800138000')).toBe('138****8000');
  });

  test('confirm page input', () => {
    expect(
      parseItems(
        encodeURIComponent('[{"productId":"latte","quantity":2},{"productId":"x","quantity":0},{"quantity":1},"junk"]'),
      ),
    ).toEqual([{ productId: 'latte', quantity: 2 }]);
    expect(parseItems('%%%')).toEqual([]);
    expect(validateContact('张三', '13800138000', '')).toEqual({});
    expect(validateContact(' ', '1380013800', 'x'.repeat(201))).toEqual({
      name: '请填写姓名',
      phone: '请填写正确的 11 位手机号',
      remark: '备注最多 200 字',
    });
  });
});

/** The local cashier hands WeChat Pay's simulated cashier what wx.requestPayment hands WeChat, and shows its refusals. */
import { appConfig } from '../../miniprogram/config';
import { payOrder } from '../../miniprogram/services/payment';
import { setTransport } from '../../miniprogram/services/transport';
import { FakeBackend, resetClient } from './harness';

const params = {
  timeStamp: '1700000000',
  nonceStr: 'n0nce',
  package: 'prepay_id=wx2026prepay',
  signType: 'RSA' as const,
  paySign: 'c2ln',
};
let wxMock: ReturnType<typeof resetClient>;
let sheet: { statusCode: number; data: unknown };
let index: Record<string, string>;

beforeEach(() => {
  appConfig.mode = 'local';
  const backend = new FakeBackend().on('payment.pay', () => ({ orderId: 'O1', prepayId: 'wx2026prepay', params }));
  wxMock = resetClient(backend);
  setTransport(backend); // the functions directly: wx.request below is only the local cloud's index and the cashier
  index = { wechatpay: 'http://127.0.0.1:9999', appid: 'wxlocalapp' };
  sheet = { statusCode: 200, data: { result: 'pay' } };
  (wxMock.request as jest.Mock).mockImplementation((o: { url: string; success: (r: unknown) => void }) =>
    o.success(o.url === `${appConfig.localCloudUrl}/` ? { statusCode: 200, data: index } : sheet),
  );
});

test('the parameters and the local app’s appId go to the cashier; the user’s choice is the outcome', async () => {
  await expect(payOrder('O1', async () => 'pay')).resolves.toEqual({ kind: 'ok' });
  expect(wxMock.request).toHaveBeenLastCalledWith(
    expect.objectContaining({
      url: 'http://127.0.0.1:9999/sim/cashier/pay',
      method: 'POST',
      data: { appId: 'wxlocalapp', ...params },
    }),
  );
  await expect(payOrder('O1', async () => 'cancel')).resolves.toEqual({ kind: 'cancel' });
  expect(wxMock.request).toHaveBeenLastCalledWith(
    expect.objectContaining({
      url: 'http://127.0.0.1:9999/sim/cashier/cancel',
      data: { appId: 'wxlocalapp', ...params },
    }),
  );
});

test('a refusal of the sheet’s checks is a failure with WeChat’s reason', async () => {
  sheet = { statusCode: 400, data: { code: 'PAYSIGN_ERROR', message: 'requestPayment:fail 支付验证签名失败' } };
  await expect(payOrder('O1', async () => 'pay')).resolves.toEqual({
    kind: 'fail',
    message: '支付校验没有通过，请稍后重试；多次失败请联系商家',
    action: 'contact',
    raw: 'requestPayment:fail 支付验证签名失败',
    known: true,
  });
});

test('a local cloud that does not say its appid cannot stand in for wx.requestPayment', async () => {
  index = { wechatpay: 'http://127.0.0.1:9999' };
  await expect(payOrder('O1', async () => 'pay')).resolves.toMatchObject({
    kind: 'fail',
    message: expect.stringContaining('appid'),
  });
  expect(wxMock.request).toHaveBeenCalledTimes(1);
});

import { loadWechatPayConfig, WechatPayConfigError } from '../../../cloudfunctions/common/wechatpay';
import { testKeyPair } from '../../support/keys';

const merchant = testKeyPair('merchant');
const platform = testKeyPair('platform');

const valid = {
  WECHATPAY_MCHID: '1230000109',
  WECHATPAY_APPID: 'wxd678efh567hg6787',
  WECHATPAY_MERCHANT_SERIAL_NO: '408b07e79b8269fec3d5d3e6ab8ed163a6a380db',
  WECHATPAY_MERCHANT_PRIVATE_KEY: merchant.privatePem.replace(/\n/g, '\\n'),
  WECHATPAY_APIV3_KEY: 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb',
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0114232134912410000000000000',
  WECHATPAY_PUBLIC_KEY: platform.publicPem,
  WECHATPAY_NOTIFY_URL: 'https://example.com/pay/notify',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadWechatPayConfig(env, () => {
      throw new Error('no file');
    });
  } catch (error) {
    expect(error).toBeInstanceOf(WechatPayConfigError);
    return (error as WechatPayConfigError).problems;
  }
  return [];
}

test('a valid environment loads, with escaped newlines in the PEM and an upper-cased serial', () => {
  const config = loadWechatPayConfig(valid);
  expect(config.merchantSerialNo).toBe('408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB');
  expect(config.apiV3Key).toHaveLength(32);
  expect([...config.platformKeys.keys()]).toEqual(['PUB_KEY_ID_0114232134912410000000000000']);
  expect(config.refundNotifyUrl).toBe(valid.WECHATPAY_NOTIFY_URL);
  expect(config.baseUrl).toBe('https://api.mch.weixin.qq.com');
});

test('the private key may come from a file', () => {
  const config = loadWechatPayConfig(
    {
      ...valid,
      WECHATPAY_MERCHANT_PRIVATE_KEY: undefined,
      WECHATPAY_MERCHANT_PRIVATE_KEY_PATH: '/keys/apiclient_key.pem',
    },
    (path) => {
      expect(path).toBe('/keys/apiclient_key.pem');
      return merchant.privatePem;
    },
  );
  expect(config.merchantPrivateKey.asymmetricKeyType).toBe('rsa');
});

test('an APIv3 key that is not 32 bytes is named, and its value never printed', () => {
  const list = problems({ ...valid, WECHATPAY_APIV3_KEY: 'short-secret-value' });
  expect(list).toEqual(['WECHATPAY_APIV3_KEY must be 32 bytes, got 18']);
  expect(list.join()).not.toContain('short-secret-value');
});

test('every missing item is named at once', () => {
  expect(problems({})).toEqual(
    expect.arrayContaining([
      'WECHATPAY_MCHID is missing',
      'WECHATPAY_APPID is missing',
      'WECHATPAY_MERCHANT_SERIAL_NO is missing',
      'WECHATPAY_MERCHANT_PRIVATE_KEY (or _PATH) is missing',
      'WECHATPAY_APIV3_KEY is missing',
      'WECHATPAY_NOTIFY_URL is missing',
    ]),
  );
});

test.each([
  [{ WECHATPAY_MCHID: '12ab' }, 'WECHATPAY_MCHID is malformed'],
  [{ WECHATPAY_APPID: 'app123' }, 'WECHATPAY_APPID is malformed'],
  [{ WECHATPAY_MERCHANT_PRIVATE_KEY: 'not a pem' }, 'WECHATPAY_MERCHANT_PRIVATE_KEY is not a PEM private key'],
  [
    { WECHATPAY_MERCHANT_PRIVATE_KEY: undefined, WECHATPAY_MERCHANT_PRIVATE_KEY_PATH: '/nope' },
    'WECHATPAY_MERCHANT_PRIVATE_KEY_PATH: cannot read',
  ],
  [{ WECHATPAY_PUBLIC_KEY_ID: undefined }, 'must be set together'],
  [{ WECHATPAY_PUBLIC_KEY_ID: 'KEY1' }, 'WECHATPAY_PUBLIC_KEY_ID is malformed'],
  [{ WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined }, 'no WeChat Pay key'],
  [{ WECHATPAY_PLATFORM_CERTIFICATES: 'garbage' }, 'holds no PEM certificate'],
  [{ WECHATPAY_NOTIFY_URL: 'http://example.com/notify' }, 'must be https'],
  [{ WECHATPAY_NOTIFY_URL: 'https://example.com/notify?x=1' }, 'must not carry a query string'],
  [{ WECHATPAY_REFUND_NOTIFY_URL: 'ftp://x' }, 'WECHATPAY_REFUND_NOTIFY_URL must be https'],
  [{ WECHATPAY_BASE_URL: 'https://api.mch.weixin.qq.com/v3/' }, 'WECHATPAY_BASE_URL must be an origin'],
])('%o is reported', (overrides, expected) => {
  expect(problems({ ...valid, ...overrides }).join(' | ')).toContain(expected);
});

test('http notify URLs are accepted on loopback only (the local cloud)', () => {
  expect(
    loadWechatPayConfig({ ...valid, WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:8787/http/payNotify' }).notifyUrl,
  ).toContain('127.0.0.1');
});

import { createPrivateKey } from 'node:crypto';
import {
  authorize,
  buildRequestMessage,
  formatAuthorization,
  RsaSha256Signer,
  type Signer,
} from '../../../cloudfunctions/common/wechatpay';
import { parseAuthorization } from '../../../localcloud/wechatpay-sim/auth';
import { describeVectors, vector, vectorText } from '../../support/vectors';

describeVectors('request signing: official vectors', () => {
  const signer = () => new RsaSha256Signer(vectorText('official_test_merchant_key.pkcs8.pem'));

  test.each([
    'v01_official_request_sign_post_jsapi.json',
    'v02_official_request_sign_get_path_param.json',
    'v03_official_request_sign_get_query.json',
  ])('%s: message and signature', (file) => {
    const v = vector(file);
    const message = buildRequestMessage(v.method, v.url, v.timestamp, v.nonce, v.body);
    expect(message).toBe(v.message);
    expect(signer().sign(message)).toBe(v.expected_signature);
  });

  test.each([
    'v04_official_request_sign_post_variant_mchid1230000109.json',
    'v05_official_request_sign_image_upload_meta.json',
  ])('%s: signature of the stated message', (file) => {
    const v = vector(file);
    expect(signer().sign(v.message)).toBe(v.expected_signature);
  });

  test('v01: the whole Authorization header', () => {
    const v = vector('v01_official_request_sign_post_jsapi.json');
    const header = authorize(
      { mchid: '1900007291', serialNo: '408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB', signer: signer() },
      v.method,
      v.url,
      v.body,
      v.timestamp,
      v.nonce,
    );
    expect(header).toBe(v.expected_authorization);
  });

  test('the PKCS#1 form of the official key signs the same', () => {
    const v = vector('v01_official_request_sign_post_jsapi.json');
    const pkcs1 = new RsaSha256Signer(createPrivateKey(vectorText('official_test_merchant_key.pkcs1.pem')));
    expect(pkcs1.sign(v.message)).toBe(v.expected_signature);
  });

  test('v08: SHA256withRSA of "source" with the wechatpay-go key', () => {
    const v = vector('v08_go_sdk_sha256withrsa_source.json');
    expect(new RsaSha256Signer(vectorText(v.private_key_file)).sign(v.message)).toBe(v.expected_signature);
  });

  test('v14: Authorization layout (parameter order is free; fields and schema are not)', () => {
    const v = vector('v14_go_sdk_authorization_header_format.json');
    const mock: Signer = { sign: (message) => `Sign:${message}` };
    for (const c of v.cases) {
      const ours = formatAuthorization(
        {
          mchid: c.mchid,
          serialNo: c.serial_no,
          nonce: c.nonce,
          timestamp: String(c.timestamp),
          signature: mock.sign(buildRequestMessage(c.method, c.url, String(c.timestamp), c.nonce, c.body)),
        },
        'WECHATPAY2-Mock',
      );
      expect(parseAuthorization(ours)).toEqual(parseAuthorization(c.expected));
      expect(parseAuthorization(c.expected)).toMatchObject({
        schema: 'WECHATPAY2-Mock',
        mchid: c.mchid,
        serialNo: c.serial_no,
      });
    }
    // A body that itself ends in \n still gets the final \n.
    expect(buildRequestMessage('POST', '/v3/certificates', '1', 'n', 'Hello World!\n')).toBe(
      'POST\n/v3/certificates\n1\nn\nHello World!\n\n',
    );
  });
});

describe('Authorization parsing', () => {
  test('rejects headers that are not the WECHATPAY2 form', () => {
    expect(parseAuthorization('')).toBeUndefined();
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
    expect(
      parseAuthorization('WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="1",serial_no="S"'),
    ).toBeUndefined();
    expect(
      parseAuthorization(
        'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="S",junk',
      ),
    ).toBeUndefined();
  });

  test('accepts any parameter order', () => {
    expect(
      parseAuthorization('WECHATPAY2-SHA256-RSA2048 serial_no="S",timestamp="1",signature="s",nonce_str="n",mchid="1"'),
    ).toEqual({
      schema: 'WECHATPAY2-SHA256-RSA2048',
      mchid: '1',
      nonce: 'n',
      signature: 's',
      timestamp: '1',
      serialNo: 'S',
    });
  });

  test('a non-RSA key is refused', () => {
    const { generateKeyPairSync } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => new RsaSha256Signer(privateKey)).toThrow(/RSA/);
  });
});

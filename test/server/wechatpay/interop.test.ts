/**
 * Interop with an implementation nobody here wrote: wechatpay-axios-plugin (dev dependency only).
 * Its signatures verify with ours and ours with its verifier; its AES-GCM decrypts ours and ours decrypts its.
 */
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  authorize,
  buildRequestMessage,
  decryptAesGcm,
  encryptAesGcm,
  loadPlatformKeys,
  RsaSha256Signer,
  SignatureVerifier,
} from '../../../cloudfunctions/common/wechatpay';
import { parseAuthorization } from '../../../localcloud/wechatpay-sim/auth';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';

const pair = testKeyPair('interop');
const NOW = 1_700_000_000;
const body = '{"prepay_id":"wx201410272009395522657a690389285100","描述":"中文"}';

test('its signature verifies with our verifier', () => {
  const nonce = Formatter.nonce();
  const message = Formatter.response(String(NOW), nonce, body);
  const signature = Rsa.sign(message, Rsa.from(pair.privatePem, Rsa.KEY_TYPE_PRIVATE));
  const verifier = new SignatureVerifier({
    keys: loadPlatformKeys([{ id: 'PUB_KEY_ID_X', pem: pair.publicPem }]),
    clock: () => NOW * 1000,
  });
  expect(() =>
    verifier.verify(
      {
        'Wechatpay-Timestamp': String(NOW),
        'Wechatpay-Nonce': nonce,
        'Wechatpay-Signature': signature,
        'Wechatpay-Serial': 'PUB_KEY_ID_X',
      },
      body,
    ),
  ).not.toThrow();
});

test('our signature verifies with its verifier', () => {
  const headers = signResponse(new RsaSha256Signer(pair.privateKey), 'PUB_KEY_ID_X', body, NOW);
  const message = Formatter.response(headers['Wechatpay-Timestamp'], headers['Wechatpay-Nonce'], body);
  expect(Rsa.verify(message, headers['Wechatpay-Signature'], Rsa.from(pair.publicPem, Rsa.KEY_TYPE_PUBLIC))).toBe(true);
  expect(Rsa.verify(`${message} `, headers['Wechatpay-Signature'], Rsa.from(pair.publicPem, Rsa.KEY_TYPE_PUBLIC))).toBe(
    false,
  );
});

test('request messages and Authorization headers agree with its Formatter', () => {
  const method = 'POST';
  const url = '/v3/pay/transactions/jsapi';
  const ts = String(NOW);
  const nonce = 'A1B2C3D4E5F6G7H8';
  expect(buildRequestMessage(method, url, ts, nonce, body)).toBe(Formatter.request(method, url, ts, nonce, body));
  const ours = authorize(
    { mchid: '1230000109', serialNo: 'ABCDEF0123456789', signer: new RsaSha256Signer(pair.privateKey) },
    method,
    url,
    body,
    ts,
    nonce,
  );
  const signature = Rsa.sign(
    Formatter.request(method, url, ts, nonce, body),
    Rsa.from(pair.privatePem, Rsa.KEY_TYPE_PRIVATE),
  );
  const theirs = Formatter.authorization('1230000109', nonce, signature, ts, 'ABCDEF0123456789');
  expect(parseAuthorization(ours)).toEqual(parseAuthorization(theirs));
});

test('its AES-GCM decrypts our ciphertext, and ours decrypts its', () => {
  const key = '0123456789abcdef0123456789abcdef';
  for (const [plaintext, aad] of [
    ['{"trade_state":"SUCCESS"}', 'transaction'],
    ['', ''],
    ['退款成功', 'refund'],
  ] as const) {
    const nonce = 'uluk4a9R25RW';
    const ours = encryptAesGcm({ key, nonce, associatedData: aad, plaintext });
    expect(Aes.AesGcm.decrypt(ours, key, nonce, aad)).toBe(plaintext);
    const theirs = Aes.AesGcm.encrypt(plaintext, key, nonce, aad);
    expect(decryptAesGcm({ key, nonce, associatedData: aad, ciphertext: theirs })).toBe(plaintext);
  }
});

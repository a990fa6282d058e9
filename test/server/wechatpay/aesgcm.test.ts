import { X509Certificate } from 'node:crypto';
import {
  decryptAesGcm,
  encryptAesGcm,
  WechatPayDecryptError,
  type DecryptFailure,
} from '../../../cloudfunctions/common/wechatpay';
import { describeVectors, vector, vectorText } from '../../support/vectors';

function expectDecryptFailure(fn: () => unknown, reasons: DecryptFailure[]) {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WechatPayDecryptError);
  expect(reasons).toContain((caught as WechatPayDecryptError).reason);
}

describeVectors('AES-GCM: vectors', () => {
  test('v10: wechatpay-go, 16-byte key, and its negative cases', () => {
    const v = vector('v10_go_sdk_aes_gcm_128_key.json');
    const base = { key: v.key, nonce: v.nonce, associatedData: v.associated_data, ciphertext: v.ciphertext };
    expect(decryptAesGcm(base)).toBe(v.expected_plaintext);
    expectDecryptFailure(() => decryptAesGcm({ ...base, ciphertext: 'invalid cipher' }), ['BAD_INPUT']);
    expectDecryptFailure(
      () => decryptAesGcm({ ...base, ciphertext: 'SGVsbG8gV29ybGQK' }),
      ['BAD_INPUT', 'AUTHENTICATION_FAILED'],
    );
    expectDecryptFailure(() => decryptAesGcm({ ...base, key: 'not a aes key' }), ['BAD_KEY']);
    expectDecryptFailure(() => decryptAesGcm({ ...base, key: 'testAPIv3Key1111' }), ['AUTHENTICATION_FAILED']);
  });

  test('v11: wechatpay-java, real 32-byte APIv3 key: encrypt, decrypt and negatives', () => {
    const v = vector('v11_java_sdk_aes_256_gcm.json');
    const base = { key: v.key, nonce: v.nonce, associatedData: v.associated_data };
    expect(encryptAesGcm({ ...base, plaintext: v.plaintext })).toBe(v.expected_ciphertext);
    expect(decryptAesGcm({ ...base, ciphertext: v.expected_ciphertext })).toBe(v.plaintext);
    expectDecryptFailure(
      () => decryptAesGcm({ ...base, associatedData: 'bad-associatedData', ciphertext: v.expected_ciphertext }),
      ['AUTHENTICATION_FAILED'],
    );
    expectDecryptFailure(
      () => decryptAesGcm({ ...base, nonce: 'bad-4a9R25RW', ciphertext: v.expected_ciphertext }),
      ['AUTHENTICATION_FAILED'],
    );
    expectDecryptFailure(
      () => decryptAesGcm({ ...base, ciphertext: Buffer.alloc(128).toString('base64') }),
      ['AUTHENTICATION_FAILED'],
    );
  });

  test('v12: /v3/certificates encrypt_certificate decrypts to the stated certificate', () => {
    const v = vector('v12_java_sdk_certificate_download_decrypt.json');
    const pem = decryptAesGcm({
      key: v.key,
      nonce: v.nonce,
      associatedData: v.associated_data,
      ciphertext: v.ciphertext,
    });
    expect(pem.trim()).toBe(vectorText(v.expected_plaintext_file).trim());
    expect(new X509Certificate(pem).serialNumber.toUpperCase()).toBe(v.expected_certificate_serial);
    expectDecryptFailure(
      () => decryptAesGcm({ key: v.key, nonce: v.nonce, associatedData: 'certificat', ciphertext: v.ciphertext }),
      ['AUTHENTICATION_FAILED'],
    );
  });

  test('v13: wechatpay-axios-plugin, 16-byte IV', () => {
    const v = vector('v13_axios_plugin_aes_gcm_16byte_iv.json');
    for (const c of v.cases) {
      expect(
        encryptAesGcm({ key: v.key, nonce: v.iv, associatedData: c.associated_data, plaintext: c.plaintext }),
      ).toBe(c.expected_ciphertext);
      expect(
        decryptAesGcm({
          key: v.key,
          nonce: v.iv,
          associatedData: c.associated_data,
          ciphertext: c.expected_ciphertext,
        }),
      ).toBe(c.plaintext);
    }
  });
});

describe('AES-GCM: tampering', () => {
  const key = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
  const nonce = 'uluk4a9R25RW';
  const ciphertext = encryptAesGcm({
    key,
    nonce,
    associatedData: 'transaction',
    plaintext: '{"trade_state":"SUCCESS","amount":{"total":100}}',
  });
  const bytes = Buffer.from(ciphertext, 'base64');

  test('a flipped ciphertext byte fails the tag', () => {
    const tampered = Buffer.from(bytes);
    tampered[3] = tampered[3]! ^ 0x01;
    expectDecryptFailure(
      () => decryptAesGcm({ key, nonce, associatedData: 'transaction', ciphertext: tampered.toString('base64') }),
      ['AUTHENTICATION_FAILED'],
    );
  });
  test('a flipped tag byte fails', () => {
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x80;
    expectDecryptFailure(
      () => decryptAesGcm({ key, nonce, associatedData: 'transaction', ciphertext: tampered.toString('base64') }),
      ['AUTHENTICATION_FAILED'],
    );
  });
  test('a truncated tag fails', () => {
    expectDecryptFailure(
      () =>
        decryptAesGcm({
          key,
          nonce,
          associatedData: 'transaction',
          ciphertext: bytes.subarray(0, bytes.length - 4).toString('base64'),
        }),
      ['AUTHENTICATION_FAILED'],
    );
  });
  test('a wrong APIv3 key fails', () => {
    expectDecryptFailure(
      () =>
        decryptAesGcm({ key: 'b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', nonce, associatedData: 'transaction', ciphertext }),
      ['AUTHENTICATION_FAILED'],
    );
  });
  test('an empty nonce is refused', () => {
    expectDecryptFailure(
      () => decryptAesGcm({ key, nonce: '', associatedData: 'transaction', ciphertext }),
      ['BAD_INPUT'],
    );
  });
});

/**
 * Sensitive-field encryption (RSAES-OAEP, SHA-1, MGF1-SHA-1): interop both ways with three implementations nobody here
 * wrote (wechatpay-axios-plugin, wechatpay-node-v3, node-forge's own pure-JS OAEP), the fixed ciphertexts published by
 * wechatpay-java's tests, the published test keys of ../shared/wechatpay-vectors, refusals, and key selection.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import forge from 'node-forge';
import { Rsa } from 'wechatpay-axios-plugin';
import WxPay from 'wechatpay-node-v3';
import {
  decryptSensitive,
  encryptSensitive,
  loadPlatformKeys,
  maxSensitiveBytes,
  selectSensitiveKey,
  WechatPaySensitiveError,
  type SensitiveFailure,
} from '../../../cloudfunctions/common/wechatpay';
import { testCertificate } from '../../support/certificates';
import { testKeyPair } from '../../support/keys';
import { describeVectors, vectorText } from '../../support/vectors';

const wechatpay = testKeyPair('sensitive-wechatpay');
const other = testKeyPair('sensitive-other');
const SAMPLES = ['6222021234567890123', '张三', 'Zhāng Sān 张三丰·买买提', ''];

function refused(run: () => unknown): SensitiveFailure | 'not refused' {
  try {
    run();
  } catch (error) {
    if (error instanceof WechatPaySensitiveError) return error.reason;
    throw error;
  }
  return 'not refused';
}

const forgeOaep = () => ({ md: forge.md.sha1.create(), mgf1: { md: forge.md.sha1.create() } });

function nodeV3(privatePem: string): WxPay {
  // serial_no given, so it does not parse publicKey as a certificate; publicKey is only required to be present
  return new WxPay({
    appid: 'wxd678efh567hg6787',
    mchid: '1230000109',
    serial_no: 'TEST',
    publicKey: Buffer.from('unused'),
    privateKey: Buffer.from(privatePem),
  });
}

describe('round trip and the scheme', () => {
  test('each sample comes back; the ciphertext is base64 of one 256-byte block and differs every time', () => {
    for (const plaintext of SAMPLES) {
      const a = encryptSensitive(plaintext, wechatpay.publicKey);
      const b = encryptSensitive(plaintext, wechatpay.publicKey);
      expect(Buffer.from(a, 'base64')).toHaveLength(256);
      expect(a).not.toBe(b);
      expect(decryptSensitive(a, wechatpay.privateKey)).toBe(plaintext);
      expect(decryptSensitive(b, wechatpay.privateKey)).toBe(plaintext);
    }
  });

  test('it is OAEP with SHA-1: raw node:crypto opens it with sha1 and not with sha256', () => {
    const ciphertext = Buffer.from(encryptSensitive('6222021234567890123', wechatpay.publicKey), 'base64');
    const open = (oaepHash: string) =>
      privateDecrypt(
        { key: wechatpay.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
        ciphertext,
      ).toString('utf8');
    expect(open('sha1')).toBe('6222021234567890123');
    expect(() => open('sha256')).toThrow();
  });
});

describe('interop with outside code', () => {
  test('wechatpay-axios-plugin Rsa.encrypt / Rsa.decrypt, both ways', () => {
    const theirPublic = Rsa.from(wechatpay.publicPem, Rsa.KEY_TYPE_PUBLIC);
    const theirPrivate = Rsa.from(wechatpay.privatePem, Rsa.KEY_TYPE_PRIVATE);
    for (const plaintext of SAMPLES) {
      expect(decryptSensitive(Rsa.encrypt(plaintext, theirPublic), wechatpay.privateKey)).toBe(plaintext);
      expect(Rsa.decrypt(encryptSensitive(plaintext, wechatpay.publicKey), theirPrivate)).toBe(plaintext);
    }
  });

  test('wechatpay-node-v3 Pay.publicEncrypt / Pay.privateDecrypt, both ways', () => {
    const pay = nodeV3(wechatpay.privatePem);
    for (const plaintext of SAMPLES) {
      expect(
        decryptSensitive(pay.publicEncrypt(plaintext, Buffer.from(wechatpay.publicPem)), wechatpay.privateKey),
      ).toBe(plaintext);
      expect(pay.privateDecrypt(encryptSensitive(plaintext, wechatpay.publicKey))).toBe(plaintext);
    }
  });

  test("node-forge's own OAEP (SHA-1, MGF1-SHA-1, not OpenSSL), both ways", () => {
    const publicKey = forge.pki.publicKeyFromPem(wechatpay.publicPem);
    const privateKey = forge.pki.privateKeyFromPem(wechatpay.privatePem);
    for (const plaintext of SAMPLES) {
      const theirs = forge.util.encode64(publicKey.encrypt(forge.util.encodeUtf8(plaintext), 'RSA-OAEP', forgeOaep()));
      expect(decryptSensitive(theirs, wechatpay.privateKey)).toBe(plaintext);
      const ours = forge.util.decode64(encryptSensitive(plaintext, wechatpay.publicKey));
      expect(forge.util.decodeUtf8(privateKey.decrypt(ours, 'RSA-OAEP', forgeOaep()))).toBe(plaintext);
    }
  });
});

describeVectors('published vectors and keys (../shared/wechatpay-vectors)', () => {
  const key = (file: string, type: 'public' | 'private'): KeyObject =>
    (type === 'public' ? createPublicKey : createPrivateKey)(vectorText(file));
  // wechatpay-java core/src/test/java/com/wechat/pay/java/core/cipher/RSAPrivacyDecryptorTest.java, with TestConfig's
  // MERCHANT_PRIVATE_KEY (resources/merchant_private_key.pem = java_sdk_merchant_private_key.pem)
  const JAVA_OAEP_CIPHERTEXT =
    'Qqsluo7R1IZyAqdkm/jBzwXDP5VndCwwFbRA+yILFTYciZzrRChQIQ7SKuI2k3YSR5auB3ZspdjR1WPB3PTCKe6BCFx3NnaPWhSwonYTmW8ZseXjkbcYSbKL5O/6dr6Zftg3t2A2FUd97acjM1fr2EIvIvRieQ3Hl8qVkDBY9520wm1rz' +
    'vePUnxQWN70RZiBcqr7O7Gb0gU3l7FkvoUFSbY44HgDJetmVow3yGIV3Tcd45o2MNQ+5F1qvjIjb3/6dkGKce4/kNTYraUMO6o6kfFXlfg+bFRIiz8hiUpbToWdu7g0R5Hq0/YIE5vw/5Ms4gbk2HIQIfOLkY8sEPjYHA==';
  // wechatpay-java RSAPkcs1v15DecryptorTest.java: the same plaintext under PKCS#1 v1.5, same key
  const JAVA_PKCS1_CIPHERTEXT =
    'ckMdMJormpuX4nBmmhiDJqFBqPsrFIi6uLQEY5s8+Dbr91q2kC29yfghp97zG/BCo6KBGp+Blh+lIPg4/WQuQiCxJ5ZkwWvxtVd1TO7UkZVpgrW9cxDGZP28Rn5pbSMqeGA4rKMROJDblb+KBSCu/Nkvejo3yxoFDasf8ehW7rrXR21eQq1SgbvO/uUR+c81I3fUr5gO+gKgV9aKn8kTgqIRTprZkUE5CE6hvk3ybqAP7gRXAJsMGpHeoxr2uuYDBOhCeXPpRG/6ypkLd52bYOWXFHdd68GWWhN3OGXpdPUwaaJafEW4vnYTMhkacyicxVH3AtWLcsOKJoylIxjFHQ==';

  test('wechatpay-java\'s fixed OAEP ciphertext decrypts to "plaintext"', () => {
    expect(decryptSensitive(JAVA_OAEP_CIPHERTEXT, key('java_sdk_merchant_private_key.pem', 'private'))).toBe(
      'plaintext',
    );
  });

  test("wechatpay-java's PKCS#1 v1.5 ciphertext of the same plaintext is refused", () => {
    expect(
      refused(() => decryptSensitive(JAVA_PKCS1_CIPHERTEXT, key('java_sdk_merchant_private_key.pem', 'private'))),
    ).toBe('DECRYPT_FAILED');
  });

  test("wechatpay-java's WeChat Pay key pair: its public key, its certificate's key, and the plugin, all open with its private key", () => {
    const privateKey = key('java_sdk_wechat_pay_private_key.pem', 'private');
    const publicKey = key('java_sdk_wechat_pay_public_key.pem', 'public');
    const certificateKey = new X509Certificate(vectorText('java_sdk_wechat_pay_certificate.pem')).publicKey;
    for (const plaintext of SAMPLES) {
      expect(decryptSensitive(encryptSensitive(plaintext, publicKey), privateKey)).toBe(plaintext);
      expect(decryptSensitive(encryptSensitive(plaintext, certificateKey), privateKey)).toBe(plaintext);
      expect(
        Rsa.decrypt(
          encryptSensitive(plaintext, publicKey),
          Rsa.from(vectorText('java_sdk_wechat_pay_private_key.pem'), Rsa.KEY_TYPE_PRIVATE),
        ),
      ).toBe(plaintext);
      expect(
        decryptSensitive(
          Rsa.encrypt(plaintext, Rsa.from(vectorText('java_sdk_wechat_pay_public_key.pem'), Rsa.KEY_TYPE_PUBLIC)),
          privateKey,
        ),
      ).toBe(plaintext);
    }
  });

  test("wechatpay-go's TestEncryptAndDecrypt pair (public key F5765756002FDD77, certificate D7CE59D1F522D701), with wechatpay-node-v3", () => {
    const privatePem = vectorText('go_sdk_test_key.pkcs8.pem');
    const pay = nodeV3(privatePem);
    const publicKey = key('go_sdk_test_pubkey_F5765756002FDD77.pem', 'public');
    const certificateKey = new X509Certificate(vectorText('go_sdk_test_platform_cert_D7CE59D1F522D701.pem')).publicKey;
    expect(pay.privateDecrypt(encryptSensitive('hello world', publicKey))).toBe('hello world');
    expect(pay.privateDecrypt(encryptSensitive('hello world', certificateKey))).toBe('hello world');
    const theirs = pay.publicEncrypt('hello world', Buffer.from(vectorText('go_sdk_test_pubkey_F5765756002FDD77.pem')));
    expect(decryptSensitive(theirs, createPrivateKey(privatePem))).toBe('hello world');
  });

  test('a real configuration: the PUB_KEY_ID_ key wins over certificates; without it, the later certificate (2022 over 2021)', () => {
    const pubKeyId = 'PUB_KEY_ID_0000000000000024101100397200000006';
    const goCert = vectorText('go_sdk_test_platform_cert_D7CE59D1F522D701.pem');
    const javaCert = vectorText('java_sdk_wechat_pay_certificate.pem');
    const withPublicKey = loadPlatformKeys([
      { pem: goCert },
      { id: pubKeyId, pem: vectorText(`official_wechatpay_pubkey_${pubKeyId}.pem`) },
      { pem: javaCert },
    ]);
    expect(selectSensitiveKey(withPublicKey).serial).toBe(pubKeyId);
    const certificates = [goCert, javaCert].map((pem) => new X509Certificate(pem));
    const certificatesOnly = loadPlatformKeys([{ pem: goCert + javaCert }]);
    for (const order of [certificates, [...certificates].reverse()]) {
      const chosen = selectSensitiveKey(certificatesOnly, order);
      expect(chosen.serial).toBe('440024045C4A427599D09BB4E3DE0279F2E813FD');
      expect(
        decryptSensitive(encryptSensitive('x', chosen.key), key('java_sdk_wechat_pay_private_key.pem', 'private')),
      ).toBe('x');
    }
  });
});

describe('refusals', () => {
  const ciphertext = () => encryptSensitive('6222021234567890123', wechatpay.publicKey);

  test('the wrong private key', () => {
    expect(refused(() => decryptSensitive(ciphertext(), other.privateKey))).toBe('DECRYPT_FAILED');
  });

  test('a tampered ciphertext, whichever byte is changed', () => {
    const bytes = Buffer.from(ciphertext(), 'base64');
    for (const at of [0, 1, 100, 255]) {
      const tampered = Buffer.from(bytes);
      tampered[at]! ^= 0x01;
      expect(refused(() => decryptSensitive(tampered.toString('base64'), wechatpay.privateKey))).toBe('DECRYPT_FAILED');
    }
  });

  test('a PKCS#1 v1.5 ciphertext made with the right key', () => {
    const v15 = publicEncrypt(
      { key: wechatpay.publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from('6222021234567890123'),
    ).toString('base64');
    expect(refused(() => decryptSensitive(v15, wechatpay.privateKey))).toBe('DECRYPT_FAILED');
  });

  test('input that is not base64 of one block: junk, truncated, padded, empty', () => {
    const good = ciphertext();
    for (const bad of ['not base64!', good.slice(0, -4), `${good}AAAA`, '', ` ${good}`]) {
      expect(refused(() => decryptSensitive(bad, wechatpay.privateKey))).toBe('BAD_INPUT');
    }
  });

  test('plaintext too long for the key: 214 bytes fit RSA-2048, 215 do not, counted in UTF-8 bytes; the error does not echo it', () => {
    expect(maxSensitiveBytes(wechatpay.publicKey)).toBe(214);
    expect(decryptSensitive(encryptSensitive('9'.repeat(214), wechatpay.publicKey), wechatpay.privateKey)).toBe(
      '9'.repeat(214),
    );
    expect(refused(() => encryptSensitive('9'.repeat(215), wechatpay.publicKey))).toBe('PLAINTEXT_TOO_LONG');
    expect(() => encryptSensitive('张'.repeat(71), wechatpay.publicKey)).not.toThrow(); // 213 bytes
    expect(refused(() => encryptSensitive('张'.repeat(72), wechatpay.publicKey))).toBe('PLAINTEXT_TOO_LONG'); // 216 bytes
    const error = (() => {
      try {
        encryptSensitive('SECRET'.repeat(40), wechatpay.publicKey);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).not.toContain('SECRET');
  });

  test('the limit follows the key size (RSA-1024: 86 bytes)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(maxSensitiveBytes(publicKey)).toBe(86);
    expect(decryptSensitive(encryptSensitive('1'.repeat(86), publicKey), privateKey)).toBe('1'.repeat(86));
    expect(refused(() => encryptSensitive('1'.repeat(87), publicKey))).toBe('PLAINTEXT_TOO_LONG');
  });

  test('a lone surrogate is refused rather than silently replaced', () => {
    expect(refused(() => encryptSensitive('张\uD800三', wechatpay.publicKey))).toBe('BAD_INPUT');
    expect(refused(() => encryptSensitive('\uDC00', wechatpay.publicKey))).toBe('BAD_INPUT');
    expect(decryptSensitive(encryptSensitive('😀', wechatpay.publicKey), wechatpay.privateKey)).toBe('😀');
  });

  test('a decrypted plaintext that is not UTF-8', () => {
    const raw = publicEncrypt(
      { key: wechatpay.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from([0xff, 0xfe]),
    ).toString('base64');
    expect(refused(() => decryptSensitive(raw, wechatpay.privateKey))).toBe('BAD_INPUT');
  });

  test('keys of the wrong kind', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(refused(() => encryptSensitive('x', wechatpay.privateKey))).toBe('BAD_KEY');
    expect(refused(() => encryptSensitive('x', ec.publicKey))).toBe('BAD_KEY');
    expect(refused(() => decryptSensitive(ciphertext(), wechatpay.publicKey))).toBe('BAD_KEY');
    expect(refused(() => decryptSensitive(ciphertext(), ec.privateKey))).toBe('BAD_KEY');
  });
});

describe('selectSensitiveKey', () => {
  const older = testKeyPair('sensitive-cert-2021');
  const newer = testKeyPair('sensitive-cert-2024');
  const OLD = '4A0000000000000000000000000000000000000A';
  const NEW = '4B0000000000000000000000000000000000000B';
  const oldCert = testCertificate(older, OLD, new Date('2021-03-01T00:00:00Z'));
  const newCert = testCertificate(newer, NEW, new Date('2024-03-01T00:00:00Z'));

  test('the WeChat Pay public key is preferred, with its id as the serial', () => {
    const keys = loadPlatformKeys([
      { pem: oldCert.pem },
      { id: 'PUB_KEY_ID_0114232134912410000000000000', pem: wechatpay.publicPem },
      { pem: newCert.pem },
    ]);
    const chosen = selectSensitiveKey(keys, [oldCert.x509, newCert.x509]);
    expect(chosen.serial).toBe('PUB_KEY_ID_0114232134912410000000000000');
    expect(decryptSensitive(encryptSensitive('x', chosen.key), wechatpay.privateKey)).toBe('x');
  });

  test('one certificate and no public key: that certificate', () => {
    const chosen = selectSensitiveKey(loadPlatformKeys([{ pem: oldCert.pem }]));
    expect(chosen.serial).toBe(OLD);
    expect(decryptSensitive(encryptSensitive('x', chosen.key), older.privateKey)).toBe('x');
  });

  test('several certificates: the one that became valid last, in any order', () => {
    const keys = loadPlatformKeys([{ pem: newCert.pem + oldCert.pem }]);
    for (const certificates of [
      [oldCert.x509, newCert.x509],
      [newCert.x509, oldCert.x509],
    ]) {
      const chosen = selectSensitiveKey(keys, certificates);
      expect(chosen.serial).toBe(NEW);
      expect(decryptSensitive(encryptSensitive('x', chosen.key), newer.privateKey)).toBe('x');
    }
  });

  test('several certificates and nothing to date them by, two public keys, or nothing at all: refused, not guessed', () => {
    expect(refused(() => selectSensitiveKey(loadPlatformKeys([{ pem: newCert.pem + oldCert.pem }])))).toBe(
      'AMBIGUOUS_KEY',
    );
    const twoPublicKeys = loadPlatformKeys([
      { id: 'PUB_KEY_ID_A', pem: wechatpay.publicPem },
      { id: 'PUB_KEY_ID_B', pem: other.publicPem },
    ]);
    expect(refused(() => selectSensitiveKey(twoPublicKeys))).toBe('AMBIGUOUS_KEY');
    expect(refused(() => selectSensitiveKey(new Map()))).toBe('NO_KEY');
  });
});

/** Round trips on generated keys, and any single changed byte rejected (fast-check). */
import fc from 'fast-check';
import {
  decryptAesGcm,
  encryptAesGcm,
  loadPlatformKeys,
  RsaSha256Signer,
  SignatureVerifier,
  WechatPayDecryptError,
  WechatPayVerificationError,
} from '../../../cloudfunctions/common/wechatpay';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';

const NOW = 1_700_000_000;
const keys = [testKeyPair('prop-a'), testKeyPair('prop-b')];
const verifier = new SignatureVerifier({
  keys: loadPlatformKeys([
    { id: 'PUB_KEY_ID_A', pem: keys[0]!.publicPem },
    { id: 'PUB_KEY_ID_B', pem: keys[1]!.publicPem },
  ]),
  clock: () => NOW * 1000,
});
const signers = keys.map((k) => new RsaSha256Signer(k.privateKey));
const serials = ['PUB_KEY_ID_A', 'PUB_KEY_ID_B'];

const bodyArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.json({ maxDepth: 3 }));

test('sign then verify succeeds for any body, key and timestamp within the window', () => {
  fc.assert(
    fc.property(bodyArb, fc.integer({ min: 0, max: 1 }), fc.integer({ min: -300, max: 300 }), (body, k, skew) => {
      const headers = signResponse(signers[k]!, serials[k]!, body, NOW + skew);
      expect(verifier.verify(headers, Buffer.from(body, 'utf8')).serial).toBe(serials[k]);
    }),
    { numRuns: 150 },
  );
});

test('any single changed body byte is rejected', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 200 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (body, at, xor) => {
        const headers = signResponse(signers[0]!, serials[0]!, body, NOW);
        const bytes = Buffer.from(body, 'utf8');
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ xor;
        expect(() => verifier.verify(headers, bytes)).toThrow(WechatPayVerificationError);
      },
    ),
    { numRuns: 150 },
  );
});

test('any single changed signature byte is rejected', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 100 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, xor) => {
      const headers = signResponse(signers[1]!, serials[1]!, body, NOW);
      const sig = Buffer.from(headers['Wechatpay-Signature'], 'base64');
      const i = at % sig.length;
      sig[i] = sig[i]! ^ xor;
      expect(() => verifier.verify({ ...headers, 'Wechatpay-Signature': sig.toString('base64') }, body)).toThrow(
        WechatPayVerificationError,
      );
    }),
    { numRuns: 100 },
  );
});

test('signed with one key, claimed under the other serial: rejected', () => {
  fc.assert(
    fc.property(bodyArb, (body) => {
      const headers = signResponse(signers[0]!, serials[1]!, body, NOW);
      expect(() => verifier.verify(headers, body)).toThrow(WechatPayVerificationError);
    }),
    { numRuns: 50 },
  );
});

const aesKeyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));
const nonceArb = fc.stringMatching(/^[0-9A-Za-z]{12}$/);

test('encrypt then decrypt returns the plaintext', () => {
  fc.assert(
    fc.property(
      aesKeyArb,
      nonceArb,
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 500 }),
      (key, nonce, aad, plaintext) => {
        const ciphertext = encryptAesGcm({ key, nonce, associatedData: aad, plaintext });
        expect(decryptAesGcm({ key, nonce, associatedData: aad, ciphertext })).toBe(plaintext);
      },
    ),
    { numRuns: 200 },
  );
});

test('any single changed ciphertext or tag byte is rejected', () => {
  fc.assert(
    fc.property(
      aesKeyArb,
      nonceArb,
      fc.string({ maxLength: 200 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (key, nonce, plaintext, at, xor) => {
        const bytes = Buffer.from(encryptAesGcm({ key, nonce, associatedData: 'transaction', plaintext }), 'base64');
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ xor;
        expect(() =>
          decryptAesGcm({ key, nonce, associatedData: 'transaction', ciphertext: bytes.toString('base64') }),
        ).toThrow(WechatPayDecryptError);
      },
    ),
    { numRuns: 200 },
  );
});

test('any single changed key byte is rejected', () => {
  fc.assert(
    fc.property(
      aesKeyArb,
      nonceArb,
      fc.string({ maxLength: 100 }),
      fc.nat({ max: 31 }),
      fc.integer({ min: 1, max: 255 }),
      (key, nonce, plaintext, i, xor) => {
        const ciphertext = encryptAesGcm({ key, nonce, associatedData: '', plaintext });
        const wrong = Buffer.from(key);
        wrong[i] = wrong[i]! ^ xor;
        expect(() => decryptAesGcm({ key: wrong, nonce, associatedData: '', ciphertext })).toThrow(
          WechatPayDecryptError,
        );
      },
    ),
    { numRuns: 100 },
  );
});

import { createPublicKey } from 'node:crypto';
import {
  loadPlatformKeys,
  RsaSha256Signer,
  SignatureVerifier,
  verifySha256Rsa,
  WechatPayVerificationError,
  type VerificationFailure,
} from '../../../cloudfunctions/common/wechatpay';
import { signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';
import { describeVectors, vector, vectorText } from '../../support/vectors';

function expectFailure(fn: () => unknown, reason: VerificationFailure) {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WechatPayVerificationError);
  expect((caught as WechatPayVerificationError).reason).toBe(reason);
}

describeVectors('verification: official vectors', () => {
  test('v07: response in public-key mode, clock pinned', () => {
    const v = vector('v07_official_response_verify_pubkey_mode.json');
    const keys = loadPlatformKeys([{ id: v.headers['Wechatpay-Serial'], pem: vectorText(v.public_key_file) }]);
    const verifier = new SignatureVerifier({ keys, clock: () => Number(v.headers['Wechatpay-Timestamp']) * 1000 });
    expect(verifier.verify(v.headers, v.body)).toMatchObject({
      serial: v.headers['Wechatpay-Serial'],
      requestId: v.headers['Request-ID'],
    });
    // Gateways lower-case header names.
    const lower = Object.fromEntries(
      Object.entries(v.headers as Record<string, string>).map(([k, val]) => [k.toLowerCase(), val]),
    );
    expect(() => verifier.verify(lower, Buffer.from(v.body))).not.toThrow();
    // Without a pinned clock the 2024 timestamp is stale.
    expectFailure(() => new SignatureVerifier({ keys }).verify(v.headers, v.body), 'STALE_TIMESTAMP');
    // Re-serialised body (what most SDK bugs do): rejected.
    expectFailure(() => verifier.verify(v.headers, JSON.stringify(JSON.parse(v.body), null, 1)), 'BAD_SIGNATURE');
  });

  test('v08: public-key verifier and its negative cases', () => {
    const v = vector('v08_go_sdk_sha256withrsa_source.json');
    const keys = loadPlatformKeys([{ id: v.public_key_id, pem: vectorText(v.public_key_file) }]);
    const key = keys.get(v.public_key_id)!;
    expect(verifySha256Rsa(v.message, v.expected_signature, key)).toBe(true);
    for (const negative of v.negative_cases) {
      if ('serial' in negative) {
        expect(keys.get(negative.serial)).toBeUndefined();
      } else {
        expect(verifySha256Rsa(negative.message ?? v.message, negative.signature ?? v.expected_signature, key)).toBe(
          negative.expected_valid,
        );
      }
    }
  });

  test('v09: the whole notification signature with the platform certificate (hex serial)', () => {
    const v = vector('v09_go_sdk_full_notification.json');
    const keys = loadPlatformKeys([{ pem: vectorText(v.platform_cert_file) }]);
    expect([...keys.keys()]).toEqual(['D7CE59D1F522D701']);
    const verifier = new SignatureVerifier({ keys, clock: () => v.now_unix * 1000 });
    expect(verifier.verify(v.headers, Buffer.from(v.body, 'utf8')).serial).toBe('D7CE59D1F522D701');
    expectFailure(
      () => verifier.verify({ ...v.headers, 'Wechatpay-Serial': 'd7ce59d1f522d701x' }, v.body),
      'UNKNOWN_SERIAL',
    );
  });
});

describe('verification: negative cases on generated keys', () => {
  const platform = testKeyPair('platform');
  const other = testKeyPair('other');
  const legacyCertKey = testKeyPair('legacy');
  const NOW = 1_700_000_000;
  const keys = loadPlatformKeys([
    { id: 'PUB_KEY_ID_0114232134912410000000000000', pem: platform.publicPem },
    { id: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', pem: legacyCertKey.publicPem },
  ]);
  const verifier = new SignatureVerifier({ keys, clock: () => NOW * 1000 });
  const body = '{"id":"EV-2018022511223320873","create_time":"2015-05-20T13:29:35+08:00","summary":"支付成功"}';
  const signed = (
    overrides: Partial<Record<string, string>> = {},
    signer = new RsaSha256Signer(platform.privateKey),
    serial = 'PUB_KEY_ID_0114232134912410000000000000',
    ts = NOW,
  ) => ({ ...signResponse(signer, serial, body, ts), ...overrides }) as Record<string, string>;

  test('a genuine body verifies, with either key of the map (migration)', () => {
    expect(verifier.verify(signed(), body).timestamp).toBe(NOW);
    expect(
      verifier.verify(
        signed({}, new RsaSha256Signer(legacyCertKey.privateKey), '5157F09EFDC096DE15EBE81A47057A7232F1B8E1'),
        body,
      ).serial,
    ).toBe('5157F09EFDC096DE15EBE81A47057A7232F1B8E1');
  });

  test('tampered body', () =>
    expectFailure(() => verifier.verify(signed(), body.replace('支付成功', '支付失败')), 'BAD_SIGNATURE'));
  test('re-serialised body', () =>
    expectFailure(() => verifier.verify(signed(), JSON.stringify(JSON.parse(body), null, 2)), 'BAD_SIGNATURE'));
  test('trailing whitespace added to the body', () =>
    expectFailure(() => verifier.verify(signed(), `${body}\n`), 'BAD_SIGNATURE'));
  test('signed with the wrong key', () =>
    expectFailure(() => verifier.verify(signed({}, new RsaSha256Signer(other.privateKey)), body), 'BAD_SIGNATURE'));
  test('signed with the other known key but claiming this serial', () =>
    expectFailure(
      () => verifier.verify(signed({}, new RsaSha256Signer(legacyCertKey.privateKey)), body),
      'BAD_SIGNATURE',
    ));
  test('unknown serial', () =>
    expectFailure(() => verifier.verify(signed({ 'Wechatpay-Serial': 'PUB_KEY_ID_UNKNOWN' }), body), 'UNKNOWN_SERIAL'));
  test('stale timestamp (301 s old)', () =>
    expectFailure(() => verifier.verify(signed({}, undefined, undefined, NOW - 301), body), 'STALE_TIMESTAMP'));
  test('future timestamp (301 s ahead)', () =>
    expectFailure(() => verifier.verify(signed({}, undefined, undefined, NOW + 301), body), 'STALE_TIMESTAMP'));
  test('300 s either way is still fresh', () => {
    expect(() => verifier.verify(signed({}, undefined, undefined, NOW - 300), body)).not.toThrow();
    expect(() => verifier.verify(signed({}, undefined, undefined, NOW + 300), body)).not.toThrow();
  });
  test('SIGNTEST probe rejected cleanly, before base64', () => {
    expectFailure(
      () => verifier.verify(signed({ 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/abc+/==' }), body),
      'SIGNTEST_PROBE',
    );
    expectFailure(
      () => verifier.verify(signed({ 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/%%%not base64' }), body),
      'SIGNTEST_PROBE',
    );
  });
  test.each([
    ['Wechatpay-Signature', 'MISSING_HEADER'],
    ['Wechatpay-Serial', 'MISSING_HEADER'],
    ['Wechatpay-Timestamp', 'MISSING_HEADER'],
    ['Wechatpay-Nonce', 'MISSING_HEADER'],
  ] as const)('missing %s', (header, reason) => {
    const headers = signed();
    delete headers[header];
    expectFailure(() => verifier.verify(headers, body), reason);
  });
  test.each([
    [{ 'Wechatpay-Timestamp': '17e8' }, 'MALFORMED_HEADER'],
    [{ 'Wechatpay-Timestamp': '-1700000000' }, 'MALFORMED_HEADER'],
    [{ 'Wechatpay-Signature': 'not base64!' }, 'MALFORMED_HEADER'],
    [{ 'Wechatpay-Signature': 'QUJD' }, 'BAD_SIGNATURE'],
    [{ 'Wechatpay-Signature-Type': 'WECHATPAY2-SM2-WITH-SM3' }, 'MALFORMED_HEADER'],
  ] as const)('malformed header %o', (overrides, reason) =>
    expectFailure(() => verifier.verify(signed(overrides), body), reason),
  );

  test('a 204 answer verifies over an empty body', () => {
    expect(() =>
      verifier.verify(
        signResponse(new RsaSha256Signer(platform.privateKey), 'PUB_KEY_ID_0114232134912410000000000000', '', NOW),
        '',
      ),
    ).not.toThrow();
  });

  test('a public key without id is refused when building the map', () => {
    expect(() =>
      loadPlatformKeys([
        { pem: createPublicKey(platform.publicKey).export({ type: 'spki', format: 'pem' }).toString() },
      ]),
    ).toThrow(/id/);
  });
});

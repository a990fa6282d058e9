import { rawRequestOf } from '../../../cloudfunctions/common/http';
import {
  decryptAesGcm,
  loadPlatformKeys,
  NotificationParser,
  parseEnvelope,
  RsaSha256Signer,
  SignatureVerifier,
  WechatPayDecryptError,
  WechatPayNotificationError,
  WechatPayVerificationError,
} from '../../../cloudfunctions/common/wechatpay';
import { encryptNotification, signResponse } from '../../../localcloud/wechatpay-sim/signing';
import { testKeyPair } from '../../support/keys';
import { describeVectors, vector, vectorText } from '../../support/vectors';

describeVectors('notification: vector v09 (wechatpay-go)', () => {
  test('verifies from the raw body and decrypts the resource', () => {
    const v = vector('v09_go_sdk_full_notification.json');
    const verifier = new SignatureVerifier({
      keys: loadPlatformKeys([{ pem: vectorText(v.platform_cert_file) }]),
      clock: () => v.now_unix * 1000,
    });
    const parser = new NotificationParser({ verifier, apiV3Key: v.apiv3_key });
    // The event is a PAYSCORE one this product does not type: verified and decrypted, handed back as 'other'.
    expect(parser.parse({ headers: v.headers, body: Buffer.from(v.body) }).kind).toBe('other');
    const envelope = parseEnvelope(v.body);
    expect(
      decryptAesGcm({
        key: v.apiv3_key,
        nonce: envelope.resource.nonce,
        associatedData: envelope.resource.associated_data,
        ciphertext: envelope.resource.ciphertext,
      }),
    ).toBe(v.expected_plaintext);
    // Lower-cased headers from an HTTP access event with a base64 body.
    const event = {
      headers: Object.fromEntries(
        Object.entries(v.headers as Record<string, string>).map(([k, val]) => [k.toLowerCase(), val]),
      ),
      body: Buffer.from(v.body).toString('base64'),
      isBase64Encoded: true,
    };
    // verified and decrypted, but of an event type the module does not type: handed back as 'other'
    const parsed = parser.parse(rawRequestOf(event));
    expect(parsed.kind).toBe('other');
    expect(parsed.eventType).toMatch(/^PAYSCORE/);
    expect(parsed.resource).toEqual(JSON.parse(v.expected_plaintext));
  });
});

describe('notification parsing', () => {
  const platform = testKeyPair('platform');
  const signer = new RsaSha256Signer(platform.privateKey);
  const serial = 'PUB_KEY_ID_0114232134912410000000000000';
  const apiV3Key = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
  const NOW = 1_700_000_000;
  const verifier = new SignatureVerifier({
    keys: loadPlatformKeys([{ id: serial, pem: platform.publicPem }]),
    clock: () => NOW * 1000,
  });
  const parser = new NotificationParser({ verifier, apiV3Key });
  const transaction = {
    appid: 'wxd678efh567hg6787',
    mchid: '1230000109',
    out_trade_no: 'T2023110100000001',
    transaction_id: '4200000000000000000000000001',
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    success_time: '2023-11-01T10:00:00+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
  const body = JSON.stringify(
    encryptNotification({
      apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource: transaction,
      createTime: '2023-11-01T10:00:01+08:00',
    }),
  );
  const headers = signResponse(signer, serial, body, NOW);

  test('a payment notification from raw bytes', () => {
    const parsed = parser.parse({ headers, body: Buffer.from(body) });
    expect(parsed.kind).toBe('transaction');
    expect(parsed.resource).toEqual(transaction);
  });

  test('Chinese text wherever WeChat Pay writes it arrives decoded: summary, trade_state_desc, attach, a coupon name', () => {
    const withCoupon = {
      ...transaction,
      attach: '订单 O1 的附言',
      promotion_detail: [{ coupon_id: '109519', name: '满减券', amount: 10 }],
    };
    const text = JSON.stringify(
      encryptNotification({
        apiV3Key,
        eventType: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: 'transaction',
        resource: withCoupon,
        createTime: 'x',
      }),
    );
    const parsed = parser.parse({ headers: signResponse(signer, serial, text, NOW), body: Buffer.from(text) });
    expect(parsed.envelope.summary).toBe('支付成功');
    expect(parsed.resource).toEqual(withCoupon);
  });

  test('from an HTTP access event, plain or base64, lower-case headers', () => {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(parser.parse(rawRequestOf({ headers: lower, body, isBase64Encoded: false })).resource).toEqual(transaction);
    expect(
      parser.parse(rawRequestOf({ headers: lower, body: Buffer.from(body).toString('base64'), isBase64Encoded: true }))
        .resource,
    ).toEqual(transaction);
  });

  test('a refund notification carries refund_status', () => {
    const refund = {
      mchid: '1230000109',
      out_trade_no: 'T2023110100000001',
      transaction_id: '4200000000000000000000000001',
      out_refund_no: 'R2023110100000001',
      refund_id: '50000000000000000000000000001',
      refund_status: 'SUCCESS',
      success_time: '2023-11-01T11:00:00+08:00',
      user_received_account: '支付用户零钱',
      amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40 },
    };
    const refundBody = JSON.stringify(
      encryptNotification({
        apiV3Key,
        eventType: 'REFUND.SUCCESS',
        summary: '退款成功',
        originalType: 'refund',
        resource: refund,
        createTime: 'x',
      }),
    );
    const parsed = parser.parse({
      headers: signResponse(signer, serial, refundBody, NOW),
      body: Buffer.from(refundBody),
    });
    expect(parsed).toMatchObject({ kind: 'refund', eventType: 'REFUND.SUCCESS', resource: refund });
  });

  test('nothing is parsed before the signature is checked', () => {
    expect(() => parser.parse({ headers, body: Buffer.from('not json at all') })).toThrow(WechatPayVerificationError);
  });

  test('tampered ciphertext, re-signed by an attacker without the key: signature fails first', () => {
    const envelope = JSON.parse(body);
    envelope.resource.ciphertext = Buffer.from(
      Buffer.from(envelope.resource.ciphertext, 'base64').map((b: number, i: number) => (i === 5 ? b ^ 1 : b)),
    ).toString('base64');
    expect(() => parser.parse({ headers, body: Buffer.from(JSON.stringify(envelope)) })).toThrow(
      WechatPayVerificationError,
    );
  });

  test('a correctly signed envelope whose ciphertext fails the tag (wrong APIv3 key)', () => {
    const wrongKey = new NotificationParser({ verifier, apiV3Key: 'b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb' });
    expect(() => wrongKey.parse({ headers, body: Buffer.from(body) })).toThrow(WechatPayDecryptError);
  });

  test('signed but malformed content is a typed notification error', () => {
    const cases = [
      '[]',
      '{"id":"x"}',
      JSON.stringify({
        id: 'x',
        event_type: 'TRANSACTION.SUCCESS',
        resource: { algorithm: 'AEAD_AES_128_CBC', ciphertext: 'QUJD', nonce: 'n' },
      }),
      JSON.stringify(
        encryptNotification({
          apiV3Key,
          eventType: 'TRANSACTION.SUCCESS',
          summary: '',
          originalType: 'transaction',
          resource: { ...transaction, amount: { total: '100' } },
          createTime: 'x',
        }),
      ),
      JSON.stringify(
        encryptNotification({
          apiV3Key,
          eventType: 'TRANSACTION.SUCCESS',
          summary: '',
          originalType: 'transaction',
          resource: { ...transaction, trade_state: 'PAID' },
          createTime: 'x',
        }),
      ),
    ];
    for (const text of cases) {
      expect(() => parser.parse({ headers: signResponse(signer, serial, text, NOW), body: Buffer.from(text) })).toThrow(
        WechatPayNotificationError,
      );
    }
  });
});

/**
 * Notification crypto: verify + decrypt of one real-sized payment notification per operation, for
 *   (a) this project's protocol module (NotificationParser.parse: verify, envelope, decrypt, typed resource),
 *   (b) the raw limit: node:crypto RSA-SHA256 verify + AES-256-GCM decrypt and nothing else,
 *   (c) wechatpay-node-v3 (verifySign + decipher_gcm, as its README shows),
 *   (d) wechatpay-axios-plugin's building blocks (Formatter, Rsa.verify, Aes.AesGcm.decrypt), with the platform key
 *       given as PEM text (as its README configures it) and as a parsed key object,
 *   (e) a bound, not a parser: (a)'s verify and decrypt units plus JSON.parse of both documents and nothing else.
 */
import { createDecipheriv, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  decryptAesGcm,
  decryptAesGcmBytes,
  loadPlatformKeys,
  NotificationParser,
  rfc3339,
  RsaSha256Signer,
  SignatureVerifier,
} from '../../cloudfunctions/common/wechatpay';
import { encryptNotification, signResponse } from '../../localcloud/wechatpay-sim/signing';
import { compareOpsPerSecond, showSpread, spread, table, type Spread } from './stats';

export async function benchCrypto(
  log: (s: string) => void,
): Promise<Record<string, { opsPerSecond: Spread; ratio: Spread }>> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const serial = 'PUB_KEY_ID_0114232134912410000000000000';
  const apiV3Key = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
  const now = Date.now();
  const resource = {
    mchid: '1230000109',
    appid: 'wxd678efh567hg6787',
    out_trade_no: 'O7F3A9C2B1D4E5F60718P1',
    transaction_id: '4200001234202611230000000001',
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: 'O7F3A9C2B1D4E5F60718',
    success_time: rfc3339(now),
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 5180, payer_total: 5180, currency: 'CNY', payer_currency: 'CNY' },
    promotion_detail: [],
  };
  const body = JSON.stringify(
    encryptNotification({
      apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource,
      createTime: rfc3339(now),
    }),
  );
  const headers = signResponse(new RsaSha256Signer(privateKey), serial, body, Math.floor(now / 1000));
  const bodyBytes = Buffer.from(body);
  const envelope = JSON.parse(body) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
  const { ciphertext, nonce, associated_data: aad } = envelope.resource;
  const ts = headers['Wechatpay-Timestamp'];
  const wnonce = headers['Wechatpay-Nonce'];
  const signature = headers['Wechatpay-Signature'];

  // (a)
  const parser = new NotificationParser({
    verifier: new SignatureVerifier({ keys: loadPlatformKeys([{ id: serial, pem: publicPem }]) }),
    apiV3Key,
  });
  const ours = () => parser.parse({ headers, body: bodyBytes });
  const verifier = new SignatureVerifier({ keys: loadPlatformKeys([{ id: serial, pem: publicPem }]) });
  const apiV3KeyBytes = Buffer.from(apiV3Key);
  const oursUnits = () => {
    verifier.verify(headers, bodyBytes);
    return decryptAesGcm({ key: apiV3KeyBytes, nonce, associatedData: aad, ciphertext });
  };
  // (e) what any parse built on JSON.parse costs at least: (a') plus JSON.parse of both documents, decoded as Latin-1
  // (the cheapest decoding there is; wrong for the Chinese text, so a bound, not a parser) and checked for nothing
  const floor = () => {
    verifier.verify(headers, bodyBytes);
    const parsed = JSON.parse(bodyBytes.toString('latin1')) as typeof envelope;
    const r = parsed.resource;
    return JSON.parse(
      decryptAesGcmBytes({
        key: apiV3KeyBytes,
        nonce: r.nonce,
        associatedData: r.associated_data,
        ciphertext: r.ciphertext,
      }).toString('latin1'),
    ) as unknown;
  };
  // (b)
  const key = createPublicKey(publicPem);
  const aesKey = Buffer.from(apiV3Key);
  const raw = () => {
    const message = Buffer.concat([Buffer.from(`${ts}\n${wnonce}\n`), bodyBytes, Buffer.from('\n')]);
    if (!verify('sha256', message, key, Buffer.from(signature, 'base64'))) throw new Error('bad signature');
    const data = Buffer.from(ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(nonce));
    decipher.setAuthTag(data.subarray(data.length - 16));
    decipher.setAAD(Buffer.from(aad));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString();
  };
  // (c)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const WxPay = require('wechatpay-node-v3') as {
    new (o: Record<string, unknown>): {
      verifySign(p: Record<string, unknown>): Promise<boolean>;
      decipher_gcm(c: string, a: string, n: string, k: string): unknown;
    };
    certificates: Record<string, string>;
  };
  const { privateKey: merchantKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const nodeV3 = new WxPay({
    appid: resource.appid,
    mchid: resource.mchid,
    serial_no: 'ABCDEF',
    publicKey: Buffer.from(publicPem),
    privateKey: Buffer.from(merchantKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    key: apiV3Key,
  });
  WxPay.certificates[serial] = publicPem;
  const v3 = async () => {
    if (!(await nodeV3.verifySign({ timestamp: ts, nonce: wnonce, body, serial, signature })))
      throw new Error('bad signature');
    return nodeV3.decipher_gcm(ciphertext, aad, nonce, apiV3Key);
  };
  // (d)
  const pluginWith = (platformKey: unknown) => () => {
    if (!Rsa.verify(Formatter.response(ts, wnonce, body), signature, platformKey as string))
      throw new Error('bad signature');
    return Aes.AesGcm.decrypt(ciphertext, apiV3Key, nonce, aad);
  };
  const pluginKeyObject = Rsa.from(publicPem, Rsa.KEY_TYPE_PUBLIC);

  const candidates: [string, () => unknown][] = [
    ['(a) this project: NotificationParser.parse', ours],
    ["(a') this project's units: verify + decrypt only", oursUnits],
    ["(e) (a') + JSON.parse of both, no check: a bound", floor],
    ['(b) raw node:crypto verify + decrypt', raw],
    ['(c) wechatpay-node-v3 (no GCM tag check)', v3],
    ['(d) wechatpay-axios-plugin, key as PEM', pluginWith(publicPem)],
    ["(d') wechatpay-axios-plugin, key object", pluginWith(pluginKeyObject)],
  ];
  for (const [, op] of candidates) await op(); // each must work once before it is timed
  const rounds = Number(process.env.BENCH_CRYPTO_ROUNDS ?? 9);
  const perRound = await compareOpsPerSecond(candidates, { rounds });
  const limit = perRound['(b) raw node:crypto verify + decrypt']!;
  const results: Record<string, { opsPerSecond: Spread; ratio: Spread }> = {};
  for (const [name, xs] of Object.entries(perRound)) {
    results[name] = { opsPerSecond: spread(xs), ratio: spread(xs.map((x, r) => x / limit[r]!)) };
  }
  log(
    `Notification crypto: verify + decrypt of one payment notification (1.0 KB body, RSA-2048), ${rounds} interleaved rounds in one process`,
  );
  log(
    '  each figure: median over the rounds (min–max); the ratio is taken within each round, against (b) measured beside it',
  );
  log(
    table(
      ['implementation', 'ops/s', 'ratio to (b)'],
      Object.entries(results).map(([n, r]) => [
        n,
        showSpread(r.opsPerSecond, (v) => String(Math.round(v))),
        showSpread(r.ratio, (v) => v.toFixed(3)),
      ]),
    ),
  );
  log(
    "  (a) also parses the envelope and the decrypted resource as JSON and checks their shape; (a') and (b) do neither.",
  );
  log(
    "  (e) is the least any parse built on JSON.parse can cost: (a') plus the two JSON.parse calls, on a Latin-1 decoding",
  );
  log('      (wrong for Chinese text, the cheapest there is) and with no check; (a) can come near it, not above it.');
  log('  (c) wechatpay-node-v3 decipher_gcm never calls decipher.final(): it does not check the GCM tag.');
  return results;
}

/** The notification endpoint under duplicates, races with confirm, forgeries and a wrong amount. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { OrderView, PayResponse } from '../../../typings/api';
import { storeMetrics } from '../../../cloudfunctions/common/store/store';
import { craftNotification, postNotification, transactionResource } from '../../support/notifications';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

interface RejectedEntry {
  body?: string;
  size: number;
  sha256: string;
  prefix: string;
  wechatpayHeaders: Record<string, string>;
}
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

async function prepaidOrder(user = 'alice') {
  const order = await t.confirm(user);
  const pay = await t.ok<PayResponse>('payment', { action: 'pay', orderId: order.id }, user);
  return { order, pay, outTradeNo: `${order.id}P1` };
}

const log = async (outTradeNo: string) =>
  (await t.cloud.engine.database().collection('notification_log').where({ outTradeNo }).limit(1000).get())
    .data as unknown as { verdict: string; body: string; headers: Record<string, string> }[];

test('50 identical notifications at once: one transition, 50 success answers, all logged', async () => {
  const { order, outTradeNo } = await prepaidOrder();
  const notice = craftNotification(
    t.cloud.keys,
    transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
  );
  const answers = await Promise.all(Array.from({ length: 50 }, () => postNotification(t.cloud.urls.notifyUrl, notice)));
  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(204));
  const paid = await t.order('alice', order.id);
  expect(paid.status).toBe('paid');
  expect(paid.timeline.filter((e) => e.event === 'paid')).toHaveLength(1);
  const verdicts = (await log(outTradeNo)).map((e) => e.verdict);
  expect(verdicts).toHaveLength(50);
  expect(verdicts.filter((v) => v === 'paid')).toHaveLength(1);
  expect(verdicts.every((v) => ['paid', 'duplicate', 'paid_repaired'].includes(v))).toBe(true);
});

test('round trips: 5 on a first delivery, 2 on a duplicate (counted in the store layer)', async () => {
  const { order, outTradeNo } = await prepaidOrder();
  const notice = craftNotification(
    t.cloud.keys,
    transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
  );
  const before = storeMetrics.roundTrips;
  expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
  const first = storeMetrics.roundTrips - before;
  expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
  const duplicate = storeMetrics.roundTrips - before - first;
  // first: payment read, transaction_id claim, order CAS, payment CAS, log append
  expect({ first, duplicate }).toEqual({ first: 5, duplicate: 2 });
});

test('a notification after a confirm query already settled the order changes nothing', async () => {
  t.cloud.pay.faults.add({ target: 'notify', kind: 'DROP', times: 1 });
  const { order, pay, outTradeNo } = await prepaidOrder();
  await t.cloud.pay.cashier('pay', pay.prepayId);
  const confirmed = await t.ok<OrderView>('payment', { action: 'confirm', orderId: order.id }, 'alice');
  expect(confirmed.status).toBe('paid');
  const [dropped] = await t.cloud.pay.notifier.list({ outTradeNo });
  await t.cloud.pay.notifier.replay(dropped!._id);
  const after = await t.order('alice', order.id);
  expect(after.timeline.filter((e) => e.event === 'paid')).toHaveLength(1);
  expect((await log(outTradeNo)).map((e) => e.verdict)).toEqual(['duplicate']);
});

test('a confirm after the notification settled the order changes nothing', async () => {
  const { order, pay } = await prepaidOrder();
  await t.cloud.pay.cashier('pay', pay.prepayId);
  await waitFor(
    () => t.order('alice', order.id),
    (o) => o.status === 'paid',
  );
  const confirmed = await t.ok<OrderView>('payment', { action: 'confirm', orderId: order.id }, 'alice');
  expect(confirmed.timeline.filter((e) => e.event === 'paid')).toHaveLength(1);
});

describe('rejected notifications change nothing and are logged', () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const cases: [string, number, string, (k: TestCloud['cloud']['keys']) => Parameters<typeof craftNotification>[2]][] =
    [
      ['forged (another key)', 401, 'rejected:BAD_SIGNATURE', () => ({ signerPem: other })],
      [
        'stale (10 minutes old)',
        401,
        'rejected:STALE_TIMESTAMP',
        () => ({ timestamp: Math.floor(Date.now() / 1000) - 600 }),
      ],
      ['from the future', 401, 'rejected:STALE_TIMESTAMP', () => ({ timestamp: Math.floor(Date.now() / 1000) + 600 })],
      [
        'wrong serial',
        401,
        'rejected:UNKNOWN_SERIAL',
        () => ({ serial: 'PUB_KEY_ID_0000000000000000000000000000000' }),
      ],
      ['SIGNTEST probe', 401, 'rejected:SIGNTEST_PROBE', () => ({ signature: 'WECHATPAY/SIGNTEST/AAAA' })],
      [
        'tampered after signing',
        401,
        'rejected:BAD_SIGNATURE',
        () => ({
          tamper: (b) => b.replace(/"ciphertext":"(.)/, (_m, c: string) => `"ciphertext":"${c === 'A' ? 'B' : 'A'}`),
        }),
      ],
      [
        'tampered ciphertext, re-signed',
        401,
        'rejected:DECRYPT_AUTHENTICATION_FAILED',
        () => ({
          mutateBeforeSigning: (b) =>
            b.replace(/"ciphertext":"(.)/, (_m, c: string) => `"ciphertext":"${c === 'A' ? 'B' : 'A'}`),
        }),
      ],
      [
        'encrypted with another APIv3 key',
        401,
        'rejected:DECRYPT_AUTHENTICATION_FAILED',
        () => ({ apiV3Key: 'x'.repeat(32) }),
      ],
    ];
  test.each(cases)('%s → %i', async (_name, status, verdict, options) => {
    const { order, outTradeNo } = await prepaidOrder();
    const notice = craftNotification(
      t.cloud.keys,
      transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
      options(t.cloud.keys),
    );
    const answer = await postNotification(t.cloud.urls.notifyUrl, notice);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'FAIL' });
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
    // logged by size, hash, prefix and Wechatpay-* headers: never the whole body an anonymous sender chose
    const entries = (
      await t.cloud.engine.database().collection('notification_log').where({ verdict }).limit(1000).get()
    ).data as unknown as RejectedEntry[];
    const mine = entries.find((e) => e.sha256 === sha256(notice.body));
    expect(mine).toMatchObject({
      size: Buffer.byteLength(notice.body),
      prefix: Buffer.from(notice.body).subarray(0, 512).toString(),
    });
    expect(mine!.body).toBeUndefined();
    expect(Object.keys(mine!.wechatpayHeaders).map((h) => h.toLowerCase())).toEqual(
      expect.arrayContaining(['wechatpay-signature', 'wechatpay-serial', 'wechatpay-timestamp']),
    );
  });

  test('wrong merchant (genuinely signed) → 400, nothing changed', async () => {
    const { order, outTradeNo } = await prepaidOrder();
    const notice = craftNotification(
      t.cloud.keys,
      transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice'), { mchid: '1900000001' }),
    );
    expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(400);
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
    expect((await log(outTradeNo)).map((e) => e.verdict)).toEqual(['merchant_mismatch']);
  });

  test('wrong appid (genuinely signed) → 400', async () => {
    const { order, outTradeNo } = await prepaidOrder();
    const notice = craftNotification(
      t.cloud.keys,
      transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice'), { appid: 'wx0000000000000000' }),
    );
    expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(400);
    expect((await t.order('alice', order.id)).status).toBe('pending_payment');
  });
});

test('amount mismatch: recorded, order in review and not paid, answered success', async () => {
  const { order, outTradeNo } = await prepaidOrder();
  const notice = craftNotification(t.cloud.keys, transactionResource(t.cloud.keys, outTradeNo, 1, t.openid('alice')));
  expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
  const reviewed = await t.order('alice', order.id);
  expect(reviewed).toMatchObject({ status: 'review', paidFen: 0, can: { pay: false, requestRefund: false } });
  expect(reviewed.timeline.at(-1)).toMatchObject({ event: 'review', detail: expect.stringContaining('total 1 fen') });
  expect((await log(outTradeNo)).map((e) => e.verdict)).toEqual(['amount_mismatch']);
  expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
  expect((await t.order('alice', order.id)).status).toBe('review');
});

test('a notification for an unknown payment is acknowledged and logged, nothing created', async () => {
  const notice = craftNotification(
    t.cloud.keys,
    transactionResource(t.cloud.keys, 'OUNKNOWN0000000000000P1', 100, t.openid('alice')),
  );
  expect((await postNotification(t.cloud.urls.notifyUrl, notice)).status).toBe(204);
  expect((await log('OUNKNOWN0000000000000P1')).map((e) => e.verdict)).toEqual(['unknown_payment']);
});

test('a base64 body (HTTP access isBase64Encoded) verifies the same', async () => {
  const { order, outTradeNo } = await prepaidOrder();
  const notice = craftNotification(
    t.cloud.keys,
    transactionResource(t.cloud.keys, outTradeNo, order.totalFen, t.openid('alice')),
  );
  const response = await fetch(t.cloud.urls.notifyUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...notice.headers },
    body: notice.body,
  });
  expect(response.status).toBe(204);
  expect((await t.order('alice', order.id)).status).toBe('paid');
});

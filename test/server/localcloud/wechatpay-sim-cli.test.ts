/** The CLI's WeChat Pay simulator commands against a running local cloud: faults, clock, settings, one delivery. */
import { HELP, runCli } from '../../../localcloud/cli';
import { startTestCloud, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

async function cli(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  expect(await runCli(argv, { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) })).toBe(0);
  return lines.join('\n');
}

test('help lists the refund faults and the clock', () => {
  for (const word of [
    'NOT_ENOUGH',
    'USER_ACCOUNT_ABNORMAL',
    'abnormal-refund',
    'clock [--advance MS',
    '--refund-interval',
    'notification <notificationId>',
  ])
    expect(HELP).toContain(word);
});

test('fault refund NOT_ENOUGH and USER_ACCOUNT_ABNORMAL reach the simulator; a misplaced one is refused', async () => {
  await cli('faults', 'clear');
  expect(JSON.parse(await cli('fault', 'refund', 'NOT_ENOUGH', '--standing'))).toEqual([
    { target: 'refund', kind: 'NOT_ENOUGH', times: null },
  ]);
  await cli('fault', 'refund', 'USER_ACCOUNT_ABNORMAL');
  expect(t.cloud.pay.faults.list().map((r) => r.kind)).toEqual(['NOT_ENOUGH', 'USER_ACCOUNT_ABNORMAL']);
  const out: string[] = [];
  expect(
    await runCli(['fault', 'query', 'NOT_ENOUGH'], { cloudUrl: t.cloud.urls.cloud, out: (l) => out.push(l) }),
  ).toBe(1);
  expect(out.join('\n')).toContain('target must be refund');
  await cli('faults', 'clear');
});

test('clock shows, advances, sets and resets WeChat Pay’s business time', async () => {
  expect(JSON.parse(await cli('clock'))).toMatchObject({ offsetMs: 0 });
  expect(JSON.parse(await cli('clock', '--advance', '60000'))).toMatchObject({ offsetMs: 60_000 });
  expect(JSON.parse(await cli('clock', '--to', '2030-01-02T10:00:00+08:00'))).toMatchObject({
    now: Date.parse('2030-01-02T02:00:00Z'),
  });
  expect(JSON.parse(await cli('clock', '--reset'))).toMatchObject({ offsetMs: 0 });
});

test('config sets the refund interval, the error limit and the public-key share', async () => {
  expect(
    JSON.parse(await cli('config', '--refund-interval', '60000', '--error-limit', '6', '--public-key-share', '0.5')),
  ).toMatchObject({
    refundIntervalMs: 60_000,
    refundErrorLimitPerSecond: 6,
    publicKeyShare: 0.5,
  });
  expect(
    JSON.parse(await cli('config', '--refund-interval', '0', '--error-limit', '0', '--public-key-share', 'ramp')),
  ).toMatchObject({ refundIntervalMs: 0, refundErrorLimitPerSecond: 0, publicKeyShare: null });
});

test('notification <id> prints each attempt’s headers, body and the merchant’s answer', async () => {
  const order = await t.confirm('alice');
  await t.payAndWait('alice', order.id);
  const [delivery] = await t.cloud.pay.notifier.list({ outTradeNo: `${order.id}P1` });
  const text = await cli('notification', delivery!._id);
  expect(text).toContain('TRANSACTION.SUCCESS');
  expect(text).toMatch(/attempt 1 \(delivery\) at .*: 20[04]/);
  expect(text).toContain(`> Wechatpay-Serial: ${t.cloud.keys.publicKeyId}`);
  expect(text).toContain(`> ${delivery!.body}`);
  expect(text).toMatch(/< 20[04]/);
});

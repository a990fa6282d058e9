/**
 * The CLI does what the console does: a guest's Native order through the checkout API, the pending cashier, a scan as
 * a local user, the orders beside WeChat Pay's state, one order in full, refunds, users.
 */
import { HELP, runCli } from '../../../localcloud/cli';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.close());

async function cli(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await runCli(argv, { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) });
  if (code !== 0) throw new Error(`${argv.join(' ')} → ${code}: ${lines.join('\n')}`);
  return lines.join('\n');
}

test('help names the console and its commands', () => {
  for (const word of [
    '/console',
    'orders [--status S]',
    'inspect <orderId>',
    'pending',
    'scan <code_url>',
    'checkout [--item',
    'refunds',
    'exceptions',
    'books',
    'users',
  ])
    expect(HELP).toContain(word);
});

test('checkout → pending → scan as a user → orders and inspect show it paid, by that payer', async () => {
  const created = JSON.parse(await cli('checkout', '--item', 'latte:2')) as {
    orderId: string;
    totalFen: number;
    page: string;
    codeUrl: string;
  };
  expect(created).toMatchObject({
    totalFen: 3980,
    page: expect.stringMatching(/\/http\/checkout\/#t=[A-Za-z0-9_-]{43}$/),
    codeUrl: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/),
  });
  expect(await cli('pending')).toContain(`NATIVE  ${created.orderId}P1`);

  expect(JSON.parse(await cli('scan', created.codeUrl, '--user', 'erin'))).toMatchObject({
    result: 'pay',
    user: 'erin',
    openid: t.openid('erin'),
    trade_state: 'SUCCESS',
  });
  await waitFor(
    () => cli('orders', '--status', 'paid'),
    (text) => text.includes(created.orderId),
  );
  expect(await cli('orders', '--status', 'paid')).toMatch(
    new RegExp(`${created.orderId}\\s+paid\\s+3980 fen\\s+guest\\s+WeChat Pay: SUCCESS`),
  );
  const detail = JSON.parse(await cli('inspect', created.orderId)) as {
    order: { status: string };
    payments: { tradeType?: string }[];
    wechatpay: { payer: string; trade_type: string }[];
    deliveries: { state: string }[];
  };
  expect(detail.order.status).toBe('paid');
  expect(detail.payments).toEqual([expect.objectContaining({ tradeType: 'NATIVE', status: 'success' })]);
  expect(detail.wechatpay).toEqual([expect.objectContaining({ trade_type: 'NATIVE', payer: t.openid('erin') })]);
  expect(detail.deliveries.map((d) => d.state)).toEqual(['delivered']);
  expect(await cli('pending')).toBe('nothing to pay');
});

test('refunds, exceptions, books and users read what the console reads', async () => {
  const order = await t.confirm('alice');
  await t.payAndWait('alice', order.id);
  expect(await cli('refunds')).toBe('no refunds');
  expect(JSON.parse(await cli('exceptions'))).toEqual([]);
  expect(JSON.parse(await cli('books'))).toEqual({ statements: expect.any(Array), alerts: expect.any(Array) });
  expect(JSON.parse(await cli('users'))).toEqual({ users: expect.any(Array), sessions: expect.any(Array) });
  const lines: string[] = [];
  expect(await runCli(['inspect', 'ONOSUCHORDER'], { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) })).toBe(
    1,
  );
  expect(lines.join('\n')).toContain('no order ONOSUCHORDER');
});

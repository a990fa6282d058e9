/**
 * The CLI's fulfilment commands against a local cloud: an order of coffee beans confirmed with an address, paid,
 * taken and shipped by a staff member, shown at WeChat's side (已发货), received and settled by WeChat's events, and its
 * timeline, and the console's view of it; the shipping simulator's switches and fault.
 */
import { runCli } from '../../../localcloud/cli';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ env: { STAFF_OPENIDS: 'placeholder_staff' } });
  process.env.STAFF_OPENIDS = `${t.openid('barista')}:小王`;
});
afterAll(() => t.close());

async function cli(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await runCli(argv, { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) });
  if (code !== 0) throw new Error(`${argv.join(' ')} → ${code}: ${lines.join('\n')}`);
  return lines.join('\n');
}

test('an order from the tap to the settlement event, driven from the terminal', async () => {
  const { orderId } = JSON.parse(await cli('order', '--item', 'beans-250g:1', '--address')) as { orderId: string };
  await cli('pay', orderId);
  await waitFor(
    () => t.order('alice', orderId),
    (o) => o.status === 'paid',
  );
  expect(JSON.parse(await cli('staff', 'queue'))).toMatchObject({ orders: [expect.objectContaining({ id: orderId })] });
  await cli('staff', 'accept', orderId);
  await cli('staff', 'ship', orderId, '{"expressCompany":"SF","trackingNo":"SF1234567890"}');
  const wechat = JSON.parse(await cli('shipping')) as { orders: { stateText: string; logisticsType: number }[] };
  expect(wechat.orders).toEqual([expect.objectContaining({ stateText: '已发货', logisticsType: 1 })]);
  expect(JSON.parse(await cli('receive', orderId))).toMatchObject({ state: 4 });
  const timeline = await cli('timeline', orderId);
  expect(timeline.split('\n').map((line) => line.split(/\s+/)[1])).toEqual([
    'created',
    'payment_started',
    'paid',
    'fulfil_accepted',
    'fulfil_shipped',
    'shipping_uploaded',
    'fulfil_received',
    'wechat_settled',
  ]);
  // the console shows the same WeChat-side state
  const overview = (await (await fetch(`${t.cloud.urls.cloud}/console/api/overview`)).json()) as {
    shipping: { orders: { stateText: string }[]; pushed: { event: { Event: string } }[] };
  };
  expect(overview.shipping.orders.map((o) => o.stateText)).toEqual(['交易完成']);
  expect(overview.shipping.pushed.map((p) => p.event.Event)).toEqual([
    'trade_manage_order_settlement',
    'trade_manage_order_settlement',
  ]);
});

test('switches and faults: not managed, and an upload fault answered once', async () => {
  expect(JSON.parse(await cli('shipping', '--managed', 'false', '--delay', 'off'))).toMatchObject({
    tradeManaged: false,
    settlementDelayMs: null,
  });
  expect(JSON.parse(await cli('ship-fault', 'uploadShippingInfo', '10060012', '--times', '1'))).toEqual([
    { api: 'uploadShippingInfo', errcode: 10060012, times: 1 },
  ]);
  expect(JSON.parse(await cli('ship-fault', 'uploadShippingInfo', '0'))).toEqual([]);
});

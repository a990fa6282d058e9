/**
 * The simulator's layout: one room per concern behind a small facade, WeChat Pay's side written apart from the
 * merchant's protocol module (so a slip on one side cannot be mirrored on the other), and a plug for more rooms.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Room } from '../../../localcloud/wechatpay-sim/simulator';
import { control, signedRequest, useSimulator } from '../../support/sim-harness';

const dir = join(__dirname, '../../../localcloud/wechatpay-sim');

test('no file of the simulator imports the merchant’s protocol module or any cloud function code', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files).toEqual(
    expect.arrayContaining([
      'simulator.ts',
      'server.ts',
      'auth.ts',
      'signing.ts',
      'ledger.ts',
      'transactions.ts',
      'refunds.ts',
      'certificates.ts',
      'cashier.ts',
      'control.ts',
      'notifier.ts',
      'faults.ts',
      'clock.ts',
    ]),
  );
  const offending: string[] = [];
  for (const file of files) {
    for (const [, specifier] of readFileSync(join(dir, file), 'utf8').matchAll(
      /(?:from|import|require\()\s*['"]([^'"]+)['"]/g,
    )) {
      if (specifier!.includes('cloudfunctions')) offending.push(`${file}: ${specifier}`);
    }
  }
  expect(offending).toEqual([]);
});

describe('plugging a room in', () => {
  const h = useSimulator();

  /** a stand-in for a bills room: one signed JSON endpoint, one raw unsigned download, one control endpoint */
  const room: Room = {
    route(method, path) {
      if (method === 'GET' && path === '/v3/echo')
        return { target: 'echo', run: async (url) => ({ status: 200, body: { echo: url.searchParams.get('q') } }) };
      if (method === 'GET' && path === '/v3/echo/file')
        return {
          target: 'echo-file',
          run: async () => ({ status: 200, raw: Buffer.from('a,b\n'), headers: { 'Content-Type': 'text/plain' } }),
        };
      return undefined;
    },
    control: (method, path) =>
      method === 'GET' && path === '/sim/echo' ? { status: 200, body: { room: 'echo' } } : undefined,
  };

  test('its endpoints are authenticated, faulted and signed like the built-in ones; raw answers go out unsigned', async () => {
    h.sim.plug(room, ['echo', 'echo-file']);
    const answer = await signedRequest(h, 'GET', '/v3/echo?q=1');
    expect(answer).toMatchObject({ status: 200, json: { echo: '1' } });
    expect(answer.headers.get('wechatpay-serial')).toBe(h.keys.publicKeyId);
    const unsigned = await fetch(`${h.sim.baseUrl}/v3/echo?q=1`);
    expect(unsigned.status).toBe(401);
    // a download is answered unsigned, as WeChat Pay sends bill files: the merchant must not verify it
    const file = await signedRequest(h, 'GET', '/v3/echo/file', undefined, {}, { verify: false });
    expect(file).toMatchObject({ status: 200, text: 'a,b\n' });
    expect(file.headers.get('wechatpay-signature')).toBeNull();
    expect(file.headers.get('request-id')).toMatch(/^[0-9A-F]{32}$/);
    expect((await fetch(`${h.sim.baseUrl}/v3/echo/file`)).status).toBe(401);
    expect((await control(h, 'POST', '/sim/faults', { target: 'echo', kind: 'FREQUENCY_LIMITED' })).status).toBe(200);
    expect((await signedRequest(h, 'GET', '/v3/echo?q=2')).status).toBe(429);
    expect((await control(h, 'POST', '/sim/faults', { target: 'nowhere', kind: 'SYSTEM_ERROR' })).status).toBe(400);
    expect(await control(h, 'GET', '/sim/echo')).toEqual({ status: 200, json: { room: 'echo' } });
  });
});

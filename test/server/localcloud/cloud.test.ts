/** The local cloud over HTTP: sessions and OPENID, HTTP access, timers, the CLI, bundles, and `npm start` itself. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../../localcloud/cli';
import { FunctionHost, type LoadedFunction } from '../../../localcloud/host';
import { buildFunctions } from '../../../scripts/release/build-functions';
import type { ApiResult, OrderView, Profile } from '../../../typings/api';
import { startTestCloud, waitFor, type TestCloud } from '../../support/localcloud';

jest.setTimeout(30_000);

describe('over HTTP', () => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await startTestCloud();
  });
  afterAll(() => t.close());

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${t.cloud.urls.cloud}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('the local wx.login flow: code for jscode2session, session for the OPENID of later calls', async () => {
    const { body: login } = await post('/wxapi/_local/login', { user: 'alice' });
    const { body } = await post('/functions/login', { code: login.code }, { 'X-WX-Session': login.session as string });
    expect(body.result as ApiResult<Profile>).toMatchObject({ ok: true, data: { openid: login.openid } });
    const listed = await post('/functions/orders', { action: 'list' }, { 'X-WX-Session': login.session as string });
    expect(listed.body.result).toMatchObject({ ok: true });
  });

  test('without a valid session there is no OPENID, as on the platform', async () => {
    expect((await post('/functions/orders', { action: 'list' })).body.result).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' },
    });
    expect(
      (await post('/functions/orders', { action: 'list' }, { 'X-WX-Session': 'forged' })).body.result,
    ).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect((await post('/functions/catalog', { action: 'list' })).body.result).toMatchObject({ ok: true });
  });

  test('jscode2session errcodes: 40029 unknown or expired, 40163 used, 40013 wrong appid, 40125 wrong secret', async () => {
    const { code } = t.cloud.wxApi.login('bob');
    const q = (params: Record<string, string>) =>
      fetch(
        `${t.cloud.urls.wxapi}/sns/jscode2session?${new URLSearchParams({ appid: t.cloud.keys.appid, secret: t.cloud.keys.appSecret, grant_type: 'authorization_code', ...params })}`,
      ).then((r) => r.json());
    expect(await q({ js_code: code })).toMatchObject({ openid: t.openid('bob'), session_key: expect.any(String) });
    expect(await q({ js_code: code })).toEqual({ errcode: 40163, errmsg: 'code been used' });
    expect(await q({ js_code: 'nope' })).toMatchObject({ errcode: 40029 });
    expect(await q({ js_code: t.cloud.wxApi.login('bob').code, appid: 'wx0000000000000000' })).toMatchObject({
      errcode: 40013,
    });
    expect(await q({ js_code: t.cloud.wxApi.login('bob').code, secret: 'x' })).toMatchObject({ errcode: 40125 });
  });

  test('an unknown function is a 404 with the platform errCode', async () => {
    expect(await post('/functions/nope', {})).toMatchObject({ status: 404, body: { errCode: -501000 } });
  });

  test('timers run on demand over HTTP', async () => {
    expect((await post('/timers/reconcile', {})).body.result).toMatchObject({
      expiredClosed: expect.any(Number),
      errors: 0,
    });
  });

  test('the CLI: pay an order, drop its notification, replay it', async () => {
    const lines: string[] = [];
    const cli = async (...argv: string[]) => {
      lines.length = 0;
      expect(await runCli(argv, { cloudUrl: t.cloud.urls.cloud, out: (l) => lines.push(l) })).toBe(0);
      return lines.join('\n');
    };
    const { orderId } = JSON.parse(await cli('order', '--user', 'alice', '--item', 'latte:2')) as { orderId: string };
    await cli('fault', 'notify', 'DROP');
    const paid = JSON.parse(await cli('pay', orderId, '--user', 'alice')) as { cashier: { result: string } };
    expect(paid.cashier.result).toBe('pay');
    const log = await cli('notifications', '--order', orderId);
    expect(log).toMatch(/TRANSACTION\.SUCCESS .* dropped/);
    const notificationId = log.split(/\s+/)[0]!;
    const order = () => t.ok<OrderView>('orders', { action: 'get', orderId }, 'alice');
    expect((await order()).status).toBe('pending_payment');
    expect(await cli('replay', notificationId)).toContain('delivered');
    expect((await order()).status).toBe('paid');
    expect(await cli('ledger')).toContain(`${orderId}P1  SUCCESS`);
    expect(await cli('demo')).toContain('is paid');
    expect(await runCli(['pay'], { cloudUrl: t.cloud.urls.cloud, out: () => {} })).toBe(1);
  });
});

describe('function host', () => {
  const platform = {
    engine: undefined as never,
    envId: 'test',
    sendSubscribeMessage: async () => ({}),
    callOpenApi: async () => ({}),
  };

  test('HTTP access delivers the platform event and maps the response', async () => {
    let seen: Record<string, unknown> = {};
    const echo: LoadedFunction = {
      name: 'echo',
      config: {},
      main: async (event) => {
        seen = event as Record<string, unknown>;
        return {
          statusCode: 201,
          headers: { 'X-Echo': 'yes' },
          body: Buffer.from('二进制').toString('base64'),
          isBase64Encoded: true,
        };
      },
    };
    const host = new FunctionHost(platform, [echo]);
    const { createServer } = await import('node:http');
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url!, 'http://x');
      const out = await host.httpAccess(
        'echo',
        req,
        url,
        url.pathname.replace('/http/echo', ''),
        Buffer.concat(chunks),
      );
      res.writeHead(out.statusCode, out.headers).end(out.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const response = await fetch(`http://127.0.0.1:${port}/http/echo/a/b?x=1&y=2`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'Wechatpay-Serial': 'S1' },
      body: '{"k":"值"}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('二进制');
    expect(seen).toMatchObject({
      path: '/a/b',
      httpMethod: 'PUT',
      queryStringParameters: { x: '1', y: '2' },
      body: '{"k":"值"}',
      isBase64Encoded: false,
      headers: { 'wechatpay-serial': 'S1' },
    });
    await fetch(`http://127.0.0.1:${port}/http/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255]),
    });
    expect(seen).toMatchObject({
      path: '/',
      isBase64Encoded: true,
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
    server.close();
  });

  test('timer triggers from config.json run on their 7-field schedule', async () => {
    let runs = 0;
    const tick: LoadedFunction = {
      name: 'tick',
      config: { triggers: [{ name: 'everySecond', type: 'timer', config: '* * * * * * *' }] },
      main: async () => ++runs,
    };
    const host = new FunctionHost(platform, [tick]);
    const scheduled = host.startTimers();
    expect(scheduled).toEqual([expect.objectContaining({ name: 'tick', trigger: 'everySecond' })]);
    await waitFor(
      async () => runs,
      (n) => n >= 2,
      5000,
    );
    host.stopTimers();
    expect(host.timerRuns[0]).toMatchObject({ name: 'tick', trigger: 'everySecond', ok: true });
  });
});

test('the bundled functions (npm run build) run on the local cloud', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'bundles-'));
  const built = await buildFunctions(outDir);
  expect(built.map((b) => b.name)).toEqual([
    'admin',
    'books',
    'catalog',
    'checkout',
    'clientLog',
    'login',
    'merchants',
    'msgPush',
    'orders',
    'payNotify',
    'payment',
    'reconcile',
    'staff',
    'wechatpayKeys',
  ]);
  for (const b of built) expect([b.name, b.bytes < 100 * 1024]).toEqual([b.name, true]);
  const { OUT_DIR } = await import('../../../cloudfunctions/functions');
  // the host loads bundles from dist/cloudfunctions: build there too
  await buildFunctions(OUT_DIR);
  const t = await startTestCloud({ functions: 'bundles' });
  try {
    const order = await t.confirm('alice');
    expect((await t.payAndWait('alice', order.id)).status).toBe('paid');
  } finally {
    await t.close();
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('npm start: first start creates the data folder, a second start reuses it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'npmstart-'));
  const start = () =>
    new Promise<{ output: string; cloudUrl: string; stop: () => Promise<void> }>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '../../../localcloud/main.ts')], {
        env: {
          ...process.env,
          LOCALCLOUD_DATA: dataDir,
          LOCALCLOUD_PORT: '0',
          LOCALCLOUD_PAY_PORT: '0',
          LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const timer = setTimeout(
        () => (child.kill('SIGKILL'), fail(new Error(`no start within 20 s: ${output}`))),
        20_000,
      );
      child.stdout.on('data', (c: Buffer) => {
        output += c.toString();
        if (output.includes('Drive it:')) {
          clearTimeout(timer);
          const cloudUrl = output.match(/cloud functions\s+(http:\/\/127\.0\.0\.1:\d+)\/functions/)![1]!;
          done({
            output,
            cloudUrl,
            stop: () => new Promise((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))),
          });
        }
      });
    });
  try {
    const first = await start();
    expect(first.output).toContain('Data created');
    expect(first.output).toContain('seeded 7 products');
    const index = (await (await fetch(`${first.cloudUrl}/`)).json()) as { functions: string[]; wechatpay: string };
    expect(index.functions).toContain('payNotify');
    const lines: string[] = [];
    expect(await runCli(['demo'], { cloudUrl: first.cloudUrl, out: (l) => lines.push(l) })).toBe(0);
    await first.stop();
    const second = await start();
    expect(second.output).toContain('Data reused');
    expect(second.output).toContain('kept from the last start');
    const orders = (await (
      await fetch(`${second.cloudUrl}/functions/orders`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-WX-Session': (
            (await (
              await fetch(`${second.cloudUrl}/wxapi/_local/login`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: '{"user":"alice"}',
              })
            ).json()) as { session: string }
          ).session,
        },
        body: '{"action":"list"}',
      })
    ).json()) as { result: ApiResult<{ orders: OrderView[] }> };
    expect(orders.result.ok && orders.result.data.orders[0]?.status).toBe('paid');
    await second.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

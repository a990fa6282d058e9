/**
 * One WeChat Pay simulator per test, driven as a merchant would drive WeChat Pay: through the project's protocol
 * client (createWechatPay), or, for what the client has no method for, through its signer and verifier units.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  authorize,
  createWechatPay,
  loadWechatPayConfig,
  newNonce,
  NotificationParser,
  WechatPayApiError,
  type WechatPay,
} from '../../cloudfunctions/common/wechatpay';
import { wechatpayEnvironment } from '../../localcloud/env';
import type { LocalKeys } from '../../localcloud/keys';
import {
  WechatPaySimulator,
  type SigningMode,
  type WechatPaySimulatorOptions,
} from '../../localcloud/wechatpay-sim/simulator';
import { freshLocalKeys } from './local-keys';
import { NotifyReceiver } from './notify-receiver';

export interface SimHarness {
  keys: LocalKeys;
  sim: WechatPaySimulator;
  receiver: NotifyReceiver;
  /** the merchant's protocol units, holding both kinds of WeChat Pay keys */
  pay: WechatPay;
  /** the test's wall clock (ms); tests move it by assigning */
  wall: { now: number };
  client(baseUrl?: string, env?: Record<string, string>, mode?: SigningMode): WechatPay;
  /** replaces the simulator (closing the current one) with one built from these options */
  restart(options?: Partial<WechatPaySimulatorOptions>): Promise<WechatPaySimulator>;
}

export const outTradeNo = (): string => `T${Date.now()}${randomBytes(4).toString('hex')}`;

/** Registers the hooks; the fields are filled before each test. */
export function useSimulator(defaults: Partial<WechatPaySimulatorOptions> = {}): SimHarness {
  let keysDir = '';
  const h = { wall: { now: 0 } } as SimHarness;
  const clock = () => h.wall.now;
  h.client = (baseUrl = h.sim.baseUrl, env = {}, mode = 'both') => {
    const config = loadWechatPayConfig({
      ...wechatpayEnvironment(
        h.keys,
        {
          wechatpayBaseUrl: baseUrl,
          wxApiBaseUrl: 'http://127.0.0.1:1',
          notifyUrl: h.receiver.url,
          refundNotifyUrl: h.receiver.url,
        },
        mode,
      ),
      ...env,
    });
    return createWechatPay(config, { clock, timeoutMs: 400, sleep: async () => {} });
  };
  h.restart = async (options = {}) => {
    await h.sim?.close();
    h.sim = new WechatPaySimulator({
      keys: h.keys,
      clock,
      timeFactor: 0.001,
      refundDelayMs: 5,
      signingMode: 'publicKey',
      ...defaults,
      ...options,
    });
    h.pay = h.client(await h.sim.start());
    return h.sim;
  };
  beforeAll(() => {
    ({ keys: h.keys, dir: keysDir } = freshLocalKeys());
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));
  beforeEach(async () => {
    h.wall.now = Date.now();
    h.receiver = await new NotifyReceiver().start();
    await h.restart();
  });
  afterEach(async () => {
    await h.sim.close();
    await h.receiver.close();
  });
  return h;
}

export function prepayRequest(h: SimHarness, no: string, overrides: Record<string, unknown> = {}) {
  return {
    appid: h.keys.appid,
    description: '测试商品-拿铁',
    out_trade_no: no,
    notify_url: h.receiver.url,
    amount: { total: 1990, currency: 'CNY' as const },
    payer: { openid: 'o_local_alice' },
    ...overrides,
  };
}

export const parser = (h: SimHarness) =>
  new NotificationParser({ verifier: h.pay.verifier, apiV3Key: h.keys.apiV3Key });

export async function apiError(promise: Promise<unknown>): Promise<WechatPayApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WechatPayApiError);
  return error as WechatPayApiError;
}

/** A paid transaction; resolves once its payment notification has arrived. */
export async function paidOrder(h: SimHarness, total = 1990): Promise<string> {
  const no = outTradeNo();
  const { prepay_id } = await h.pay.client.prepayJsapi(prepayRequest(h, no, { amount: { total, currency: 'CNY' } }));
  const before = h.receiver.received.length;
  await h.sim.cashier('pay', prepay_id);
  await h.receiver.waitFor(before + 1);
  return no;
}

/**
 * A request signed with the merchant's credential (the protocol module's `authorize`), with extra headers such as
 * Wechatpay-Serial; a 2xx answer is verified with the merchant's verifier before it is returned.
 */
export async function signedRequest(
  h: SimHarness,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  headers: Record<string, string> = {},
  { verify = true }: { verify?: boolean } = {},
): Promise<{ status: number; headers: Headers; text: string; json: Record<string, unknown> }> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const authorization = authorize(
    h.pay.credential,
    method,
    pathAndQuery,
    text,
    String(Math.floor(h.wall.now / 1000)),
    newNonce(),
  );
  const response = await fetch(h.sim.baseUrl + pathAndQuery, {
    method,
    headers: {
      Authorization: authorization,
      Accept: 'application/json',
      ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: method === 'POST' ? text : undefined,
  });
  const raw = Buffer.from(await response.arrayBuffer());
  if (verify && response.status >= 200 && response.status < 300) h.pay.verifier.verify(response.headers, raw);
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return {
    status: response.status,
    headers: response.headers,
    text: raw.toString('utf8'),
    json: isJson && raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {},
  };
}

/** The control API (no signature, loopback only). */
export async function control(
  h: SimHarness,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(h.sim.baseUrl + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

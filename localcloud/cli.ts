/**
 * `npm run localcloud -- <command>`: drive a running local cloud from a terminal, in the spirit of `stripe trigger`.
 * Talks HTTP to the cloud server (LOCALCLOUD_URL; else where `npm start` puts it: 127.0.0.1, LOCALCLOUD_PORT or 8787)
 * and to the WeChat Pay simulator whose URL the cloud server reports. The commands are a table (name → usage, what it
 * does, run); the help is made from it.
 */
import { cloudUrl, SettingError } from './env';

export interface CliIO {
  cloudUrl: string;
  out: (line: string) => void;
}

class CliError extends Error {}

function flags(args: string[]): { positional: string[]; options: Map<string, string[]> } {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--')) {
      const name = arg.slice(2);
      const next = args[i + 1];
      const value = next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
      options.set(name, [...(options.get(name) ?? []), value]);
    } else positional.push(arg);
  }
  return { positional, options };
}

async function http(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`cannot reach ${new URL(url).origin}: is the local cloud running (npm start)?`);
  }
  const text = await response.text();
  const value = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw new CliError(`${method} ${new URL(url).pathname} → ${response.status} ${text}`);
  return value;
}

/** What the console reads (GET /console/api/overview): the backend's records beside WeChat Pay's. */
interface Overview {
  orders: { _id: string; status: string; totalFen: number; openid: string; guest: boolean; activePaymentId?: string }[];
  payments: { _id: string; orderId: string }[];
  refunds: { orderId: string }[];
  exceptions: unknown[];
  statements: unknown[];
  alerts: unknown[];
  users: unknown[];
  sessions: unknown[];
  wechatpay: {
    transactions: { out_trade_no: string; trade_state: string }[];
    deliveries: { outTradeNo: string }[];
    refunds: { out_trade_no: string }[];
  };
}

/** What a command runs with: its arguments, the output, and the ways to the cloud and the WeChat Pay simulator. */
interface Context {
  positional: string[];
  options: Map<string, string[]>;
  /** the last value of --name, or the fallback */
  opt(name: string, fallback?: string): string | undefined;
  /** the i-th positional argument; missing: an error with the help */
  need(i: number, what: string): string;
  out(line: string): void;
  /** a string as it is, anything else as indented JSON */
  print(value: unknown): void;
  /** the cloud server's URL, without a trailing slash */
  cloud: string;
  /** the cloud server's index: the WeChat Pay simulator's URL and the appid */
  index(): Promise<{ wechatpay: string; appid: string }>;
  payUrl(): Promise<string>;
  /** what the mini-program's wx.requestPayment hands WeChat: the pay parameters and the app's appId (checked by the cashier) */
  requestPayment(action: string, params: Record<string, string>): Promise<unknown>;
  /** callFunction as a local user; a failed result is an error */
  call(fn: string, event: unknown, user: string): Promise<unknown>;
  overview(): Promise<Overview>;
}

export interface Command {
  /** the synopsis after the command's name, and any lines printed under it as they are */
  usage: string | string[];
  /** what it does: the help's right-hand column */
  does: string[];
  run(c: Context): Promise<number>;
}

const items = (specs: string[]) =>
  specs.map((spec) => {
    const [productId, quantity] = spec.split(':');
    return { productId, quantity: Number(quantity ?? 1) };
  });

/** What wx.chooseAddress would answer for the local tester (its fields the backend keeps). */
const TEST_ADDRESS = {
  userName: '测试',
  telNumber: '13800001234',
  provinceName: '云南省',
  cityName: '昆明市',
  countyName: '五华区',
  detailInfo: '翠湖路 1 号',
};

/** Driving the cloud and the WeChat Pay simulator. */
const DRIVE: Record<string, Command> = {
  login: {
    usage: '[user]',
    does: ['a local wx.login: prints code, session and openid'],
    run: async ({ positional, print, cloud }) => {
      print(await http('POST', `${cloud}/wxapi/_local/login`, { user: positional[0] ?? 'alice' }));
      return 0;
    },
  },
  call: {
    usage: "<function> '<json event>' [--user U]",
    does: ['callFunction as user U (default alice), prints the result'],
    run: async ({ positional, opt, need, print, call }) => {
      let event: unknown;
      try {
        event = JSON.parse(positional[1] ?? '{}');
      } catch {
        throw new CliError('the event must be JSON');
      }
      print(await call(need(0, 'function name'), event, opt('user', 'alice')!));
      return 0;
    },
  },
  order: {
    usage: '[--user U] [--item latte:2 ...] [--address]',
    does: ['confirms an order (default one latte), prints it; --address: a test address (shipped goods need one)'],
    run: async ({ options, opt, print, call }) => {
      const order = (await call(
        'orders',
        {
          action: 'confirm',
          requestId: `cli-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
          items: items(options.get('item') ?? ['latte:1']),
          contact: { name: '测试', phone: '13800138000' },
          ...(opt('address') === 'true' ? { address: TEST_ADDRESS } : {}),
        },
        opt('user', 'alice')!,
      )) as { id: string; totalFen: number; status: string };
      print({ orderId: order.id, totalFen: order.totalFen, status: order.status });
      return 0;
    },
  },
  pay: {
    usage: '<orderId> [--user U] [--as pay|cancel|fail|none]',
    does: [
      'gets the pay parameters, then the cashier does --as (default pay) with',
      "them, checking paySign and appId as WeChat's payment sheet does",
    ],
    run: async ({ opt, need, print, call, requestPayment }) => {
      const orderId = need(0, 'orderId');
      const action = opt('as', 'pay')!;
      const paid = (await call('payment', { action: 'pay', orderId }, opt('user', 'alice')!)) as {
        prepayId: string;
        params: Record<string, string>;
      };
      const result =
        action === 'none' ? { result: 'prepaid only', params: paid.params } : await requestPayment(action, paid.params);
      print({ orderId, prepayId: paid.prepayId, cashier: result });
      return 0;
    },
  },
  cashier: {
    usage: '<pay|cancel|fail> <prepay_id>',
    does: ["the cashier with a bare prepay_id (skips the sheet's checks)"],
    run: async ({ need, print, payUrl }) => {
      print(
        await http('POST', `${await payUrl()}/sim/cashier/${need(0, 'pay|cancel|fail')}`, {
          prepay_id: need(1, 'prepay_id'),
        }),
      );
      return 0;
    },
  },
  notifications: {
    usage: '[--order ORDER_OR_OUT_TRADE_NO]',
    does: ['the delivery log of WeChat Pay notifications'],
    run: async ({ opt, out, payUrl }) => {
      const order = opt('order');
      const deliveries = (await http('GET', `${await payUrl()}/sim/notifications`)) as {
        _id: string;
        eventType: string;
        outTradeNo: string;
        state: string;
        attempts: { status?: number; error?: string }[];
      }[];
      const shown = order
        ? deliveries.filter((d) => d.outTradeNo === order || d.outTradeNo.startsWith(`${order}P`))
        : deliveries;
      for (const d of shown)
        out(
          `${d._id}  ${d.eventType.padEnd(18)} ${d.outTradeNo}  ${d.state.padEnd(9)} attempts: ${d.attempts.map((a) => a.status ?? a.error).join(', ') || '-'}`,
        );
      if (shown.length === 0) out('no notifications');
      return 0;
    },
  },
  notification: {
    usage: '<notificationId>',
    does: ["one delivery: each attempt's headers and body sent, and the answer"],
    run: async ({ need, out, payUrl }) => {
      const d = (await http(
        'GET',
        `${await payUrl()}/sim/notifications/${encodeURIComponent(need(0, 'notification id'))}`,
      )) as {
        _id: string;
        eventType: string;
        outTradeNo: string;
        state: string;
        url: string;
        attempts: {
          at: string;
          kind: string;
          status?: number;
          error?: string;
          request?: { headers: Record<string, string>; body: string };
          response?: { status: number; body: string };
        }[];
      };
      out(`${d._id}  ${d.eventType}  ${d.outTradeNo}  ${d.state}  → ${d.url}`);
      for (const [i, a] of d.attempts.entries()) {
        out(`attempt ${i + 1} (${a.kind}) at ${a.at}: ${a.status ?? a.error}`);
        for (const [name, value] of Object.entries(a.request?.headers ?? {})) out(`  > ${name}: ${value}`);
        out(`  > ${a.request?.body ?? ''}`);
        if (a.response) out(`  < ${a.response.status} ${a.response.body}`);
      }
      return 0;
    },
  },
  replay: {
    usage: '<notificationId>',
    does: ['sends a notification again now'],
    run: async ({ positional, need, print, payUrl }) => {
      const d = (await http(
        'POST',
        `${await payUrl()}/sim/notifications/${encodeURIComponent(need(0, 'notification id'))}/replay`,
      )) as { state: string };
      print({ replayed: positional[0], state: d.state });
      return 0;
    },
  },
  fault: {
    usage: [
      '<target> <kind> [--times N|--standing] [--delay MS] [--phase before|after]',
      '      targets: prepay query close refund refund-query abnormal-refund certificates bill bill-download any',
      '                 kinds: SYSTEM_ERROR FREQUENCY_LIMITED SLOW TIMEOUT',
      "      target refund also: NOT_ENOUGH (merchant balance short) USER_ACCOUNT_ABNORMAL (payer's account closed)",
      '      target notify:         DROP DUPLICATE DELAY REORDER SIGNTEST',
      '      target refund-outcome: ABNORMAL CLOSED',
    ],
    does: [],
    run: async ({ options, opt, need, print, payUrl }) => {
      const rule: Record<string, unknown> = { target: need(0, 'target'), kind: need(1, 'kind') };
      if (options.has('standing')) rule.times = null;
      else if (opt('times')) rule.times = Number(opt('times'));
      if (opt('delay')) rule.delayMs = Number(opt('delay'));
      if (opt('phase')) rule.phase = opt('phase');
      print(await http('POST', `${await payUrl()}/sim/faults`, rule));
      return 0;
    },
  },
  faults: {
    usage: '[clear]',
    does: ['lists (or clears) the fault rules'],
    run: async ({ positional, print, payUrl }) => {
      print(await http(positional[0] === 'clear' ? 'DELETE' : 'GET', `${await payUrl()}/sim/faults`));
      return 0;
    },
  },
  'bill-fault': {
    usage: [
      '<ROW_MISSING|EXTRA_ROW|AMOUNT_CHANGED|REFUND_STATE_CHANGED|SEPARATOR_IN_NAME|GZIP_TRUNCATED>',
      '           [--date YYYY-MM-DD | --times N]',
      '           [--out-trade-no X] [--out-refund-no R] [--amount FEN] [--state SUCCESS|REFUNDCLOSE|PROCESSING|CHANGE]',
    ],
    does: ["spoils a trade bill: that day's (standing), or the next N built"],
    run: async ({ opt, need, print, payUrl }) => {
      const rule: Record<string, unknown> = { kind: need(0, 'kind') };
      if (opt('date')) rule.billDate = opt('date');
      if (opt('times')) rule.times = Number(opt('times'));
      if (opt('out-trade-no')) rule.outTradeNo = opt('out-trade-no');
      if (opt('out-refund-no')) rule.outRefundNo = opt('out-refund-no');
      if (opt('amount')) rule.amountFen = Number(opt('amount'));
      if (opt('state')) rule.refundStatus = opt('state');
      print(await http('POST', `${await payUrl()}/sim/bills/faults`, rule));
      return 0;
    },
  },
  'bill-faults': {
    usage: '[clear]',
    does: ['lists (or clears) the bill fault rules'],
    run: async ({ positional, print, payUrl }) => {
      print(await http(positional[0] === 'clear' ? 'DELETE' : 'GET', `${await payUrl()}/sim/bills/faults`));
      return 0;
    },
  },
  'bill-config': {
    usage: '[--fee-rate BP] [--link-lifetime MS] [--wrong-hashes N]',
    does: [
      'the bills room: fee rate (60 is 0.60%), download link lifetime, and the',
      "next N applications answering a hash_value that is not the file's",
    ],
    run: async ({ opt, print, payUrl }) => {
      const body: Record<string, unknown> = {};
      if (opt('fee-rate')) body.feeRateBp = Number(opt('fee-rate'));
      if (opt('link-lifetime')) body.linkLifetimeMs = Number(opt('link-lifetime'));
      if (opt('wrong-hashes')) body.wrongHashes = Number(opt('wrong-hashes'));
      print(
        await http(
          Object.keys(body).length ? 'POST' : 'GET',
          `${await payUrl()}/sim/bills/config`,
          Object.keys(body).length ? body : undefined,
        ),
      );
      return 0;
    },
  },
  robot: {
    usage: '',
    does: ['what alerts posted to the local WeCom group robot'],
    run: async ({ print, cloud }) => {
      print(await http('GET', `${cloud}/wecom/_local/messages`));
      return 0;
    },
  },
  'settle-refund': {
    usage: '<out_refund_no> [SUCCESS|ABNORMAL|CLOSED]',
    does: [
      'settles a PROCESSING refund now; SUCCESS or CLOSED also settles an',
      'ABNORMAL one (handled in the merchant platform)',
    ],
    run: async ({ positional, need, print, payUrl }) => {
      print(
        await http(
          'POST',
          `${await payUrl()}/sim/refunds/${encodeURIComponent(need(0, 'out_refund_no'))}/settle`,
          positional[1] ? { status: positional[1] } : {},
        ),
      );
      return 0;
    },
  },
  clock: {
    usage: '[--advance MS | --to TIME | --reset]',
    does: ["WeChat Pay's business clock (TIME: RFC 3339 or ms); shows it"],
    run: async ({ options, opt, print, payUrl }) => {
      const url = `${await payUrl()}/sim/clock`;
      if (options.has('reset')) print(await http('DELETE', url));
      else if (opt('advance')) print(await http('POST', url, { advanceMs: Number(opt('advance')) }));
      else if (opt('to'))
        print(await http('POST', url, { now: /^\d+$/.test(opt('to')!) ? Number(opt('to')) : opt('to') }));
      else print(await http('GET', url));
      return 0;
    },
  },
  staff: {
    usage: "<action> [orderId] ['<json>'] [--user U]",
    does: [
      'the staff function as staff member U (default barista): queue, accept <id>, ready <id>,',
      'handOver <id> \'{"pickupCode":"…"}\', ship <id> \'{"expressCompany":"SF","trackingNo":"…"}\', start, complete',
    ],
    run: async ({ positional, opt, need, print, call }) => {
      const action = need(0, 'staff action');
      let extra: Record<string, unknown> = {};
      try {
        extra = JSON.parse(positional[2] ?? '{}') as Record<string, unknown>;
      } catch {
        throw new CliError('the extra fields must be JSON');
      }
      const event = { action, ...(positional[1] ? { orderId: positional[1] } : {}), ...extra };
      print(await call('staff', event, opt('user', 'barista')!));
      return 0;
    },
  },
  shipping: {
    usage: '[--managed true|false] [--delay ms|off]',
    does: ["WeChat's order shipping management: each payment's state (1 待发货 … 5 已退款), switches, events pushed"],
    run: async ({ opt, print, cloud }) => {
      const managed = opt('managed');
      const delay = opt('delay');
      if (managed !== undefined || delay !== undefined)
        await http('POST', `${cloud}/wxapi/_local/shipping/config`, {
          ...(managed !== undefined ? { tradeManaged: managed === 'true' } : {}),
          ...(delay !== undefined ? { settlementDelayMs: delay === 'off' ? null : Number(delay) } : {}),
        });
      print(await http('GET', `${cloud}/wxapi/_local/shipping`));
      return 0;
    },
  },
  receive: {
    usage: '<orderId|out_trade_no> [--auto]',
    does: [
      "the buyer confirms receipt in WeChat (--auto: WeChat's automatic confirmation), then the money settles:",
      'both settlement events are pushed to msgPush',
    ],
    run: async ({ need, opt, print, cloud, overview }) => {
      const id = need(0, 'order id or out_trade_no');
      const order = (await overview()).orders.find((o) => o._id === id);
      const outTradeNo = order?.activePaymentId ?? id;
      const method = opt('auto') === 'true' ? 1 : 2;
      await http('POST', `${cloud}/wxapi/_local/shipping/confirm`, { outTradeNo, method });
      print(await http('POST', `${cloud}/wxapi/_local/shipping/settle`, { outTradeNo }));
      return 0;
    },
  },
  'ship-fault': {
    usage: '<api> <errcode> [--times n|always]',
    does: [
      'the next n calls of a shipping API answer errcode (0 clears); APIs: isTradeManaged, uploadShippingInfo,',
      'getOrder, notifyConfirmReceive, setMsgJumpPath',
    ],
    run: async ({ need, opt, print, cloud }) => {
      const times = opt('times', '1')!;
      print(
        await http('POST', `${cloud}/wxapi/_local/shipping/fault`, {
          api: need(0, 'api'),
          errcode: Number(need(1, 'errcode')),
          times: times === 'always' ? null : Number(times),
        }),
      );
      return 0;
    },
  },
  timeline: {
    usage: '<orderId> [--user U]',
    does: ["an order's timeline and fulfilment steps as its buyer U (default alice) sees them"],
    run: async ({ need, opt, out, call }) => {
      const order = (await call('orders', { action: 'get', orderId: need(0, 'order id') }, opt('user', 'alice')!)) as {
        timeline: { at: number; event: string; detail?: string }[];
        fulfilment?: { steps: { state: string; at: number; by?: string }[] };
      };
      for (const e of order.timeline)
        out(`${new Date(e.at).toISOString()}  ${e.event}${e.detail ? `  ${e.detail}` : ''}`);
      return 0;
    },
  },
  timer: {
    usage: '<function>',
    does: ["runs a function's timer now (e.g. reconcile)"],
    run: async ({ need, print, cloud }) => {
      print(await http('POST', `${cloud}/timers/${need(0, 'function name')}`));
      return 0;
    },
  },
  ledger: {
    usage: '',
    does: ["WeChat Pay's transactions"],
    run: async ({ out, payUrl }) => {
      const txs = (await http('GET', `${await payUrl()}/sim/transactions`)) as {
        out_trade_no: string;
        trade_state: string;
        amount: { total: number };
      }[];
      for (const tx of txs) out(`${tx.out_trade_no}  ${tx.trade_state.padEnd(10)} ${tx.amount.total} fen`);
      if (txs.length === 0) out('no transactions');
      return 0;
    },
  },
  config: {
    usage: [
      '[--signing publicKey|certificate|both] [--time-factor F] [--refund-delay MS] [--refund-interval MS]',
      '       [--error-limit N] [--public-key-share 0..1|ramp]',
    ],
    does: [
      "the simulator's settings (the functions keep the WeChat Pay keys of",
      'the signing mode they started with)',
    ],
    run: async ({ opt, print, payUrl }) => {
      const body: Record<string, unknown> = {};
      if (opt('signing')) body.signingMode = opt('signing');
      if (opt('time-factor')) body.timeFactor = Number(opt('time-factor'));
      if (opt('refund-delay')) body.refundDelayMs = Number(opt('refund-delay'));
      if (opt('refund-interval')) body.refundIntervalMs = Number(opt('refund-interval'));
      if (opt('error-limit')) body.refundErrorLimitPerSecond = Number(opt('error-limit'));
      if (opt('public-key-share'))
        body.publicKeyShare = opt('public-key-share') === 'ramp' ? null : Number(opt('public-key-share'));
      print(await http('POST', `${await payUrl()}/sim/config`, body));
      return 0;
    },
  },
  demo: {
    usage: '',
    does: ['login, order, pay, cashier pays, and the order paid'],
    run: async ({ opt, out, call, requestPayment }) => {
      const user = opt('user', 'alice')!;
      const order = (await call(
        'orders',
        {
          action: 'confirm',
          requestId: `demo-${Date.now()}`,
          items: [{ productId: 'latte', quantity: 1 }],
          contact: { name: '测试', phone: '13800138000' },
        },
        user,
      )) as { id: string; totalFen: number };
      out(`1. order ${order.id} confirmed: ${order.totalFen} fen (priced by the server)`);
      const { prepayId, params } = (await call('payment', { action: 'pay', orderId: order.id }, user)) as {
        prepayId: string;
        params: Record<string, string>;
      };
      out(`2. prepaid at WeChat Pay: ${prepayId}`);
      await requestPayment('pay', params);
      out('3. the cashier checked paySign and paid; WeChat Pay sends the notification');
      for (let i = 0; i < 50; i++) {
        const current = (await call('orders', { action: 'get', orderId: order.id }, user)) as { status: string };
        if (current.status === 'paid') {
          out(`4. order ${order.id} is paid (verified notification)`);
          return 0;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new CliError('the order did not become paid within 5 s');
    },
  },
};

/** What the console (/console) shows and does. */
const CONSOLE: Record<string, Command> = {
  orders: {
    usage: '[--status S]',
    does: ["the backend's orders, newest first, beside WeChat Pay's state"],
    run: async ({ opt, out, overview }) => {
      const data = await overview();
      const status = opt('status');
      const orders = data.orders.filter((o) => !status || o.status === status);
      for (const o of orders) {
        const tx = data.wechatpay.transactions.find((x) => x.out_trade_no === o.activePaymentId);
        out(
          `${o._id}  ${o.status.padEnd(18)} ${String(o.totalFen).padStart(7)} fen  ${(o.guest ? 'guest' : o.openid).padEnd(28)}  WeChat Pay: ${tx?.trade_state ?? '-'}`,
        );
      }
      if (orders.length === 0) out('no orders');
      return 0;
    },
  },
  inspect: {
    usage: '<orderId>',
    does: ["one order: timeline, payments, WeChat Pay's ledger, deliveries, refunds"],
    run: async ({ need, print, overview }) => {
      const data = await overview();
      const id = need(0, 'orderId');
      const order = data.orders.find((o) => o._id === id);
      if (!order) throw new CliError(`no order ${id}`);
      const payments = data.payments.filter((p) => p.orderId === id);
      const nos = payments.map((p) => p._id);
      print({
        order,
        payments,
        wechatpay: data.wechatpay.transactions.filter((x) => nos.includes(x.out_trade_no)),
        deliveries: data.wechatpay.deliveries.filter((d) => nos.includes(d.outTradeNo)),
        refunds: {
          backend: data.refunds.filter((r) => r.orderId === id),
          wechatpay: data.wechatpay.refunds.filter((r) => nos.includes(r.out_trade_no)),
        },
      });
      return 0;
    },
  },
  pending: {
    usage: '',
    does: ['what a cashier can pay now: JSAPI prepays and Native QR codes'],
    run: async ({ out, payUrl }) => {
      const pending = (await http('GET', `${await payUrl()}/sim/cashier/pending`)) as {
        prepays: { prepay_id: string; out_trade_no: string; amount: number; payer: string }[];
        codes: { code_url: string; out_trade_no: string; amount: number; expires_at: string }[];
      };
      for (const p of pending.prepays)
        out(`JSAPI   ${p.out_trade_no}  ${String(p.amount).padStart(7)} fen  prepay ${p.prepay_id}  payer ${p.payer}`);
      for (const c of pending.codes)
        out(`NATIVE  ${c.out_trade_no}  ${String(c.amount).padStart(7)} fen  ${c.code_url}  until ${c.expires_at}`);
      if (pending.prepays.length + pending.codes.length === 0) out('nothing to pay');
      return 0;
    },
  },
  scan: {
    usage: '<code_url> [--user U] [--as pay|cancel|fail|userpaying]',
    does: ['a phone scans a Native QR code as local user U (default bob) and pays'],
    run: async ({ opt, need, print, cloud, payUrl }) => {
      const codeUrl = need(0, 'code_url');
      const user = opt('user', 'bob')!;
      const { openid } = (await http('GET', `${cloud}/console/api/openid?user=${encodeURIComponent(user)}`)) as {
        openid: string;
      };
      const answer = (await http('POST', `${await payUrl()}/sim/native/scan`, {
        code_url: codeUrl,
        openid,
        action: opt('as', 'pay'),
      })) as { result: string; transaction: { out_trade_no: string; trade_state: string } };
      print({
        result: answer.result,
        user,
        openid,
        out_trade_no: answer.transaction.out_trade_no,
        trade_state: answer.transaction.trade_state,
      });
      return 0;
    },
  },
  checkout: {
    usage: '[--item latte:2 ...]',
    does: [
      "a guest's Native order through the checkout API: its page URL (the",
      'token in the fragment), and the code_url to scan',
    ],
    run: async ({ options, print, cloud }) => {
      const { http: httpBase } = (await http('GET', `${cloud}/`)) as { http: string };
      const created = (await http('POST', `${httpBase}/checkout/api/orders`, {
        items: items(options.get('item') ?? ['latte:1']),
      })) as { token: string; order: { id: string; totalFen: number } };
      const paid = (await http('POST', `${httpBase}/checkout/api/order/pay`, undefined, {
        Authorization: `Bearer ${created.token}`,
      })) as { order: { code?: { codeUrl: string; expiresAt: number } } };
      print({
        orderId: created.order.id,
        totalFen: created.order.totalFen,
        page: `${httpBase}/checkout/#t=${created.token}`,
        codeUrl: paid.order.code?.codeUrl,
        codeExpiresAt: paid.order.code && new Date(paid.order.code.expiresAt).toISOString(),
      });
      return 0;
    },
  },
  refunds: {
    usage: '',
    does: ["WeChat Pay's refunds (settle one with settle-refund)"],
    run: async ({ out, payUrl }) => {
      const refunds = (await http('GET', `${await payUrl()}/sim/refunds`)) as {
        out_refund_no: string;
        out_trade_no: string;
        status: string;
        amount: { refund: number };
      }[];
      for (const r of refunds)
        out(`${r.out_refund_no}  ${r.out_trade_no}  ${r.status.padEnd(10)} ${r.amount.refund} fen`);
      if (refunds.length === 0) out('no refunds');
      return 0;
    },
  },
  exceptions: {
    usage: '',
    does: ["the backend's exceptions"],
    run: async ({ print, overview }) => {
      print((await overview()).exceptions);
      return 0;
    },
  },
  books: {
    usage: '',
    does: ['daily statements and alerts'],
    run: async ({ print, overview }) => {
      const data = await overview();
      print({ statements: data.statements, alerts: data.alerts });
      return 0;
    },
  },
  users: {
    usage: '',
    does: ["the backend's users and the local sessions"],
    run: async ({ print, overview }) => {
      const data = await overview();
      print({ users: data.users, sessions: data.sessions });
      return 0;
    },
  },
};

/** Every command, by name. */
export const COMMANDS: Readonly<Record<string, Command>> = { ...DRIVE, ...CONSOLE };

/** The right-hand column of the help starts here. */
const COLUMN = 44;

/** A command's lines in the help: name and synopsis, then what it does in the column (beside the synopsis when it fits). */
function helpOf(name: string, command: Command): string[] {
  const [synopsis, ...under] = typeof command.usage === 'string' ? [command.usage] : command.usage;
  const lines = [`  ${[name, synopsis].filter(Boolean).join(' ')}`, ...under.map((line) => `  ${line}`)];
  const does = [...command.does];
  const last = lines.length - 1;
  if (does.length && lines[last]!.length < COLUMN) lines[last] = `${lines[last]!.padEnd(COLUMN)}${does.shift()}`;
  return [...lines, ...does.map((line) => `${' '.repeat(COLUMN)}${line}`)];
}

const section = (table: Record<string, Command>) =>
  Object.entries(table).flatMap(([name, command]) => helpOf(name, command));

export const HELP = [
  'Usage: npm run localcloud -- <command> [options]',
  '',
  ...section(DRIVE),
  '',
  '  What the console (http://127.0.0.1:8787/console) shows and does, from here:',
  ...section(CONSOLE),
  '',
].join('\n');

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  const { positional, options } = flags(rest);
  const cloud = io.cloudUrl.replace(/\/+$/, '');
  const index = async () => (await http('GET', `${cloud}/`)) as { wechatpay: string; appid: string };
  const session = async (user: string) =>
    ((await http('POST', `${cloud}/wxapi/_local/login`, { user })) as { session: string }).session;
  const context: Context = {
    positional,
    options,
    opt: (option, fallback) => options.get(option)?.at(-1) ?? fallback,
    need: (i, what) => {
      const value = positional[i];
      if (!value) throw new CliError(`missing ${what}\n\n${HELP}`);
      return value;
    },
    out: io.out,
    print: (value) => io.out(typeof value === 'string' ? value : JSON.stringify(value, null, 2)),
    cloud,
    index,
    payUrl: async () => (await index()).wechatpay,
    requestPayment: async (action, params) => {
      const { wechatpay, appid } = await index();
      return http('POST', `${wechatpay}/sim/cashier/${action}`, { appId: appid, ...params });
    },
    call: async (fn, event, user) => {
      const { result } = (await http('POST', `${cloud}/functions/${fn}`, event, {
        'X-WX-Session': await session(user),
      })) as { result: { ok: boolean; data?: unknown; error?: unknown } };
      if (!result.ok) throw new CliError(`${fn}: ${JSON.stringify(result.error)}`);
      return result.data;
    },
    overview: async () => (await http('GET', `${cloud}/console/api/overview`)) as Overview,
  };

  try {
    if (name === undefined || name === 'help' || name === '--help') {
      io.out(HELP);
      return 0;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new CliError(`unknown command ${name}\n\n${HELP}`);
    return await command.run(context);
  } catch (error) {
    if (error instanceof CliError) {
      io.out(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  let url: string;
  try {
    url = cloudUrl();
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  runCli(process.argv.slice(2), { cloudUrl: url, out: (line) => console.log(line) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

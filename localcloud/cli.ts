/**
 * `npm run localcloud -- <command>`: drive a running local cloud from a terminal, in the spirit of `stripe trigger`.
 * Talks HTTP to the cloud server (LOCALCLOUD_URL, default http://127.0.0.1:8787) and to the WeChat Pay simulator
 * whose URL the cloud server reports.
 */
export const HELP = `Usage: npm run localcloud -- <command> [options]

  login [user]                              a local wx.login: prints code, session and openid
  call <function> '<json event>' [--user U] callFunction as user U (default alice), prints the result
  order [--user U] [--item latte:2 ...]     confirms an order (default one latte), prints it
  pay <orderId> [--user U] [--as pay|cancel|fail|none]
                                            gets the pay parameters, then the cashier does --as (default pay) with
                                            them, checking paySign and appId as WeChat's payment sheet does
  cashier <pay|cancel|fail> <prepay_id>     the cashier with a bare prepay_id (skips the sheet's checks)
  notifications [--order ORDER_OR_OUT_TRADE_NO]
                                            the delivery log of WeChat Pay notifications
  notification <notificationId>            one delivery: each attempt's headers and body sent, and the answer
  replay <notificationId>                   sends a notification again now
  fault <target> <kind> [--times N|--standing] [--delay MS] [--phase before|after]
        targets: prepay query close refund refund-query abnormal-refund certificates bill bill-download any
                   kinds: SYSTEM_ERROR FREQUENCY_LIMITED SLOW TIMEOUT
        target refund also: NOT_ENOUGH (merchant balance short) USER_ACCOUNT_ABNORMAL (payer's account closed)
        target notify:         DROP DUPLICATE DELAY REORDER SIGNTEST
        target refund-outcome: ABNORMAL CLOSED
  faults [clear]                            lists (or clears) the fault rules
  bill-fault <ROW_MISSING|EXTRA_ROW|AMOUNT_CHANGED|REFUND_STATE_CHANGED> [--date YYYY-MM-DD | --times N]
             [--out-trade-no X] [--out-refund-no R] [--amount FEN] [--state SUCCESS|REFUNDCLOSE|PROCESSING|CHANGE]
                                            spoils a trade bill: that day's (standing), or the next N built
  bill-faults [clear]                       lists (or clears) the bill fault rules
  bill-config [--fee-rate BP] [--link-lifetime MS] [--wrong-hashes N]
                                            the bills room: fee rate (60 is 0.60%), download link lifetime, and the
                                            next N applications answering a hash_value that is not the file's
  robot                                     what alerts posted to the local WeCom group robot
  settle-refund <out_refund_no> [SUCCESS|ABNORMAL|CLOSED]
                                            settles a PROCESSING refund now; SUCCESS or CLOSED also settles an
                                            ABNORMAL one (handled in the merchant platform)
  clock [--advance MS | --to TIME | --reset]
                                            WeChat Pay's business clock (TIME: RFC 3339 or ms); shows it
  timer <function>                          runs a function's timer now (e.g. reconcile)
  ledger                                    WeChat Pay's transactions
  config [--signing publicKey|certificate|both] [--time-factor F] [--refund-delay MS] [--refund-interval MS]
         [--error-limit N] [--public-key-share 0..1|ramp]
                                            the simulator's settings (the functions keep the WeChat Pay keys of
                                            the signing mode they started with)
  demo                                      login, order, pay, cashier pays, and the order paid

  What the console (http://127.0.0.1:8787/console) shows and does, from here:
  orders [--status S]                       the backend's orders, newest first, beside WeChat Pay's state
  inspect <orderId>                         one order: timeline, payments, WeChat Pay's ledger, deliveries, refunds
  pending                                   what a cashier can pay now: JSAPI prepays and Native QR codes
  scan <code_url> [--user U] [--as pay|cancel|fail|userpaying]
                                            a phone scans a Native QR code as local user U (default bob) and pays
  checkout [--item latte:2 ...]             a guest's Native order through the checkout API: its page URL (the
                                            token in the fragment), and the code_url to scan
  refunds                                   WeChat Pay's refunds (settle one with settle-refund)
  exceptions                                the backend's exceptions
  books                                     daily statements and alerts
  users                                     the backend's users and the local sessions
`;

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

async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new CliError(`cannot reach ${new URL(url).origin}: is the local cloud running (npm start)?`);
  }
  const text = await response.text();
  const value = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw new CliError(`${method} ${new URL(url).pathname} → ${response.status} ${text}`);
  return value;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  const { positional, options } = flags(rest);
  const opt = (name: string, fallback?: string) => options.get(name)?.at(-1) ?? fallback;
  const print = (value: unknown) => io.out(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  const cloud = io.cloudUrl.replace(/\/+$/, '');
  const index = async () => (await http('GET', `${cloud}/`)) as { wechatpay: string; appid: string };
  const payUrl = async () => (await index()).wechatpay;
  // what the mini-program's wx.requestPayment hands WeChat: the pay parameters and the app's appId (checked by the cashier)
  const requestPayment = async (action: string, params: Record<string, string>) => {
    const { wechatpay, appid } = await index();
    return http('POST', `${wechatpay}/sim/cashier/${action}`, { appId: appid, ...params });
  };
  const session = async (user: string) => ((await http('POST', `${cloud}/wxapi/_local/login`, { user })) as { session: string }).session;
  const call = async (fn: string, event: unknown, user: string) => {
    const { result } = (await http('POST', `${cloud}/functions/${fn}`, event, { 'X-WX-Session': await session(user) })) as { result: { ok: boolean; data?: unknown; error?: unknown } };
    if (!result.ok) throw new CliError(`${fn}: ${JSON.stringify(result.error)}`);
    return result.data;
  };
  // what the console reads (GET /console/api/overview): the backend's records beside WeChat Pay's
  const overview = async () =>
    (await http('GET', `${cloud}/console/api/overview`)) as {
      orders: { _id: string; status: string; totalFen: number; openid: string; guest: boolean; activePaymentId?: string }[];
      payments: { _id: string; orderId: string }[];
      refunds: { orderId: string }[];
      exceptions: unknown[];
      statements: unknown[];
      alerts: unknown[];
      users: unknown[];
      sessions: unknown[];
      wechatpay: { transactions: { out_trade_no: string; trade_state: string }[]; deliveries: { outTradeNo: string }[]; refunds: { out_trade_no: string }[] };
    };
  const need = (i: number, what: string) => {
    const value = positional[i];
    if (!value) throw new CliError(`missing ${what}\n\n${HELP}`);
    return value;
  };

  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
        io.out(HELP);
        return 0;
      case 'login':
        print(await http('POST', `${cloud}/wxapi/_local/login`, { user: positional[0] ?? 'alice' }));
        return 0;
      case 'call': {
        let event: unknown;
        try {
          event = JSON.parse(positional[1] ?? '{}');
        } catch {
          throw new CliError('the event must be JSON');
        }
        print(await call(need(0, 'function name'), event, opt('user', 'alice')!));
        return 0;
      }
      case 'order': {
        const items = (options.get('item') ?? ['latte:1']).map((spec) => {
          const [productId, quantity] = spec.split(':');
          return { productId, quantity: Number(quantity ?? 1) };
        });
        const order = (await call('orders', { action: 'confirm', requestId: `cli-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, items, contact: { name: '测试', phone: '13800138000' } }, opt('user', 'alice')!)) as { id: string; totalFen: number; status: string };
        print({ orderId: order.id, totalFen: order.totalFen, status: order.status });
        return 0;
      }
      case 'pay': {
        const orderId = need(0, 'orderId');
        const action = opt('as', 'pay')!;
        const paid = (await call('payment', { action: 'pay', orderId }, opt('user', 'alice')!)) as { prepayId: string; params: Record<string, string> };
        const result = action === 'none' ? { result: 'prepaid only', params: paid.params } : await requestPayment(action, paid.params);
        print({ orderId, prepayId: paid.prepayId, cashier: result });
        return 0;
      }
      case 'cashier':
        print(await http('POST', `${await payUrl()}/sim/cashier/${need(0, 'pay|cancel|fail')}`, { prepay_id: need(1, 'prepay_id') }));
        return 0;
      case 'notifications': {
        const order = opt('order');
        const deliveries = (await http('GET', `${await payUrl()}/sim/notifications`)) as { _id: string; eventType: string; outTradeNo: string; state: string; attempts: { status?: number; error?: string }[] }[];
        const shown = order ? deliveries.filter((d) => d.outTradeNo === order || d.outTradeNo.startsWith(`${order}P`)) : deliveries;
        for (const d of shown) io.out(`${d._id}  ${d.eventType.padEnd(18)} ${d.outTradeNo}  ${d.state.padEnd(9)} attempts: ${d.attempts.map((a) => a.status ?? a.error).join(', ') || '-'}`);
        if (shown.length === 0) io.out('no notifications');
        return 0;
      }
      case 'notification': {
        const d = (await http('GET', `${await payUrl()}/sim/notifications/${encodeURIComponent(need(0, 'notification id'))}`)) as {
          _id: string;
          eventType: string;
          outTradeNo: string;
          state: string;
          url: string;
          attempts: { at: string; kind: string; status?: number; error?: string; request?: { headers: Record<string, string>; body: string }; response?: { status: number; body: string } }[];
        };
        io.out(`${d._id}  ${d.eventType}  ${d.outTradeNo}  ${d.state}  → ${d.url}`);
        for (const [i, a] of d.attempts.entries()) {
          io.out(`attempt ${i + 1} (${a.kind}) at ${a.at}: ${a.status ?? a.error}`);
          for (const [name, value] of Object.entries(a.request?.headers ?? {})) io.out(`  > ${name}: ${value}`);
          io.out(`  > ${a.request?.body ?? ''}`);
          if (a.response) io.out(`  < ${a.response.status} ${a.response.body}`);
        }
        return 0;
      }
      case 'clock': {
        const url = `${await payUrl()}/sim/clock`;
        if (options.has('reset')) print(await http('DELETE', url));
        else if (opt('advance')) print(await http('POST', url, { advanceMs: Number(opt('advance')) }));
        else if (opt('to')) print(await http('POST', url, { now: /^\d+$/.test(opt('to')!) ? Number(opt('to')) : opt('to') }));
        else print(await http('GET', url));
        return 0;
      }
      case 'replay': {
        const d = (await http('POST', `${await payUrl()}/sim/notifications/${encodeURIComponent(need(0, 'notification id'))}/replay`)) as { state: string };
        print({ replayed: positional[0], state: d.state });
        return 0;
      }
      case 'fault': {
        const rule: Record<string, unknown> = { target: need(0, 'target'), kind: need(1, 'kind') };
        if (options.has('standing')) rule.times = null;
        else if (opt('times')) rule.times = Number(opt('times'));
        if (opt('delay')) rule.delayMs = Number(opt('delay'));
        if (opt('phase')) rule.phase = opt('phase');
        print(await http('POST', `${await payUrl()}/sim/faults`, rule));
        return 0;
      }
      case 'faults':
        print(await http(positional[0] === 'clear' ? 'DELETE' : 'GET', `${await payUrl()}/sim/faults`));
        return 0;
      case 'bill-fault': {
        const rule: Record<string, unknown> = { kind: need(0, 'kind') };
        if (opt('date')) rule.billDate = opt('date');
        if (opt('times')) rule.times = Number(opt('times'));
        if (opt('out-trade-no')) rule.outTradeNo = opt('out-trade-no');
        if (opt('out-refund-no')) rule.outRefundNo = opt('out-refund-no');
        if (opt('amount')) rule.amountFen = Number(opt('amount'));
        if (opt('state')) rule.refundStatus = opt('state');
        print(await http('POST', `${await payUrl()}/sim/bills/faults`, rule));
        return 0;
      }
      case 'bill-faults':
        print(await http(positional[0] === 'clear' ? 'DELETE' : 'GET', `${await payUrl()}/sim/bills/faults`));
        return 0;
      case 'bill-config': {
        const body: Record<string, unknown> = {};
        if (opt('fee-rate')) body.feeRateBp = Number(opt('fee-rate'));
        if (opt('link-lifetime')) body.linkLifetimeMs = Number(opt('link-lifetime'));
        if (opt('wrong-hashes')) body.wrongHashes = Number(opt('wrong-hashes'));
        print(await http(Object.keys(body).length ? 'POST' : 'GET', `${await payUrl()}/sim/bills/config`, Object.keys(body).length ? body : undefined));
        return 0;
      }
      case 'robot':
        print(await http('GET', `${cloud}/wecom/_local/messages`));
        return 0;
      case 'settle-refund':
        print(await http('POST', `${await payUrl()}/sim/refunds/${encodeURIComponent(need(0, 'out_refund_no'))}/settle`, positional[1] ? { status: positional[1] } : {}));
        return 0;
      case 'timer':
        print(await http('POST', `${cloud}/timers/${need(0, 'function name')}`));
        return 0;
      case 'ledger': {
        const txs = (await http('GET', `${await payUrl()}/sim/transactions`)) as { out_trade_no: string; trade_state: string; amount: { total: number } }[];
        for (const tx of txs) io.out(`${tx.out_trade_no}  ${tx.trade_state.padEnd(10)} ${tx.amount.total} fen`);
        if (txs.length === 0) io.out('no transactions');
        return 0;
      }
      case 'config': {
        const body: Record<string, unknown> = {};
        if (opt('signing')) body.signingMode = opt('signing');
        if (opt('time-factor')) body.timeFactor = Number(opt('time-factor'));
        if (opt('refund-delay')) body.refundDelayMs = Number(opt('refund-delay'));
        if (opt('refund-interval')) body.refundIntervalMs = Number(opt('refund-interval'));
        if (opt('error-limit')) body.refundErrorLimitPerSecond = Number(opt('error-limit'));
        if (opt('public-key-share')) body.publicKeyShare = opt('public-key-share') === 'ramp' ? null : Number(opt('public-key-share'));
        print(await http('POST', `${await payUrl()}/sim/config`, body));
        return 0;
      }
      case 'orders': {
        const data = await overview();
        const status = opt('status');
        const orders = data.orders.filter((o) => !status || o.status === status);
        for (const o of orders) {
          const tx = data.wechatpay.transactions.find((x) => x.out_trade_no === o.activePaymentId);
          io.out(`${o._id}  ${o.status.padEnd(18)} ${String(o.totalFen).padStart(7)} fen  ${(o.guest ? 'guest' : o.openid).padEnd(28)}  WeChat Pay: ${tx?.trade_state ?? '-'}`);
        }
        if (orders.length === 0) io.out('no orders');
        return 0;
      }
      case 'inspect': {
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
          refunds: { backend: data.refunds.filter((r) => r.orderId === id), wechatpay: data.wechatpay.refunds.filter((r) => nos.includes(r.out_trade_no)) },
        });
        return 0;
      }
      case 'pending': {
        const pending = (await http('GET', `${await payUrl()}/sim/cashier/pending`)) as {
          prepays: { prepay_id: string; out_trade_no: string; amount: number; payer: string }[];
          codes: { code_url: string; out_trade_no: string; amount: number; expires_at: string }[];
        };
        for (const p of pending.prepays) io.out(`JSAPI   ${p.out_trade_no}  ${String(p.amount).padStart(7)} fen  prepay ${p.prepay_id}  payer ${p.payer}`);
        for (const c of pending.codes) io.out(`NATIVE  ${c.out_trade_no}  ${String(c.amount).padStart(7)} fen  ${c.code_url}  until ${c.expires_at}`);
        if (pending.prepays.length + pending.codes.length === 0) io.out('nothing to pay');
        return 0;
      }
      case 'scan': {
        const codeUrl = need(0, 'code_url');
        const user = opt('user', 'bob')!;
        const { openid } = (await http('GET', `${cloud}/console/api/openid?user=${encodeURIComponent(user)}`)) as { openid: string };
        const answer = (await http('POST', `${await payUrl()}/sim/native/scan`, { code_url: codeUrl, openid, action: opt('as', 'pay') })) as { result: string; transaction: { out_trade_no: string; trade_state: string } };
        print({ result: answer.result, user, openid, out_trade_no: answer.transaction.out_trade_no, trade_state: answer.transaction.trade_state });
        return 0;
      }
      case 'checkout': {
        const { http: httpBase } = (await http('GET', `${cloud}/`)) as { http: string };
        const items = (options.get('item') ?? ['latte:1']).map((spec) => {
          const [productId, quantity] = spec.split(':');
          return { productId, quantity: Number(quantity ?? 1) };
        });
        const created = (await http('POST', `${httpBase}/checkout/api/orders`, { items })) as { token: string; order: { id: string; totalFen: number } };
        const paid = (await http('POST', `${httpBase}/checkout/api/order/pay`, undefined, { Authorization: `Bearer ${created.token}` })) as { order: { code?: { codeUrl: string; expiresAt: number } } };
        print({ orderId: created.order.id, totalFen: created.order.totalFen, page: `${httpBase}/checkout/#t=${created.token}`, codeUrl: paid.order.code?.codeUrl, codeExpiresAt: paid.order.code && new Date(paid.order.code.expiresAt).toISOString() });
        return 0;
      }
      case 'refunds': {
        const refunds = (await http('GET', `${await payUrl()}/sim/refunds`)) as { out_refund_no: string; out_trade_no: string; status: string; amount: { refund: number } }[];
        for (const r of refunds) io.out(`${r.out_refund_no}  ${r.out_trade_no}  ${r.status.padEnd(10)} ${r.amount.refund} fen`);
        if (refunds.length === 0) io.out('no refunds');
        return 0;
      }
      case 'exceptions':
        print((await overview()).exceptions);
        return 0;
      case 'books': {
        const data = await overview();
        print({ statements: data.statements, alerts: data.alerts });
        return 0;
      }
      case 'users': {
        const data = await overview();
        print({ users: data.users, sessions: data.sessions });
        return 0;
      }
      case 'demo': {
        const user = opt('user', 'alice')!;
        const order = (await call('orders', { action: 'confirm', requestId: `demo-${Date.now()}`, items: [{ productId: 'latte', quantity: 1 }], contact: { name: '测试', phone: '13800138000' } }, user)) as { id: string; totalFen: number };
        io.out(`1. order ${order.id} confirmed: ${order.totalFen} fen (priced by the server)`);
        const { prepayId, params } = (await call('payment', { action: 'pay', orderId: order.id }, user)) as { prepayId: string; params: Record<string, string> };
        io.out(`2. prepaid at WeChat Pay: ${prepayId}`);
        await requestPayment('pay', params);
        io.out('3. the cashier checked paySign and paid; WeChat Pay sends the notification');
        for (let i = 0; i < 50; i++) {
          const current = (await call('orders', { action: 'get', orderId: order.id }, user)) as { status: string };
          if (current.status === 'paid') {
            io.out(`4. order ${order.id} is paid (verified notification)`);
            return 0;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new CliError('the order did not become paid within 5 s');
      }
      default:
        throw new CliError(`unknown command ${command}\n\n${HELP}`);
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.out(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), { cloudUrl: process.env.LOCALCLOUD_URL ?? 'http://127.0.0.1:8787', out: (line) => console.log(line) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/**
 * The checkout web page: one small HTML document with its style and script inline (no framework, no library), served
 * by the checkout function at its root and exportable as a static file for cloud static hosting
 * (scripts/release/checkout-static.ts). Text in Chinese.
 *
 * The page talks only to the checkout API (`api/…` beside the page, or the URL in `<meta name="checkout-api">` when
 * hosted elsewhere). The order token lives in the URL fragment (`#t=…`), which browsers never send to a server, and is
 * sent only as `Authorization: Bearer`. It polls the order every 2 s for the first minute, then every 5 s, then every
 * 15 s after ten minutes, and stops when the order is no longer payable; it shows paid only when the API says so.
 */
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light; --green: #07c160; --ink: #1f2329; --mute: #6b7280; --line: #e5e7eb; --bg: #f5f6f7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 14px 24px; }
header h1 { margin: 0; font-size: 18px; }
header p { margin: 0; color: var(--mute); font-size: 13px; }
main { max-width: 960px; margin: 0 auto; padding: 20px 16px 40px; }
h2 { font-size: 16px; margin: 0 0 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; }
ul { list-style: none; margin: 0; padding: 0; }
.product { display: flex; align-items: center; gap: 12px; padding: 12px 0; border-bottom: 1px solid var(--line); }
.product:last-child { border-bottom: 0; }
.product .info { flex: 1; min-width: 0; }
.product .title { display: block; }
.product .desc { display: block; color: var(--mute); font-size: 13px; }
.product .price { font-weight: 600; white-space: nowrap; }
.stepper { display: flex; align-items: center; gap: 6px; }
.stepper button { width: 32px; height: 32px; padding: 0; border-radius: 16px; background: #fff; color: var(--ink); border: 1px solid var(--line); font-size: 18px; }
.stepper .qty { min-width: 24px; text-align: center; }
.bar { display: flex; justify-content: space-between; align-items: center; gap: 12px; margin-top: 16px; }
.bar b { font-size: 20px; }
button { font: inherit; cursor: pointer; border: 0; border-radius: 6px; padding: 10px 22px; background: var(--green); color: #fff; }
button:disabled { opacity: .45; cursor: default; }
button.secondary { background: #fff; color: var(--ink); border: 1px solid var(--line); }
.grid { display: grid; grid-template-columns: 1fr 320px; gap: 16px; align-items: start; }
.lines li { display: flex; justify-content: space-between; gap: 12px; padding: 6px 0; border-bottom: 1px dashed var(--line); }
.total { text-align: right; margin: 12px 0 0; }
.total b { font-size: 20px; }
.muted { color: var(--mute); font-size: 13px; }
#status { display: inline-block; margin: 8px 0 0; padding: 2px 10px; border-radius: 10px; background: #fff7e6; color: #ad6800; font-size: 13px; }
#status[data-status="paid"] { background: #e8f8ee; color: #05803f; }
#pay { text-align: center; }
.qr { position: relative; width: 240px; height: 240px; margin: 0 auto 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.qr img { display: block; width: 100%; height: 100%; image-rendering: pixelated; }
.qr .veil { display: none; position: absolute; inset: 0; flex-direction: column; align-items: center; justify-content: center; gap: 10px; background: rgba(255, 255, 255, .95); }
.qr.lapsed .veil { display: flex; }
.qr.lapsed img { visibility: hidden; }
.qr.loading img { visibility: hidden; }
.amount b { font-size: 24px; color: #fa5151; }
#countdown { margin: 0 0 8px; font-variant-numeric: tabular-nums; }
#done, #ended { text-align: center; }
.tick { width: 56px; height: 56px; margin: 4px auto 8px; border-radius: 28px; background: var(--green); color: #fff; font-size: 32px; line-height: 56px; }
#message { min-height: 22px; color: #c2410c; margin: 12px 0 0; }
@media (max-width: 720px) {
  header { padding: 12px 16px; }
  main { padding: 12px 10px 32px; }
  .grid { grid-template-columns: 1fr; }
  #pay, #done { order: -1; }
  .card { padding: 14px; }
  .product .desc { display: none; }
}
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="checkout-api"]');
  var here = location.pathname;
  var base = meta && meta.getAttribute('content') ? meta.getAttribute('content').replace(/\/?$/, '/') : /\.html?$/.test(here) ? here.replace(/[^/]*$/, '') : here.replace(/\/?$/, '/');
  var STATUS = { pending_payment: '待支付', paid: '已支付', refunding: '退款中', partially_refunded: '已部分退款', refunded: '已退款', cancelled: '已取消', closed: '已关闭', review: '处理中' };
  var PAID = ['paid', 'refunding', 'partially_refunded', 'refunded'];
  var state = { products: [], qty: {}, token: null, order: null, offset: 0, shownAt: 0, poll: 0, tick: 0, gen: 0, busy: false, backoffUntil: 0 };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function two(n) { return n < 10 ? '0' + n : String(n); }
  function yuan(fen) { return '¥' + Math.floor(fen / 100) + '.' + two(fen % 100); }
  function left(ms) { var s = Math.max(0, Math.ceil(ms / 1000)); var h = Math.floor(s / 3600); var m = Math.floor((s % 3600) / 60); return (h ? h + ':' + two(m) : two(m)) + ':' + two(s % 60); }
  function hhmm(at) { var d = new Date(at); return two(d.getHours()) + ':' + two(d.getMinutes()); }
  function say(text) { $('message').textContent = text || ''; }
  function stop() { clearTimeout(state.poll); clearTimeout(state.tick); state.gen++; }

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(base + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (res.ok) return json;
        var error = new Error((json.error && json.error.message) || '网络繁忙，请稍后再试');
        error.status = res.status;
        error.retryAfter = Number(res.headers.get('Retry-After')) || 0;
        throw error;
      });
    }, function () { throw new Error('网络连接失败，请检查网络后重试'); });
  }

  // ---- choosing items -------------------------------------------------------------------------------------------
  function showShop() {
    stop();
    state.token = null;
    state.order = null;
    $('shop').hidden = false;
    $('order').hidden = true;
    say('');
    if (state.products.length) return renderShop();
    api('GET', 'api/catalog').then(function (answer) { state.products = answer.products; renderShop(); }, function (e) { say(e.message); });
  }

  function renderShop() {
    var list = $('products');
    list.textContent = '';
    state.products.forEach(function (p) {
      var q = state.qty[p.id] || 0;
      var li = el('li', 'product');
      li.setAttribute('data-id', p.id);
      var info = el('div', 'info');
      info.appendChild(el('b', 'title', p.title));
      info.appendChild(el('span', 'desc', p.description));
      var minus = el('button', 'minus', '−');
      var plus = el('button', 'plus', '+');
      minus.type = plus.type = 'button';
      minus.disabled = q === 0;
      plus.disabled = q >= p.maxPerOrder;
      minus.setAttribute('aria-label', '减少' + p.title);
      plus.setAttribute('aria-label', '增加' + p.title);
      minus.onclick = function () { state.qty[p.id] = q - 1; renderShop(); };
      plus.onclick = function () { state.qty[p.id] = q + 1; renderShop(); };
      var stepper = el('div', 'stepper');
      stepper.appendChild(minus);
      stepper.appendChild(el('span', 'qty', String(q)));
      stepper.appendChild(plus);
      li.appendChild(info);
      li.appendChild(el('span', 'price', yuan(p.priceFen)));
      li.appendChild(stepper);
      list.appendChild(li);
    });
    var total = state.products.reduce(function (sum, p) { return sum + p.priceFen * (state.qty[p.id] || 0); }, 0);
    $('cart-total').textContent = yuan(total);
    $('submit').disabled = total === 0 || state.busy;
  }

  $('submit').onclick = function () {
    var items = state.products.filter(function (p) { return state.qty[p.id] > 0; }).map(function (p) { return { productId: p.id, quantity: state.qty[p.id] }; });
    if (!items.length || state.busy) return;
    state.busy = true;
    $('submit').disabled = true;
    say('正在下单…');
    api('POST', 'api/orders', { items: items }).then(function (created) {
      state.qty = {};
      state.token = created.token;
      location.hash = 't=' + created.token;
      openOrder(created.token, created);
    }, function (e) { say(e.message); }).then(function () { state.busy = false; if (!state.token) renderShop(); });
  };

  // ---- paying an order ------------------------------------------------------------------------------------------
  function openOrder(token, first) {
    stop();
    state.token = token;
    state.order = null;
    state.shownAt = Date.now();
    $('shop').hidden = true;
    $('order').hidden = false;
    ['summary', 'pay', 'done', 'ended'].forEach(function (id) { $(id).hidden = true; });
    say(first ? '' : '正在读取订单…');
    var gen = state.gen;
    (first ? Promise.resolve(first) : api('GET', 'api/order')).then(function (answer) {
      if (gen !== state.gen) return;
      say('');
      render(answer);
      if (answer.order.status === 'pending_payment' && !answer.order.code) return newCode(gen);
    }).catch(fail).then(function () { if (gen === state.gen) schedule(); });
  }

  function newCode(gen) {
    $('refresh').disabled = true;
    return api('POST', 'api/order/pay').then(function (answer) { if (gen === state.gen) render(answer); }, fail).then(function () { $('refresh').disabled = false; });
  }

  function fail(e) {
    if (e.status === 404) {
      stop();
      state.order = null;
      ['summary', 'pay', 'done'].forEach(function (id) { $(id).hidden = true; });
      $('ended').hidden = false;
      $('ended-title').textContent = '订单不存在';
      $('ended-text').textContent = '链接有误，或订单不属于这个链接。';
      say('');
      return;
    }
    if (e.status === 429 && e.retryAfter) state.backoffUntil = Date.now() + e.retryAfter * 1000;
    say(e.message);
  }

  function schedule() {
    clearTimeout(state.poll);
    if (!state.order || state.order.status !== 'pending_payment') return;
    var age = Date.now() - state.shownAt;
    var every = age < 60000 ? 2000 : age < 600000 ? 5000 : 15000;
    var gen = state.gen;
    state.poll = setTimeout(function () {
      api('GET', 'api/order').then(function (answer) { if (gen === state.gen) render(answer); }, function (e) { if (gen === state.gen) fail(e); }).then(function () { if (gen === state.gen) schedule(); });
    }, Math.max(every, state.backoffUntil - Date.now()));
  }

  function render(answer) {
    var o = answer.order;
    state.order = o;
    state.offset = answer.now - Date.now();
    $('summary').hidden = false;
    $('order-id').textContent = o.id;
    var lines = $('order-items');
    lines.textContent = '';
    o.items.forEach(function (item) {
      var li = el('li');
      li.appendChild(el('span', '', item.title + ' × ' + item.quantity));
      li.appendChild(el('span', '', yuan(item.subtotalFen)));
      lines.appendChild(li);
    });
    $('order-total').textContent = yuan(o.totalFen);
    var status = $('status');
    status.textContent = STATUS[o.status] || o.status;
    status.setAttribute('data-status', o.status);
    var pending = o.status === 'pending_payment';
    var paid = PAID.indexOf(o.status) >= 0;
    $('pay').hidden = !pending;
    $('done').hidden = !paid;
    $('ended').hidden = pending || paid;
    $('order-expiry').textContent = pending ? '请在 ' + hhmm(o.expiresAt) + ' 前完成支付，逾期订单自动关闭' : '';
    if (pending) {
      $('amount').textContent = yuan(o.totalFen);
      var img = $('qr-img');
      if (o.code && img.getAttribute('data-code') !== o.code.codeUrl) {
        img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(o.code.svg);
        img.setAttribute('data-code', o.code.codeUrl);
      }
    } else if (paid) {
      $('done-title').textContent = o.status === 'paid' ? '支付成功' : '支付成功 · ' + STATUS[o.status];
      $('paid-at').textContent = (o.paidAt ? '支付时间 ' + new Date(o.paidAt).toLocaleString('zh-CN', { hour12: false }) + ' · ' : '') + '实付 ' + yuan(o.totalFen);
    } else {
      $('ended-title').textContent = o.status === 'review' ? '订单处理中' : '订单' + (STATUS[o.status] || '已结束');
      $('ended-text').textContent = o.status === 'review' ? '支付结果需要人工核对，请联系商家。' : '该订单已不能支付，可以重新下单。';
    }
    tick();
  }

  function tick() {
    clearTimeout(state.tick);
    var o = state.order;
    if (!o || o.status !== 'pending_payment') return;
    if (!o.code) {
      $('qr').className = 'qr loading';
      $('countdown').textContent = '正在生成二维码…';
      return;
    }
    var rest = o.code.expiresAt - (Date.now() + state.offset);
    var lapsed = o.code.lapsed || rest <= 0;
    $('qr').className = lapsed ? 'qr lapsed' : 'qr';
    $('countdown').textContent = lapsed ? '二维码已失效，请刷新后重新扫码' : '二维码 ' + left(rest) + ' 后失效';
    if (!lapsed) state.tick = setTimeout(tick, 1000);
  }

  $('refresh').onclick = function () { say(''); newCode(state.gen); };
  $('check').onclick = function () {
    var gen = state.gen;
    $('check').disabled = true;
    api('POST', 'api/order/check').then(function (answer) {
      if (gen !== state.gen) return;
      render(answer);
      say(answer.order.status === 'pending_payment' ? '暂未查询到支付结果；支付完成后本页会自动更新' : '');
    }, fail).then(function () { $('check').disabled = false; });
  };

  function tokenFromHash() { var m = /^#t=([A-Za-z0-9_-]{43})$/.exec(location.hash); return m ? m[1] : null; }
  function start() { var token = tokenFromHash(); if (token) openOrder(token); else showShop(); }
  window.addEventListener('hashchange', function () { if (!state.token || tokenFromHash() !== state.token) start(); });
  start();
})();
`;

const BODY = `
<header><h1>小店 · 网页下单</h1><p>微信扫码支付</p></header>
<main>
  <section id="shop" class="card" hidden>
    <h2>选择商品</h2>
    <ul id="products"></ul>
    <div class="bar"><span>合计 <b id="cart-total">¥0.00</b></span><button id="submit" type="button" disabled>提交订单</button></div>
  </section>
  <section id="order" hidden>
    <div class="grid">
      <div id="summary" class="card" hidden>
        <h2>订单 <span id="order-id" class="muted"></span></h2>
        <ul id="order-items" class="lines"></ul>
        <p class="total">应付 <b id="order-total"></b></p>
        <p id="status" data-status=""></p>
        <p id="order-expiry" class="muted"></p>
      </div>
      <div id="pay" class="card" hidden>
        <div id="qr" class="qr loading"><img id="qr-img" alt="微信支付二维码" width="240" height="240"><div class="veil"><p>二维码已失效</p><button id="refresh" type="button">刷新二维码</button></div></div>
        <p class="amount">扫码支付 <b id="amount"></b></p>
        <p id="countdown" class="muted"></p>
        <p class="muted">请使用微信“扫一扫”扫描二维码完成支付</p>
        <button id="check" type="button" class="secondary">我已支付</button>
      </div>
      <div id="done" class="card" hidden>
        <div class="tick">✓</div>
        <h2 id="done-title">支付成功</h2>
        <p id="paid-at" class="muted"></p>
        <a href="#">再来一单</a>
      </div>
      <div id="ended" class="card" hidden>
        <h2 id="ended-title">订单已关闭</h2>
        <p id="ended-text" class="muted"></p>
        <a href="#">重新下单</a>
      </div>
    </div>
  </section>
  <p id="message" role="status" aria-live="polite"></p>
</main>
`;

/** Where scripts/release/checkout-static.ts puts `<meta name="checkout-api" content="…">` for a page hosted apart from its API. */
export const API_META_PLACEHOLDER = '<!-- checkout-api -->';

export const CHECKOUT_PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${API_META_PLACEHOLDER}
<title>扫码支付 · 网页下单</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
const styleHash = createHash('sha256').update(STYLE).digest('base64');

/**
 * The page's Content-Security-Policy: its own inline script and style only, QR images from data: URLs, its API
 * (`connect`: the API's origin when the page is hosted elsewhere). `frame-ancestors` only as a header.
 */
export function checkoutCsp(connect = "'self'", header = true): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    `style-src 'sha256-${styleHash}'`,
    'img-src data:',
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    ...(header ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

export const CHECKOUT_CSP = checkoutCsp();

/**
 * The page for static hosting, apart from its API: the API's URL in `<meta name="checkout-api">` and the policy in a
 * meta tag (static hosting sets no such header).
 */
export function staticCheckoutPage(apiUrl: string): string {
  const api = new URL(apiUrl);
  const attr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const meta = [
    `<meta http-equiv="Content-Security-Policy" content="${attr(checkoutCsp(api.origin, false))}">`,
    `<meta name="checkout-api" content="${attr(api.href)}">`,
  ].join('\n');
  return CHECKOUT_PAGE.replace(API_META_PLACEHOLDER, meta);
}

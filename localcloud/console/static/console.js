/* global document, window, location, EventSource */
/*
 * The local cloud console: plain DOM, no framework. Reads /console/api/overview whenever the server-sent event stream
 * says something changed, and acts only through the WeChat Pay simulator's control API (/console/api/sim/… passes
 * to /sim/…) and the cloud's timers: the same calls the CLI makes.
 */
(function () {
  'use strict';

  var API = '/console/api/';
  var TABS = ['orders', 'deliveries', 'faults', 'cashier', 'refunds', 'books', 'users', 'wechatpay'];
  var FAULTS = {
    api: ['SYSTEM_ERROR', 'FREQUENCY_LIMITED', 'SLOW', 'TIMEOUT'],
    refund: ['SYSTEM_ERROR', 'FREQUENCY_LIMITED', 'SLOW', 'TIMEOUT', 'NOT_ENOUGH', 'USER_ACCOUNT_ABNORMAL'],
    notify: ['DROP', 'DUPLICATE', 'DELAY', 'REORDER', 'SIGNTEST'],
    'refund-outcome': ['ABNORMAL', 'CLOSED'],
  };
  var TARGETS = [
    'notify',
    'refund-outcome',
    'prepay',
    'query',
    'close',
    'refund',
    'refund-query',
    'abnormal-refund',
    'certificates',
    'bill',
    'bill-download',
    'any',
  ];
  var MEANING = {
    DROP: 'the next notification is lost, until replayed',
    DUPLICATE: 'the next notification is delivered twice at once',
    DELAY: 'the next notification leaves late (Delay ms)',
    REORDER: 'the next notification is held until the one after it has gone',
    SIGNTEST: 'a WECHATPAY/SIGNTEST/ probe goes first; the merchant must refuse it',
    ABNORMAL: 'the next accepted refund ends ABNORMAL (money left the merchant, the user\u2019s account refused it)',
    CLOSED: 'the next accepted refund ends CLOSED (its amount refundable again)',
    SYSTEM_ERROR: '500: WeChat Pay failed; retry with the same number',
    FREQUENCY_LIMITED: '429: nothing was done; retry later',
    SLOW: 'a late answer (Delay ms)',
    TIMEOUT: 'no answer; with phase after, done but the answer is lost',
    NOT_ENOUGH: '403: the merchant\u2019s balance is short; nothing recorded',
    USER_ACCOUNT_ABNORMAL: '403: the payer\u2019s account is closed; nothing recorded',
  };

  var state = {
    data: null,
    tab: 'orders',
    order: null,
    delivery: null,
    deliveryDetail: null,
    loading: false,
    again: false,
    openid: '',
  };

  // ---- small helpers ----------------------------------------------------------------------------------------------
  function $(id) {
    return document.getElementById(id);
  }
  function h(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      if (k === 'class') node.className = a[k];
      else if (k === 'text') node.textContent = a[k];
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), a[k]);
      else if (a[k] !== undefined && a[k] !== null && a[k] !== false) node.setAttribute(k, a[k] === true ? '' : a[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function two(n) {
    return n < 10 ? '0' + n : String(n);
  }
  function money(fen) {
    return fen === undefined || fen === null ? '' : '\u00a5' + Math.floor(fen / 100) + '.' + two(fen % 100);
  }
  function time(value) {
    if (value === undefined || value === null || value === '') return '';
    var d = new Date(typeof value === 'string' && !/^\d+$/.test(value) ? Date.parse(value) : Number(value));
    if (isNaN(d.getTime())) return String(value);
    return (
      d.getFullYear() +
      '-' +
      two(d.getMonth() + 1) +
      '-' +
      two(d.getDate()) +
      ' ' +
      two(d.getHours()) +
      ':' +
      two(d.getMinutes()) +
      ':' +
      two(d.getSeconds())
    );
  }
  function badge(text) {
    var good = /^(paid|success|SUCCESS|delivered|done|resolved|REFUND|refunded|pay)$/.test(text);
    var bad =
      /^(dropped|failed|closed|CLOSED|cancelled|review|open|ABNORMAL|abnormal|PAYERROR|failed_precondition|error)$/.test(
        text,
      ) || /mismatch|reject|invalid/.test(text);
    return h('span', { class: 'badge' + (good ? ' good' : bad ? ' bad' : ' warn') }, text);
  }
  function table(headers, rows, empty) {
    if (!rows.length) return h('div', { class: 'empty' }, empty || 'nothing yet');
    var head = h('tr');
    headers.forEach(function (title) {
      head.appendChild(h('th', null, title));
    });
    var body = h('tbody');
    rows.forEach(function (row) {
      body.appendChild(row);
    });
    return h('div', { class: 'table' }, h('table', null, h('thead', null, head), body));
  }
  function cells(tr, values) {
    values.forEach(function (value) {
      tr.appendChild(
        value && value.nodeType ? h('td', null, value) : h('td', null, value === undefined ? '' : String(value)),
      );
    });
    return tr;
  }
  /** Replaces a container's content, unless what it shows is unchanged (a button under the pointer stays put). */
  var shown = {};
  function put(id, node, key) {
    if (key !== undefined && shown[id] === key) return;
    shown[id] = key;
    var box = $(id);
    box.textContent = '';
    if (node) box.appendChild(node);
  }
  function keyOf() {
    return JSON.stringify(Array.prototype.slice.call(arguments));
  }
  function say(text) {
    $('message').textContent = text || '';
  }
  function userOf(openid) {
    if (!openid) return '';
    var found = (state.data.sessions || []).filter(function (s) {
      return s.openid === openid;
    })[0];
    return found ? found.user : openid;
  }

  function call(method, path, body) {
    var init = { method: method, headers: { 'Content-Type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(API + path, init).then(function (res) {
      return res.text().then(function (text) {
        var value = text ? JSON.parse(text) : undefined;
        if (!res.ok) throw new Error((value && (value.message || value.code)) || res.status + ' ' + res.statusText);
        return value;
      });
    });
  }
  /** Runs a control API action from a button: disabled while it runs, errors shown, the view refreshed after. */
  function act(button, method, path, body, done) {
    if (button) button.disabled = true;
    say('');
    return call(method, path, body)
      .then(
        function (value) {
          if (done) done(value);
          return refresh();
        },
        function (error) {
          say(error.message);
        },
      )
      .then(function () {
        if (button) button.disabled = false;
      });
  }

  // ---- data ------------------------------------------------------------------------------------------------------
  function refresh() {
    if (state.loading) {
      state.again = true;
      return Promise.resolve();
    }
    state.loading = true;
    return call('GET', 'overview')
      .then(
        function (data) {
          state.data = data;
          render();
        },
        function (error) {
          say(error.message);
        },
      )
      .then(function () {
        state.loading = false;
        if (state.again) {
          state.again = false;
          return refresh();
        }
      });
  }

  function listen() {
    var source = new EventSource('/console/events');
    source.addEventListener('hello', function () {
      $('live').className = 'live';
      $('live').textContent = 'live';
      refresh();
    });
    source.addEventListener('change', function () {
      refresh();
    });
    source.onerror = function () {
      $('live').className = 'live off';
      $('live').textContent = 'reconnecting…';
    };
  }

  // ---- rendering ---------------------------------------------------------------------------------------------------
  function render() {
    var d = state.data;
    $('clock-now').textContent = time(d.clock.now);
    $('clock-offset').textContent = d.clock.offsetMs
      ? '(+' + Math.round(d.clock.offsetMs / 60000) + ' min ahead of wall time)'
      : '(wall time)';
    renderOrders();
    renderOrderDetail();
    renderDeliveries();
    renderFaults();
    renderCashier();
    renderRefunds();
    renderBooks();
    renderUsers();
    renderWechatPay();
  }

  function paymentsOf(orderId) {
    return state.data.payments.filter(function (p) {
      return p.orderId === orderId;
    });
  }
  function txOf(outTradeNo) {
    return state.data.wechatpay.transactions.filter(function (t) {
      return t.out_trade_no === outTradeNo;
    })[0];
  }
  function deliveriesOf(outTradeNos) {
    return state.data.wechatpay.deliveries.filter(function (d) {
      return outTradeNos.indexOf(d.outTradeNo) >= 0;
    });
  }
  function verdictOf(id) {
    var entries = state.data.notificationLog.filter(function (e) {
      return e.notificationId === id;
    });
    return entries.length ? entries[0].verdict : '';
  }

  function renderOrders() {
    var d = state.data;
    var key = keyOf(d.orders, d.payments, d.wechatpay.transactions, d.wechatpay.deliveries, d.sessions, state.order);
    if (shown.orders === key) return;
    var rows = state.data.orders.map(function (o) {
      var outTradeNos = paymentsOf(o._id).map(function (p) {
        return p._id;
      });
      var tx = o.activePaymentId ? txOf(o.activePaymentId) : undefined;
      var ds = deliveriesOf(outTradeNos);
      var tr = h('tr', {
        class: 'pick' + (state.order === o._id ? ' selected' : ''),
        'data-order': o._id,
        onclick: function () {
          state.order = o._id;
          renderOrders();
          renderOrderDetail();
        },
      });
      return cells(tr, [
        h('span', { class: 'mono' }, o._id),
        o.guest ? h('span', { class: 'badge' }, 'guest (Native)') : userOf(o.openid),
        h('span', { class: 'status' }, badge(o.status)),
        money(o.totalFen),
        money(o.paidFen),
        o.refundedFen ? money(o.refundedFen) : '',
        tx ? badge(tx.trade_state) : '',
        ds
          .map(function (x) {
            return x.state;
          })
          .join(', '),
        time(o.createdAt),
      ]);
    });
    put(
      'orders',
      table(
        ['Order', 'Owner', 'Status', 'Total', 'Paid', 'Refunded', 'At WeChat Pay', 'Deliveries', 'Created'],
        rows,
        'No orders yet. Make one: npm run localcloud -- order, or the checkout page at /http/checkout/',
      ),
      key,
    );
  }

  function renderOrderDetail() {
    var d = state.data;
    var o = d.orders.filter(function (x) {
      return x._id === state.order;
    })[0];
    var key = keyOf(o, d.payments, d.wechatpay, d.refunds, d.notificationLog, d.sessions);
    if (!o) return put('order-detail', null, key);
    if (shown['order-detail'] === key) return;
    var payments = paymentsOf(o._id);
    var nos = payments.map(function (p) {
      return p._id;
    });
    var timeline = h('ol', { class: 'timeline' });
    (o.timeline || []).forEach(function (e) {
      timeline.appendChild(h('li', null, time(e.at) + '  ' + e.event + (e.detail ? ' \u2014 ' + e.detail : '')));
    });
    var items = (o.items || [])
      .map(function (i) {
        return i.title + ' \u00d7 ' + i.quantity;
      })
      .join(', ');
    var paymentRows = payments.map(function (p) {
      return cells(h('tr'), [
        h('span', { class: 'mono' }, p._id),
        p.tradeType || 'JSAPI',
        badge(p.status),
        money(p.amountFen),
        time(p.prepayExpiresAt),
        h('span', { class: 'mono' }, p.transactionId || ''),
      ]);
    });
    var txRows = nos
      .map(txOf)
      .filter(Boolean)
      .map(function (t) {
        return cells(h('tr'), [
          h('span', { class: 'mono' }, t.out_trade_no),
          t.trade_type,
          badge(t.trade_state),
          money(t.amount.total),
          userOf(t.payer),
          h('span', { class: 'mono' }, t.transaction_id || ''),
        ]);
      });
    var simRefundRows = state.data.wechatpay.refunds
      .filter(function (r) {
        return nos.indexOf(r.out_trade_no) >= 0;
      })
      .map(simRefundRow);
    var refundRows = state.data.refunds
      .filter(function (r) {
        return r.orderId === o._id;
      })
      .map(refundRow);
    var deliveryRows = deliveriesOf(nos).map(deliveryRow);
    put(
      'order-detail',
      h(
        'div',
        { class: 'detail', id: 'order-' + o._id },
        h('h3', null, 'Order ' + o._id + ' ', badge(o.status)),
        h(
          'p',
          null,
          items +
            ' \u00b7 total ' +
            money(o.totalFen) +
            ' \u00b7 expires ' +
            time(o.expiresAt) +
            (o.guest
              ? ' \u00b7 a guest\u2019s order (its token is the only way in; only its hash is kept)'
              : ' \u00b7 owner ' + userOf(o.openid)),
        ),
        h(
          'div',
          { class: 'grid2' },
          h('div', null, h('h3', null, 'Timeline'), timeline),
          h(
            'div',
            null,
            h('h3', null, 'Payments (backend)'),
            table(
              ['out_trade_no', 'Type', 'Status', 'Amount', 'Prepay until', 'transaction_id'],
              paymentRows,
              'no payment yet',
            ),
            h('h3', null, 'WeChat Pay\u2019s ledger'),
            table(
              ['out_trade_no', 'Type', 'State', 'Amount', 'Payer', 'transaction_id'],
              txRows,
              'WeChat Pay knows nothing of it yet',
            ),
          ),
        ),
        h('h3', null, 'Deliveries'),
        table(
          ['Notification', 'Event', 'out_trade_no', 'State', 'Attempts', 'Verdict', ''],
          deliveryRows,
          'no notification yet',
        ),
        h('h3', null, 'Refunds at WeChat Pay'),
        table(['out_refund_no', 'out_trade_no', 'Amount', 'Status', 'Ends as', 'Created', ''], simRefundRows, 'none'),
        h('h3', null, 'Refunds in the backend'),
        table(['out_refund_no', 'Amount', 'Status', 'By', 'Reason', 'Created'], refundRows, 'none'),
      ),
      key,
    );
  }

  function deliveryRow(d) {
    var replay = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-replay': d._id,
        onclick: function (e) {
          e.stopPropagation();
          act(e.target, 'POST', 'sim/notifications/' + encodeURIComponent(d._id) + '/replay');
        },
      },
      'Replay',
    );
    var show = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-show': d._id,
        onclick: function (e) {
          e.stopPropagation();
          showDelivery(d._id);
        },
      },
      'Show',
    );
    var attempts = d.attempts
      .map(function (a) {
        return a.kind + ' ' + (a.status !== undefined ? a.status : a.error || '\u2013');
      })
      .join(', ');
    return cells(h('tr', { 'data-delivery': d._id }), [
      h('span', { class: 'mono' }, d._id.slice(0, 12) + '\u2026'),
      d.eventType,
      h('span', { class: 'mono' }, d.outTradeNo + (d.outRefundNo ? ' / ' + d.outRefundNo : '')),
      h('span', { class: 'state' }, badge(d.state)),
      attempts || '\u2013',
      verdictOf(d._id) ? badge(verdictOf(d._id)) : '',
      h('span', null, replay, ' ', show),
    ]);
  }

  function renderDeliveries() {
    var key = keyOf(state.data.wechatpay.deliveries, state.data.notificationLog);
    if (shown.deliveries !== key) {
      var rows = state.data.wechatpay.deliveries.slice().reverse().map(deliveryRow);
      put(
        'deliveries',
        table(
          ['Notification', 'Event', 'out_trade_no / out_refund_no', 'State', 'Attempts', 'Verdict', ''],
          rows,
          'No notification sent yet',
        ),
        key,
      );
    }
    renderDeliveryDetail();
  }

  function showDelivery(id) {
    state.delivery = id;
    call('GET', 'sim/notifications/' + encodeURIComponent(id)).then(
      function (detail) {
        state.deliveryDetail = detail;
        if (state.tab !== 'deliveries') switchTab('deliveries');
        renderDeliveryDetail();
      },
      function (error) {
        say(error.message);
      },
    );
  }

  function headerText(headers) {
    return Object.keys(headers || {})
      .map(function (k) {
        return k + ': ' + headers[k];
      })
      .join('\n');
  }

  function renderDeliveryDetail() {
    var d = state.deliveryDetail;
    var key = keyOf(d, d ? verdictOf(d._id) : '');
    if (!d) return put('delivery-detail', null, key);
    var parts = [
      h('h3', null, 'Delivery ' + d._id + ' ', badge(d.state)),
      h('p', { class: 'mono' }, d.eventType + ' \u2192 ' + d.url),
      h('p', null, 'Backend verdict: ', verdictOf(d._id) ? badge(verdictOf(d._id)) : 'none logged'),
    ];
    if (!d.attempts.length)
      parts.push(
        h(
          'p',
          { class: 'muted' },
          d.state === 'dropped' ? 'Dropped: never sent. Replay sends it now.' : 'No attempt yet.',
        ),
      );
    d.attempts.forEach(function (a, i) {
      parts.push(
        h(
          'h3',
          null,
          'Attempt ' +
            (i + 1) +
            ' (' +
            a.kind +
            ') at ' +
            a.at +
            ': ' +
            (a.status !== undefined ? a.status : a.error) +
            ' in ' +
            a.ms +
            ' ms',
        ),
      );
      parts.push(
        h(
          'div',
          { class: 'grid2' },
          h(
            'div',
            null,
            h('b', null, 'Sent'),
            h('pre', null, headerText(a.request.headers)),
            h('pre', null, a.request.body),
          ),
          h(
            'div',
            null,
            h('b', null, 'Answer'),
            a.response
              ? h('pre', null, a.response.status + '\n' + headerText(a.response.headers))
              : h('pre', null, a.error || 'none'),
            a.response && a.response.body ? h('pre', null, a.response.body) : null,
          ),
        ),
      );
    });
    put('delivery-detail', h.apply(null, ['div', { class: 'detail' }].concat(parts)), key);
  }

  function renderFaults() {
    var rows = state.data.faults.map(function (f) {
      return cells(h('tr', { 'data-fault': f.target + ':' + f.kind }), [
        f.target,
        badge(f.kind),
        f.times === null ? 'standing' : f.times + ' left',
        f.delayMs !== undefined ? f.delayMs + ' ms' : '',
        f.phase || '',
        MEANING[f.kind] || '',
      ]);
    });
    put(
      'faults',
      table(['Target', 'Kind', 'Times', 'Delay', 'Phase', 'At WeChat Pay'], rows, 'No fault: WeChat Pay behaves.'),
      keyOf(state.data.faults),
    );
    var billRows = (state.data.billFaults || []).map(function (f) {
      return cells(h('tr', { 'data-bill-fault': f.kind }), [
        badge(f.kind),
        f.billDate || f.times + ' next bill' + (f.times > 1 ? 's' : ''),
        f.outTradeNo || '',
        f.outRefundNo || '',
        f.amountFen !== undefined ? money(f.amountFen) : '',
        f.refundStatus || '',
      ]);
    });
    put(
      'bill-faults',
      table(
        ['Kind', 'Bills', 'out_trade_no', 'out_refund_no', 'Amount', 'Refund state'],
        billRows,
        'No bill fault: the bills are true.',
      ),
      keyOf(state.data.billFaults),
    );
  }

  function cashierButtons(kind, key, actions, labels) {
    var span = h('span');
    actions.forEach(function (action, i) {
      span.appendChild(
        h(
          'button',
          {
            type: 'button',
            class: action === 'pay' ? '' : 'secondary',
            'data-act': action,
            'data-key': key,
            onclick: function (e) {
              if (kind === 'prepay') act(e.target, 'POST', 'sim/cashier/' + action, { prepay_id: key });
              else act(e.target, 'POST', 'sim/native/scan', { code_url: key, openid: state.openid, action: action });
            },
          },
          labels[i],
        ),
      );
      span.appendChild(document.createTextNode(' '));
    });
    return span;
  }

  function renderCashier() {
    var pending = state.data.wechatpay.pending;
    var prepayRows = pending.prepays.map(function (p) {
      return cells(h('tr', { 'data-prepay': p.prepay_id }), [
        cashierButtons('prepay', p.prepay_id, ['pay', 'cancel', 'fail'], ['Pay', 'Cancel', 'Fail']),
        money(p.amount),
        h('span', { class: 'mono' }, p.out_trade_no),
        p.description,
        userOf(p.payer),
        time(p.expires_at),
      ]);
    });
    put(
      'prepays',
      table(
        ['', 'Amount', 'out_trade_no', 'Description', 'Payer', 'Prepay until'],
        prepayRows,
        'No mini-program payment waiting.',
      ),
      keyOf(pending.prepays, state.data.sessions),
    );
    var codeRows = pending.codes.map(function (c) {
      return cells(h('tr', { 'data-code': c.code_url }), [
        cashierButtons('code', c.code_url, ['pay', 'cancel', 'fail'], ['Scan & pay', 'Scan & cancel', 'Scan & fail']),
        money(c.amount),
        h('span', { class: 'mono' }, c.out_trade_no),
        c.description,
        h('span', { class: 'mono' }, c.code_url),
        time(c.expires_at),
      ]);
    });
    put(
      'codes',
      table(['', 'Amount', 'out_trade_no', 'Description', 'code_url', 'Lapses'], codeRows, 'No QR code waiting.'),
      keyOf(pending.codes),
    );
  }

  function simRefundRow(r) {
    var buttons = h('span');
    var outcomes =
      r.status === 'PROCESSING'
        ? ['SUCCESS', 'CLOSED', 'ABNORMAL']
        : r.status === 'ABNORMAL'
          ? ['SUCCESS', 'CLOSED']
          : [];
    outcomes.forEach(function (status) {
      buttons.appendChild(
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'data-settle': r._id + ':' + status,
            onclick: function (e) {
              act(e.target, 'POST', 'sim/refunds/' + encodeURIComponent(r._id) + '/settle', { status: status });
            },
          },
          'Settle ' + status,
        ),
      );
      buttons.appendChild(document.createTextNode(' '));
    });
    return cells(h('tr', { 'data-refund': r._id }), [
      h('span', { class: 'mono' }, r._id),
      h('span', { class: 'mono' }, r.out_trade_no),
      money(r.amount.refund),
      badge(r.status),
      r.status === 'PROCESSING' ? r.planned_outcome : '',
      time(r.create_time),
      buttons,
    ]);
  }

  function refundRow(r) {
    return cells(h('tr'), [
      h('span', { class: 'mono' }, r._id),
      money(r.amountFen),
      badge(r.status),
      r.requestedBy,
      r.reason,
      time(r.createdAt),
    ]);
  }

  function renderRefunds() {
    put(
      'sim-refunds',
      table(
        ['out_refund_no', 'out_trade_no', 'Amount', 'Status', 'Ends as', 'Created', ''],
        state.data.wechatpay.refunds.slice().reverse().map(simRefundRow),
        'No refund at WeChat Pay.',
      ),
      keyOf(state.data.wechatpay.refunds),
    );
    put(
      'refunds',
      table(
        ['out_refund_no', 'Amount', 'Status', 'By', 'Reason', 'Created'],
        state.data.refunds.map(refundRow),
        'No refund in the backend.',
      ),
      keyOf(state.data.refunds),
    );
  }

  function renderBooks() {
    var statementRows = state.data.statements.map(function (s) {
      var bill = s.bill || {};
      var books = s.books || {};
      var diffs = (s.differences || [])
        .slice(0, 5)
        .map(function (x) {
          return x.kind + ' ' + x.outTradeNo + (x.healed ? ' (healed)' : '');
        })
        .join('; ');
      return cells(h('tr'), [
        s._id || s.billDate,
        badge(s.status || ''),
        money(bill.grossFen),
        money(books.grossFen),
        money(bill.refundFen),
        money(books.refundFen),
        (s.differenceCount || 0) + ' (' + (s.openCount || 0) + ' open)',
        h('span', { class: 'muted' }, diffs),
      ]);
    });
    put(
      'statements',
      table(
        [
          'Day',
          'Status',
          'Bill gross',
          'Books gross',
          'Bill refunds',
          'Books refunds',
          'Differences',
          'First differences',
        ],
        statementRows,
        'No statement yet (the books timer compares each day with WeChat Pay\u2019s trade bill).',
      ),
      keyOf(state.data.statements),
    );
    var exceptionRows = state.data.exceptions.map(function (x) {
      return cells(h('tr'), [
        h('span', { class: 'mono' }, x._id),
        x.kind,
        badge(x.status),
        h('span', { class: 'mono' }, x.orderId || x.outTradeNo || ''),
        x.occurrences,
        time(x.lastSeenAt),
        h('span', { class: 'muted' }, x.detail),
      ]);
    });
    put(
      'exceptions',
      table(
        ['Exception', 'Kind', 'Status', 'Order / out_trade_no', 'Seen', 'Last', 'Detail'],
        exceptionRows,
        'No exception.',
      ),
      keyOf(state.data.exceptions),
    );
    var alertRows = state.data.alerts.map(function (a) {
      return cells(h('tr'), [
        h('span', { class: 'mono' }, a._id),
        a.severity || '',
        h('span', { class: 'muted' }, a.message || ''),
        time(a.sentAt || a.raisedAt || a.updatedAt),
      ]);
    });
    put(
      'alerts',
      table(['Cause', 'Severity', 'Message', 'At'], alertRows, 'No alert raised.'),
      keyOf(state.data.alerts),
    );
  }

  function renderUsers() {
    var userRows = state.data.users.map(function (u) {
      return cells(h('tr'), [
        h('span', { class: 'mono' }, u._id),
        userOf(u._id) === u._id ? '' : userOf(u._id),
        u.admin ? badge('admin') : '',
        time(u.createdAt),
        time(u.lastLoginAt),
      ]);
    });
    put(
      'users',
      table(['openid', 'Local user', 'Role', 'First login', 'Last login'], userRows, 'Nobody logged in yet.'),
      keyOf(state.data.users, state.data.sessions),
    );
    var sessionRows = state.data.sessions.map(function (s) {
      return cells(h('tr'), [s.user, h('span', { class: 'mono' }, s.openid), s.sessions]);
    });
    put(
      'sessions',
      table(['Local user', 'openid', 'Sessions'], sessionRows, 'No local wx.login yet.'),
      keyOf(state.data.sessions),
    );
  }

  function renderWechatPay() {
    var s = state.data.settings;
    if (document.activeElement === null || !$('config-form').contains(document.activeElement)) {
      $('signing-mode').value = s.signingMode;
      $('time-factor').value = s.timeFactor;
      $('refund-interval').value = s.refundIntervalMs;
    }
    var rows = state.data.wechatpay.transactions
      .slice()
      .reverse()
      .map(function (t) {
        return cells(h('tr'), [
          h('span', { class: 'mono' }, t.out_trade_no),
          t.trade_type,
          badge(t.trade_state),
          money(t.amount.total),
          userOf(t.payer),
          h('span', { class: 'mono' }, t.transaction_id || ''),
          t.attach || '',
        ]);
      });
    put(
      'transactions',
      table(
        ['out_trade_no', 'Type', 'State', 'Amount', 'Payer', 'transaction_id', 'attach'],
        rows,
        'No transaction yet.',
      ),
      keyOf(state.data.wechatpay.transactions, state.data.sessions),
    );
    renderShipping();
  }

  /** WeChat's side of each payment's shipping (1 待发货 … 5 已退款) and the settlement events it can push. */
  function renderShipping() {
    var sh = state.data.shipping;
    if (!sh) return;
    $('shipping-switches').textContent =
      'is_trade_managed: ' + sh.tradeManaged + (sh.faults.length ? ' · faults: ' + JSON.stringify(sh.faults) : '');
    var rows = sh.orders.map(function (o) {
      var actions = h('span');
      if (o.state === 2) {
        actions.appendChild(shippingButton('买家确认收货', o.outTradeNo, 2));
        actions.appendChild(shippingButton('自动确认收货', o.outTradeNo, 1));
      }
      return cells(h('tr'), [
        h('span', { class: 'mono' }, o.outTradeNo),
        o.state + ' ' + o.stateText,
        String(o.uploads),
        o.logisticsType === null ? '' : String(o.logisticsType),
        actions,
      ]);
    });
    put(
      'shipping-orders',
      table(['out_trade_no', 'WeChat state', 'Uploads', 'logistics_type', ''], rows, 'Nothing uploaded yet.'),
      keyOf(sh.orders, sh.faults, sh.tradeManaged),
    );
  }

  /** Confirms receipt (method 2 the buyer, 1 automatic), then settles: both events go to msgPush. */
  function shippingButton(label, outTradeNo, method) {
    var b = h('button', { type: 'button', class: 'secondary' }, label);
    b.addEventListener('click', function () {
      act(b, 'POST', 'shipping/confirm', { outTradeNo: outTradeNo, method: method }, function () {
        return call('POST', 'shipping/settle', { outTradeNo: outTradeNo }).then(refresh, function (error) {
          say(error.message);
        });
      });
    });
    return b;
  }

  // ---- tabs and forms ------------------------------------------------------------------------------------------------
  function switchTab(tab) {
    if (TABS.indexOf(tab) < 0) tab = 'orders';
    state.tab = tab;
    TABS.forEach(function (t) {
      $('tab-' + t).hidden = t !== tab;
    });
    Array.prototype.forEach.call(document.querySelectorAll('#tabs button'), function (b) {
      b.className = b.getAttribute('data-tab') === tab ? 'on' : '';
    });
    if (location.hash !== '#' + tab) window.history.replaceState(null, '', '#' + tab);
  }
  Array.prototype.forEach.call(document.querySelectorAll('#tabs button'), function (b) {
    b.addEventListener('click', function () {
      switchTab(b.getAttribute('data-tab'));
    });
  });

  function kindsFor(target) {
    return FAULTS[target] || (target === 'refund' ? FAULTS.refund : FAULTS.api);
  }
  function fillKinds() {
    var target = $('fault-target').value;
    var select = $('fault-kind');
    select.textContent = '';
    kindsFor(target).forEach(function (kind) {
      select.appendChild(h('option', { value: kind }, kind));
    });
    showMeaning();
  }
  function showMeaning() {
    var kind = $('fault-kind').value;
    var target = $('fault-target').value;
    $('fault-meaning').textContent = MEANING[kind] || '';
    $('fault-delay-label').hidden = ['SLOW', 'TIMEOUT', 'DELAY'].indexOf(kind) < 0;
    $('fault-phase-label').hidden =
      target === 'notify' || target === 'refund-outcome' || ['NOT_ENOUGH', 'USER_ACCOUNT_ABNORMAL'].indexOf(kind) >= 0;
  }
  TARGETS.forEach(function (t) {
    $('fault-target').appendChild(h('option', { value: t }, t));
  });
  $('fault-target').addEventListener('change', fillKinds);
  $('fault-kind').addEventListener('change', showMeaning);
  fillKinds();
  $('fault-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var rule = { target: $('fault-target').value, kind: $('fault-kind').value };
    var times = $('fault-times').value;
    rule.times = times === 'standing' ? null : Number(times);
    if (!$('fault-delay-label').hidden && $('fault-delay').value !== '') rule.delayMs = Number($('fault-delay').value);
    if (!$('fault-phase-label').hidden && $('fault-phase').value) rule.phase = $('fault-phase').value;
    act($('fault-add'), 'POST', 'sim/faults', rule);
  });
  $('faults-clear').addEventListener('click', function (e) {
    act(e.target, 'DELETE', 'sim/faults');
  });
  $('bill-fault-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var rule = { kind: $('bill-fault-kind').value };
    if ($('bill-fault-date').value) rule.billDate = $('bill-fault-date').value;
    if ($('bill-fault-trade').value.trim()) rule.outTradeNo = $('bill-fault-trade').value.trim();
    if ($('bill-fault-refund').value.trim()) rule.outRefundNo = $('bill-fault-refund').value.trim();
    act($('bill-fault-add'), 'POST', 'sim/bills/faults', rule);
  });
  $('bill-faults-clear').addEventListener('click', function (e) {
    act(e.target, 'DELETE', 'sim/bills/faults');
  });

  function lookUpUser() {
    var user = $('scan-user').value.trim();
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(user)) {
      $('scan-openid').textContent = 'letters, digits, _ or -';
      state.openid = '';
      return;
    }
    call('GET', 'openid?user=' + encodeURIComponent(user)).then(
      function (answer) {
        state.openid = answer.openid;
        $('scan-openid').textContent = 'openid ' + answer.openid;
      },
      function (error) {
        say(error.message);
      },
    );
  }
  $('scan-user').addEventListener('change', lookUpUser);
  lookUpUser();

  Array.prototype.forEach.call(document.querySelectorAll('[data-advance]'), function (b) {
    b.addEventListener('click', function () {
      act(b, 'POST', 'sim/clock', { advanceMs: Number(b.getAttribute('data-advance')) });
    });
  });
  $('clock-reset').addEventListener('click', function (e) {
    act(e.target, 'DELETE', 'sim/clock');
  });
  $('config-form').addEventListener('submit', function (e) {
    e.preventDefault();
    act(
      null,
      'POST',
      'sim/config',
      {
        signingMode: $('signing-mode').value,
        timeFactor: Number($('time-factor').value),
        refundIntervalMs: Number($('refund-interval').value),
      },
      function () {
        document.activeElement.blur();
      },
    );
  });
  $('shipping-managed').addEventListener('click', function (e) {
    act(e.target, 'POST', 'shipping/config', { tradeManaged: !state.data.shipping.tradeManaged });
  });
  $('run-reconcile').addEventListener('click', function (e) {
    act(e.target, 'POST', 'timers/reconcile', undefined, function (answer) {
      $('reconcile-result').textContent = JSON.stringify(answer.result);
    });
  });

  switchTab(location.hash.slice(1));
  listen();
})();

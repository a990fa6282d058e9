/**
 * The payment result, reached with redirectTo. Paid, it is a receipt (the amount, the merchant, the copyable order
 * number, the paid time, 微信支付) and the next step (pickup, shipping or the service's time), with 客服 and the
 * order-progress subscription (asked here, after payment, in its own tap). The client's own payment result is never
 * proof: reached after the sheet answered ok (`paid=1`), the page asks the backend to query WeChat Pay at once (the same
 * settlement as a notification: "paid" shows without waiting for it), once per visit; otherwise, or while WeChat Pay
 * says not yet, it polls the order with backoff and asks WeChat Pay once the notification is late. It shows paid, paid
 * with the amount under review, still pending (refresh, "我已支付"), no network (retry), or closed.
 */
import type { OrderStatus, OrderView } from '../../../../typings/api';
import { appConfig } from '../../../config';
import { NEXT_STEP_TEXT } from '../../../constants/fulfilment';
import { ORDER_STATUS_TEXT } from '../../../constants/order';
import { ApiFailure, showError } from '../../../services/errors';
import { getOrder } from '../../../services/orders';
import { confirmPayment } from '../../../services/payment';
import { orderUpdatesOffered, subscribeOrderUpdates } from '../../../services/subscribe';
import { formatFen } from '../../../utils/money';
import { formatTime } from '../../../utils/time';
import { CONFIRM_AFTER_MS, POLL_DELAYS_MS } from './poll';

type State = 'checking' | 'paid' | 'review' | 'pending' | 'offline' | 'failed';

const PAID: OrderStatus[] = ['paid', 'refunding', 'partially_refunded', 'refunded'];
const FAILED: OrderStatus[] = ['cancelled', 'closed'];

const timers = new WeakMap<object, number>();
/** pages left: a poll in flight when the page closed must not schedule another */
const closed = new WeakSet<object>();

Component({
  data: {
    orderId: '',
    state: 'checking' as State,
    paidText: '',
    merchantName: appConfig.merchantName,
    paidAtText: '',
    nextTitle: '',
    nextText: '',
    /** the order-progress subscription: offered, then the answer */
    subscribeOffered: false,
    subscribed: false,
    failedText: '',
    confirming: false,
    startedAt: 0,
    attempt: 0,
    confirmed: false,
    /** the payment sheet answered ok: ask WeChat Pay on the first look */
    askNow: false,
    /** the last poll could not reach the backend */
    lastPollOffline: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      // paid=1: the payment sheet said ok, so the first look is WeChat Pay's answer, not the (maybe late) notification's
      this.setData({ orderId: query.id ?? '', startedAt: Date.now(), askNow: query.paid === '1' });
      void this.check();
    },
    onUnload() {
      closed.add(this);
      this.stop();
    },
    stop() {
      const timer = timers.get(this);
      if (timer !== undefined) clearTimeout(timer);
      timers.delete(this);
    },
    show(order: OrderView): boolean {
      if (PAID.includes(order.status)) {
        const kind = order.fulfilment?.kind ?? 'pickup';
        const next = NEXT_STEP_TEXT[kind];
        this.setData({
          state: 'paid',
          paidText: formatFen(order.paidFen),
          paidAtText: order.paidAt ? formatTime(order.paidAt) : '',
          nextTitle: next.title,
          nextText:
            kind === 'service' && order.serviceStartsAt
              ? `服务时间 ${formatTime(order.serviceStartsAt)}，${next.text}`
              : next.text,
          subscribeOffered: orderUpdatesOffered(order.id),
        });
        return true;
      }
      if (order.status === 'review') {
        // WeChat Pay took the money at another amount than the order's: paid, and a person checks the amount
        this.setData({ state: 'review' });
        return true;
      }
      if (FAILED.includes(order.status)) {
        this.setData({ state: 'failed', failedText: `订单${ORDER_STATUS_TEXT[order.status]}，如需购买请重新下单` });
        return true;
      }
      return false;
    },
    async check() {
      this.stop();
      let order: OrderView | undefined;
      let offline = false;
      try {
        const late = !this.data.confirmed && (this.data.askNow || Date.now() - this.data.startedAt >= CONFIRM_AFTER_MS);
        if (late) this.setData({ confirmed: true });
        order = late ? await confirmPayment(this.data.orderId) : await getOrder(this.data.orderId);
      } catch (error) {
        // a failed poll is tried again on schedule; whether it was the network decides what the page says at the end
        offline = error instanceof ApiFailure && error.code === 'NETWORK';
      }
      if (closed.has(this)) return;
      this.setData({ lastPollOffline: offline });
      if (order && this.show(order)) return;
      const delay = POLL_DELAYS_MS[this.data.attempt];
      if (delay === undefined) {
        this.setData({ state: offline ? 'offline' : 'pending' });
        return;
      }
      this.setData({ attempt: this.data.attempt + 1 });
      timers.set(this, setTimeout(() => void this.check(), delay) as unknown as number);
    },
    onRefresh() {
      this.setData({ state: 'checking', attempt: POLL_DELAYS_MS.length - 1 });
      void this.check();
    },
    async onIHavePaid() {
      if (this.data.confirming) return;
      this.setData({ confirming: true });
      try {
        const order = await confirmPayment(this.data.orderId);
        if (!this.show(order)) wx.showToast({ title: '微信支付暂未确认到付款', icon: 'none' });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ confirming: false });
      }
    },
    onCopyId() {
      wx.setClipboardData({ data: this.data.orderId });
    },
    onSubscribe() {
      // in the tap itself: WeChat shows the subscribe dialog only there
      void subscribeOrderUpdates(this.data.orderId).then((answer) => {
        if (answer === 'accept') this.setData({ subscribed: true, subscribeOffered: false });
        else if (answer === 'failed') wx.showToast({ title: '订阅没有成功，可稍后在订单里查看进度', icon: 'none' });
      });
    },
    onViewOrder() {
      wx.redirectTo({ url: `/pages/order/detail/index?id=${this.data.orderId}` });
    },
    onHome() {
      wx.reLaunch({ url: '/pages/home/index/index' });
    },
  },
});

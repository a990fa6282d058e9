/**
 * The payment result, reached with redirectTo. The client's own payment result is never proof: this page polls the
 * order with backoff, asks the backend to query WeChat Pay once the notification is late, and shows paid, still
 * pending (refresh, "I have paid"), or failed.
 */
import type { OrderStatus, OrderView } from '../../../../typings/api';
import { ORDER_STATUS_TEXT } from '../../../constants/order';
import { getOrder } from '../../../services/orders';
import { confirmPayment } from '../../../services/payment';
import { showError } from '../../../services/errors';
import { formatFen } from '../../../utils/money';
import { CONFIRM_AFTER_MS, POLL_DELAYS_MS } from './poll';

type State = 'checking' | 'paid' | 'pending' | 'failed';

const PAID: OrderStatus[] = ['paid', 'refunding', 'partially_refunded', 'refunded'];
const FAILED: OrderStatus[] = ['cancelled', 'closed', 'review'];

const timers = new WeakMap<object, number>();

Component({
  data: {
    orderId: '',
    state: 'checking' as State,
    paidText: '',
    failedText: '',
    confirming: false,
    startedAt: 0,
    attempt: 0,
    confirmed: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ orderId: query.id ?? '', startedAt: Date.now() });
      void this.check();
    },
    onUnload() {
      this.stop();
    },
    stop() {
      const timer = timers.get(this);
      if (timer !== undefined) clearTimeout(timer);
      timers.delete(this);
    },
    show(order: OrderView): boolean {
      if (PAID.includes(order.status)) {
        this.setData({ state: 'paid', paidText: formatFen(order.paidFen) });
        return true;
      }
      if (FAILED.includes(order.status)) {
        this.setData({ state: 'failed', failedText: order.status === 'review' ? '支付金额待核对，请联系客服' : `订单${ORDER_STATUS_TEXT[order.status]}` });
        return true;
      }
      return false;
    },
    async check() {
      this.stop();
      let order: OrderView | undefined;
      try {
        const late = !this.data.confirmed && Date.now() - this.data.startedAt >= CONFIRM_AFTER_MS;
        if (late) this.setData({ confirmed: true });
        order = late ? await confirmPayment(this.data.orderId) : await getOrder(this.data.orderId);
      } catch {
        // a failed poll is like a pending one: try again on schedule
      }
      if (order && this.show(order)) return;
      const delay = POLL_DELAYS_MS[this.data.attempt];
      if (delay === undefined) {
        this.setData({ state: 'pending' });
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
    onViewOrder() {
      wx.redirectTo({ url: `/pages/order/detail/index?id=${this.data.orderId}` });
    },
    onHome() {
      wx.reLaunch({ url: '/pages/home/index/index' });
    },
  },
});

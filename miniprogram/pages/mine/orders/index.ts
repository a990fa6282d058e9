/**
 * My orders: status tabs, pages loaded on reaching the bottom, pull-down refresh. The list keeps its pages and scroll
 * position when shown again: orders changed elsewhere in the app arrive through the orders service and replace their
 * card in place. Unpaid orders carry their own actions (付款, 取消订单); an unpaid order whose payment was started is
 * first checked with WeChat Pay through the backend (rate-limited), and shows no pay button while that runs.
 */
import type { OrderView } from '../../../../typings/api';
import { ORDER_TABS, type OrderTab } from '../../../constants/order';
import { showError } from '../../../services/errors';
import { cancelOrder, listOrders, onOrderChanged } from '../../../services/orders';
import { checkPayment } from '../../../services/payment';
import { payFlowData, payFlowMethods, startPayment, type PayHost } from '../../../utils/pay-flow';
import { toCard, type OrderCard } from '../../../utils/order-view';
import { markTab, takeWantedOrdersTab } from '../../../utils/tab-bar';

const PAGE_SIZE = 10;
/** orders checked with WeChat Pay per page loaded */
const CHECKS_PER_PAGE = 5;

/** Which tab an order belongs in (the server's filter, mirrored to place a changed order). */
function inTab(tab: OrderTab, status: OrderView['status']): boolean {
  if (tab === 'all') return true;
  if (tab === 'refunds') return status === 'refunding' || status === 'partially_refunded' || status === 'refunded';
  return status === tab;
}

const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: {
    ...payFlowData,
    tabs: ORDER_TABS,
    tab: 'all' as OrderTab,
    orders: [] as (OrderCard & { checking: boolean })[],
    /** where the next page starts ('' : the first page) */
    cursor: '',
    hasMore: true,
    loading: false,
    loadFailed: false,
    generation: 0,
    cancelId: '',
    payAmountText: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const tab = ORDER_TABS.some((t) => t.value === query.tab) ? (query.tab as OrderTab) : 'all';
      this.setData({ tab });
      unsubscribers.set(
        this,
        onOrderChanged((order) => this.replace(order)),
      );
      void this.reload();
    },
    onUnload() {
      unsubscribers.get(this)?.();
    },
    onShow() {
      markTab(this, 'orders');
      // opened from 我的 on one status: that tab (a tab page gets no query)
      const wanted = takeWantedOrdersTab();
      if (wanted && ORDER_TABS.some((t) => t.value === wanted)) this.switchTo(wanted as OrderTab);
    },
    /** An order changed elsewhere (detail, result, a payment): its card is updated where it is. */
    replace(order: OrderView) {
      const index = this.data.orders.findIndex((o) => o.id === order.id);
      if (index < 0) return;
      if (!inTab(this.data.tab, order.status)) {
        this.setData({ orders: this.data.orders.filter((o) => o.id !== order.id) });
        return;
      }
      this.setData({ [`orders[${index}]`]: { ...toCard(order), checking: false } });
    },
    async reload() {
      this.setData({ orders: [], cursor: '', hasMore: true, loadFailed: false, generation: this.data.generation + 1 });
      await this.loadMore();
    },
    async loadMore() {
      if (this.data.loading || !this.data.hasMore) return;
      const generation = this.data.generation;
      this.setData({ loading: true });
      try {
        const result = await listOrders(this.data.tab, this.data.cursor, PAGE_SIZE);
        if (generation !== this.data.generation) return; // the tab changed meanwhile
        // an order that moved within the list between two pages (paid meanwhile, say) is shown once
        const shown = new Set(this.data.orders.map((o) => o.id));
        const cards = result.orders.filter((o) => !shown.has(o.id)).map((o) => ({ ...toCard(o), checking: false }));
        const toCheck = cards.filter((c) => c.mayBeSettled).slice(0, CHECKS_PER_PAGE);
        for (const card of toCheck) card.checking = true;
        this.setData({
          orders: [...this.data.orders, ...cards],
          cursor: result.nextCursor ?? '',
          hasMore: result.hasMore,
        });
        await Promise.all(toCheck.map((card) => this.check(card.id)));
      } catch (error) {
        if (generation === this.data.generation) this.setData({ loadFailed: true });
        showError(error);
      } finally {
        if (generation === this.data.generation) this.setData({ loading: false });
      }
    },
    async check(orderId: string) {
      try {
        await checkPayment(orderId); // a fresh order arrives through onOrderChanged
      } catch {
        // the stored state stands
      }
      const index = this.data.orders.findIndex((o) => o.id === orderId);
      if (index >= 0 && this.data.orders[index]!.checking) this.setData({ [`orders[${index}].checking`]: false });
    },
    onTabTap(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: OrderTab }>) {
      this.switchTo(e.currentTarget.dataset.value);
    },
    switchTo(tab: OrderTab) {
      if (tab === this.data.tab) return;
      this.setData({ tab, loading: false });
      void this.reload();
    },
    async onPullDownRefresh() {
      this.setData({ loading: false });
      await this.reload();
      wx.stopPullDownRefresh();
    },
    onReachBottom() {
      void this.loadMore();
    },
    onGoShopping() {
      wx.switchTab({ url: '/pages/home/index/index' });
    },
    onOpen(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/pages/order/detail/index?id=${e.currentTarget.dataset.id}` });
    },
    onCardPay(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      const card = this.data.orders.find((o) => o.id === e.currentTarget.dataset.id);
      if (!card) return;
      this.setData({ payAmountText: card.totalText });
      void startPayment(this as unknown as PayHost, card.id);
    },
    ...payFlowMethods({ stayOnGiveUp: true }),
    onCardCancel(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      this.setData({ cancelId: e.currentTarget.dataset.id });
    },
    onCloseCancel() {
      this.setData({ cancelId: '' });
    },
    async onConfirmCancel() {
      const id = this.data.cancelId;
      this.setData({ cancelId: '' });
      if (!id) return;
      try {
        await cancelOrder(id); // the card follows through onOrderChanged
        wx.showToast({ title: '订单已取消', icon: 'success' });
      } catch (error) {
        showError(error);
      }
    },
  },
});

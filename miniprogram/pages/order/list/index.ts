/** My orders: status tabs, pages loaded on reaching the bottom, pull-down refresh. */
import { ORDER_TABS, type OrderTab } from '../../../constants/order';
import { showError } from '../../../services/errors';
import { listOrders } from '../../../services/orders';
import { toCard, type OrderCard } from '../view';

const PAGE_SIZE = 10;

Component({
  data: {
    tabs: ORDER_TABS,
    tab: 'all' as OrderTab,
    orders: [] as OrderCard[],
    page: 0,
    hasMore: true,
    loading: false,
    loadFailed: false,
    generation: 0,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const tab = ORDER_TABS.some((t) => t.value === query.tab) ? (query.tab as OrderTab) : 'all';
      this.setData({ tab });
      void this.reload();
    },
    onShow() {
      if (this.data.page > 0) void this.reload();
    },
    async reload() {
      this.setData({ orders: [], page: 0, hasMore: true, loadFailed: false, generation: this.data.generation + 1 });
      await this.loadMore();
    },
    async loadMore() {
      if (this.data.loading || !this.data.hasMore) return;
      const generation = this.data.generation;
      this.setData({ loading: true });
      try {
        const result = await listOrders(this.data.tab, this.data.page + 1, PAGE_SIZE);
        if (generation !== this.data.generation) return; // the tab changed meanwhile
        this.setData({ orders: [...this.data.orders, ...result.orders.map(toCard)], page: result.page, hasMore: result.hasMore });
      } catch (error) {
        if (generation === this.data.generation) this.setData({ loadFailed: true });
        showError(error);
      } finally {
        if (generation === this.data.generation) this.setData({ loading: false });
      }
    },
    onTabTap(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: OrderTab }>) {
      const tab = e.currentTarget.dataset.value;
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
    onOpen(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/pages/order/detail/index?id=${e.currentTarget.dataset.id}` });
    },
  },
});

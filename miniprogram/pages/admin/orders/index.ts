/** Order search: one box for the order number, out_trade_no, WeChat Pay's transaction_id or the buyer's phone. */
import { searchOrders } from '../../../services/admin';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';
import { toSummaryRow } from '../view';

const MATCHED_TEXT = {
  orderId: '订单号',
  outTradeNo: '商户单号',
  transactionId: '微信支付单号',
  phone: '手机号',
} as const;

Component({
  data: {
    query: '',
    searching: false,
    searched: false,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    matchedText: '',
    rows: [] as ReturnType<typeof toSummaryRow>[],
  },
  methods: {
    /** `?q=` opens the page with a search done (from a link or another admin page). */
    onLoad(query: Record<string, string | undefined>) {
      if (query.q) {
        this.setData({ query: decodeURIComponent(query.q) });
        void this.onSearch();
      }
    },
    onQuery(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ query: e.detail.value });
    },
    async onSearch() {
      const query = this.data.query.trim();
      if (this.data.searching) return;
      if (!query) {
        wx.showToast({ title: '请输入要查找的单号或手机号', icon: 'none' });
        return;
      }
      this.setData({ searching: true });
      try {
        const result = await searchOrders(query);
        this.setData({
          searched: true,
          matchedText: MATCHED_TEXT[result.matchedBy],
          rows: result.orders.map(toSummaryRow),
        });
      } catch (error) {
        this.setData({ forbidden: handleAdminError(error) });
      } finally {
        this.setData({ searching: false });
      }
    },
    onOpen(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/pages/admin/order/index?id=${e.currentTarget.dataset.id}` });
    },
  },
});

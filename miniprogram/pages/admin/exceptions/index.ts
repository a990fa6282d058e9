/** The exception queue: open ones first (newest activity first), or the resolved ones; a tap opens one to act on it. */
import { EXCEPTION_STATUS_TABS } from '../../../constants/admin';
import { listExceptions } from '../../../services/admin';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';
import { toExceptionRow, type ExceptionRow } from '../view';

const PAGE_SIZE = 20;

Component({
  data: {
    tabs: EXCEPTION_STATUS_TABS,
    status: 'open' as 'open' | 'resolved',
    rows: [] as ExceptionRow[],
    cursor: '',
    hasMore: true,
    loading: false,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    shown: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      if (query.status === 'resolved') this.setData({ status: 'resolved' });
      void this.reload();
    },
    onShow() {
      // back from an exception that was handled: the queue shows it moved
      if (this.data.shown) void this.reload();
      this.setData({ shown: true });
    },
    async reload() {
      this.setData({ rows: [], cursor: '', hasMore: true });
      await this.loadMore();
    },
    async loadMore() {
      if (this.data.loading || !this.data.hasMore || this.data.forbidden) return;
      const status = this.data.status;
      this.setData({ loading: true });
      try {
        const result = await listExceptions(status, this.data.cursor, PAGE_SIZE);
        if (status !== this.data.status) return;
        this.setData({
          rows: [...this.data.rows, ...result.exceptions.map(toExceptionRow)],
          cursor: result.nextCursor ?? '',
          hasMore: result.hasMore,
        });
      } catch (error) {
        this.setData({ forbidden: handleAdminError(error), hasMore: false });
      } finally {
        this.setData({ loading: false });
      }
    },
    onTab(
      e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: 'open' | 'resolved' }>,
    ) {
      if (e.currentTarget.dataset.value === this.data.status) return;
      this.setData({ status: e.currentTarget.dataset.value, loading: false });
      void this.reload();
    },
    onReachBottom() {
      void this.loadMore();
    },
    async onPullDownRefresh() {
      this.setData({ loading: false });
      await this.reload();
      wx.stopPullDownRefresh();
    },
    onOpen(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `/pages/admin/exception/index?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
    },
  },
});

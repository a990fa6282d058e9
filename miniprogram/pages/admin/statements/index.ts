/**
 * The daily statements: for each bill day, WeChat Pay's trade bill against the books (counts, gross, refunds, fees,
 * net) and every difference, healed by the job or waiting as an exception. A day can be compared again.
 */
import type { BillDifference, StatementTotals, StatementView } from '../../../../typings/api';
import {
  BILL_DIFFERENCE_TEXT,
  STATEMENT_STATUS_TEXT,
  BILL_STATE_TEXT,
  BOOKS_STATE_TEXT,
  stateText,
} from '../../../constants/admin';
import { listStatements, runBillDay } from '../../../services/admin';
import { formatFen } from '../../../utils/money';
import { formatTime } from '../../../utils/time';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';

function totals(t: StatementTotals | undefined) {
  if (!t) return null;
  return {
    payments: t.paymentCount,
    refunds: t.refundCount,
    gross: formatFen(t.grossFen),
    refund: formatFen(t.refundFen),
    fee: formatFen(t.feeFen),
    net: formatFen(t.netFen),
  };
}

function difference(d: BillDifference) {
  return {
    key: `${d.kind}:${d.outRefundNo ?? d.outTradeNo}`,
    kindText: BILL_DIFFERENCE_TEXT[d.kind],
    subject: d.outRefundNo ? `退款 ${d.outRefundNo}` : `支付 ${d.outTradeNo}`,
    amounts:
      d.billFen !== undefined || d.booksFen !== undefined
        ? `账单 ${d.billFen !== undefined ? formatFen(d.billFen) : '—'} / 系统 ${d.booksFen !== undefined ? formatFen(d.booksFen) : '—'}`
        : '',
    states:
      d.billState || d.booksState
        ? `微信支付账单：${stateText(BILL_STATE_TEXT, d.billState)} · 本店记录：${stateText(BOOKS_STATE_TEXT, d.booksState)}`
        : '',
    outcome: d.healed ? `已自动修复：${d.healed}` : '待人工处理',
    healed: Boolean(d.healed),
    exceptionId: d.exceptionId ?? '',
  };
}

function toRow(s: StatementView) {
  return {
    billDate: s.billDate,
    status: s.status,
    statusText: STATEMENT_STATUS_TEXT[s.status],
    theme:
      s.status === 'done' ? (s.openCount > 0 ? 'danger' : 'success') : s.status === 'failed' ? 'danger' : 'default',
    summary:
      s.status === 'done'
        ? s.differenceCount === 0
          ? '账实相符'
          : `差异 ${s.differenceCount} 笔，已修复 ${s.healedCount}，待处理 ${s.openCount}`
        : s.lastError || (s.nextAttemptAt ? `下次尝试 ${formatTime(s.nextAttemptAt)}` : ''),
    bill: totals(s.bill),
    books: totals(s.books),
    differences: s.differences.map(difference),
    more: s.differenceCount > s.differences.length ? s.differenceCount - s.differences.length : 0,
    updatedText: formatTime(s.updatedAt),
  };
}
type Row = ReturnType<typeof toRow>;

Component({
  data: {
    rows: [] as Row[],
    expanded: '',
    cursor: '',
    hasMore: true,
    loading: false,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    running: '',
  },
  methods: {
    onLoad() {
      void this.loadMore();
    },
    async reload() {
      this.setData({ rows: [], cursor: '', hasMore: true });
      await this.loadMore();
    },
    async loadMore() {
      if (this.data.loading || !this.data.hasMore || this.data.forbidden) return;
      this.setData({ loading: true });
      try {
        const result = await listStatements(this.data.cursor);
        this.setData({
          rows: [...this.data.rows, ...result.statements.map(toRow)],
          cursor: result.nextCursor ?? '',
          hasMore: result.hasMore,
        });
      } catch (error) {
        this.setData({ forbidden: handleAdminError(error), hasMore: false });
      } finally {
        this.setData({ loading: false });
      }
    },
    onReachBottom() {
      void this.loadMore();
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
    onToggle(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { date: string }>) {
      const date = e.currentTarget.dataset.date;
      this.setData({ expanded: this.data.expanded === date ? '' : date });
    },
    async onRerun(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { date: string }>) {
      const date = e.currentTarget.dataset.date;
      if (this.data.running) return;
      this.setData({ running: date });
      try {
        const statement = await runBillDay(date);
        const index = this.data.rows.findIndex((r) => r.billDate === date);
        if (index >= 0) this.setData({ [`rows[${index}]`]: toRow(statement) });
        wx.showToast({ title: '已重新对账', icon: 'success' });
      } catch (error) {
        if (handleAdminError(error)) this.setData({ forbidden: true });
      } finally {
        this.setData({ running: '' });
      }
    },
    onOpenException(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      if (e.currentTarget.dataset.id)
        wx.navigateTo({ url: `/pages/admin/exception/index?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
    },
  },
});

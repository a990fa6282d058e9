/**
 * An order as the merchant sees it: buyer, items, every payment (out_trade_no, transaction_id), refunds and timeline,
 * and a refund of any amount up to what is still refundable (full by default). One request id per opening of the
 * refund dialog: a retried submit is the same refund.
 */
import type { AdminOrderView } from '../../../../typings/api';
import { PAYMENT_STATUS_TEXT } from '../../../constants/admin';
import { getAdminOrder, refundOrder } from '../../../services/admin';
import { formatFen, parseYuan } from '../../../utils/money';
import { formatTime, newRequestId } from '../../../utils/time';
import { toDetail } from '../../../utils/order-view';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';

function toAdminDetail(order: AdminOrderView) {
  return {
    ...toDetail(order),
    contactText: `${order.contact.name} ${order.contact.phone}`,
    refundableFen: order.refundableFen,
    refundableText: formatFen(order.refundableFen),
    payments: order.payments.map((p) => ({
      outTradeNo: p.outTradeNo,
      statusText: PAYMENT_STATUS_TEXT[p.status],
      amountText: formatFen(p.paidTotalFen ?? p.amountFen),
      transactionId: p.transactionId ?? '',
      timeText: formatTime(p.paidAt ?? p.createdAt),
    })),
  };
}

Component({
  data: {
    orderId: '',
    loading: true,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    order: null as ReturnType<typeof toAdminDetail> | null,
    refundVisible: false,
    refundAmount: '',
    refundReason: '',
    refundRequestId: '',
    busy: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ orderId: query.id ?? '' });
      void this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        this.setData({ order: toAdminDetail(await getAdminOrder(this.data.orderId)), loading: false });
      } catch (error) {
        this.setData({ loading: false, forbidden: handleAdminError(error) });
      }
    },
    onCopy(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: string }>) {
      wx.setClipboardData({ data: e.currentTarget.dataset.value });
    },
    onOpenRefund() {
      if (!this.data.order) return;
      this.setData({
        refundVisible: true,
        refundAmount: (this.data.order.refundableFen / 100).toFixed(2),
        refundReason: '',
        refundRequestId: newRequestId('admin-refund'),
      });
    },
    onCloseRefund() {
      this.setData({ refundVisible: false });
    },
    onAmount(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ refundAmount: e.detail.value });
    },
    onReason(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ refundReason: e.detail.value });
    },
    async onSubmitRefund() {
      const order = this.data.order;
      if (this.data.busy || !order) return;
      const amountFen = parseYuan(this.data.refundAmount);
      const reason = this.data.refundReason.trim();
      if (amountFen === undefined || amountFen <= 0)
        return void wx.showToast({ title: '请填写正确的退款金额', icon: 'none' });
      if (amountFen > order.refundableFen)
        return void wx.showToast({ title: `最多可退 ${order.refundableText}`, icon: 'none' });
      if (!reason) return void wx.showToast({ title: '请填写退款原因', icon: 'none' });
      this.setData({ busy: true });
      try {
        await refundOrder(order.id, amountFen, reason, this.data.refundRequestId);
        this.setData({ refundVisible: false });
        wx.showToast({ title: '退款已提交', icon: 'success' });
        await this.load();
      } catch (error) {
        if (handleAdminError(error)) this.setData({ forbidden: true, refundVisible: false });
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});

/**
 * Order detail: items, amounts, refund progress and the order's timeline; pay again while payable, cancel while
 * unpaid, request a full refund (with a reason) while the policy allows.
 */
import { showError } from '../../../services/errors';
import { cancelOrder, getOrder, requestRefund } from '../../../services/orders';
import { newRequestId } from '../../../utils/time';
import { payFlowData, payFlowMethods, startPayment, type PayHost } from '../pay-flow';
import { toDetail, type OrderDetail } from '../view';

Component({
  data: {
    ...payFlowData,
    orderId: '',
    order: null as OrderDetail | null,
    loading: true,
    loadError: '',
    busy: false,
    cancelConfirmVisible: false,
    refundDialogVisible: false,
    refundReason: '',
    refundRequestId: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ orderId: query.id ?? '' });
      void this.load();
    },
    onShow() {
      if (this.data.order) void this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        const order = await getOrder(this.data.orderId);
        this.setData({ order: toDetail(order), loading: false, loadError: '' });
      } catch (error) {
        this.setData({ loading: false });
        if (!this.data.order) this.setData({ loadError: '订单加载失败' });
        showError(error);
      }
    },
    onPay() {
      void startPayment(this as unknown as PayHost, this.data.orderId);
    },
    ...payFlowMethods({ stayOnGiveUp: true }),
    onCancel() {
      this.setData({ cancelConfirmVisible: true });
    },
    onCloseCancel() {
      this.setData({ cancelConfirmVisible: false });
    },
    async onConfirmCancel() {
      if (this.data.busy) return;
      this.setData({ busy: true, cancelConfirmVisible: false });
      try {
        const order = await cancelOrder(this.data.orderId);
        this.setData({ order: toDetail(order) });
        wx.showToast({ title: '订单已取消', icon: 'success' });
      } catch (error) {
        showError(error);
        await this.load();
      } finally {
        this.setData({ busy: false });
      }
    },
    onOpenRefund() {
      // one request id per opening: a retried submit is the same refund, a new request is a new one
      this.setData({ refundDialogVisible: true, refundReason: '', refundRequestId: newRequestId('refund') });
    },
    onCloseRefund() {
      this.setData({ refundDialogVisible: false });
    },
    onReasonChange(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ refundReason: e.detail.value });
    },
    async onSubmitRefund() {
      if (this.data.busy) return;
      const reason = this.data.refundReason.trim();
      if (!reason) {
        wx.showToast({ title: '请填写退款原因', icon: 'none' });
        return;
      }
      this.setData({ busy: true });
      try {
        const order = await requestRefund(this.data.orderId, reason, this.data.refundRequestId);
        this.setData({ order: toDetail(order), refundDialogVisible: false });
        wx.showToast({ title: '退款申请已提交', icon: 'success' });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});

/**
 * Order detail: items, amounts, refund progress and the order's timeline; pay while payable (with a live countdown),
 * cancel while unpaid, request a full refund (a preset reason or one's own) while the policy allows; the order
 * number can be copied. An unpaid order whose payment was started is checked with WeChat Pay through the backend
 * when it opens and each time the page is shown again (rate-limited), so a paid order never asks to be paid again.
 */
import { REFUND_REASONS } from '../../../constants/order';
import { showError } from '../../../services/errors';
import { cancelOrder, confirmReceiptFlow, getOrder, requestAfterSale, requestRefund } from '../../../services/orders';
import { checkPayment, confirmPayment, mayBeSettled } from '../../../services/payment';
import type { OrderView } from '../../../../typings/api';
import { newRequestId } from '../../../utils/time';
import { payFlowData, payFlowMethods, startPayment, type PayHost } from '../../../utils/pay-flow';
import { toDetail, type OrderDetail } from '../../../utils/order-view';

const OTHER_REASON = REFUND_REASONS[REFUND_REASONS.length - 1]!;

Component({
  data: {
    ...payFlowData,
    orderId: '',
    order: null as OrderDetail | null,
    loading: true,
    loadError: '',
    /** asking WeChat Pay (through the backend) whether an unpaid order was paid */
    checking: false,
    busy: false,
    cancelConfirmVisible: false,
    refundDialogVisible: false,
    reasonOptions: REFUND_REASONS.map((r) => ({ label: r, value: r })),
    refundChoice: '',
    refundReason: '',
    otherReason: OTHER_REASON,
    refundRequestId: '',
    afterSaleVisible: false,
    afterSaleReason: '',
    afterSaleRequestId: '',
    /** the last order shown, for the receipt flow */
    raw: null as OrderView | null,
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
    show(order: OrderView) {
      this.setData({ order: toDetail(order), raw: order, loading: false, loadError: '' });
    },
    async load() {
      let order: OrderView;
      try {
        order = await getOrder(this.data.orderId);
        this.show(order);
      } catch (error) {
        this.setData({ loading: false });
        if (!this.data.order) this.setData({ loadError: '订单加载失败' });
        showError(error);
        return;
      }
      if (mayBeSettled(order)) await this.check();
    },
    /** The stored order says unpaid but a payment was started: ask WeChat Pay (at most every 15 s per order). */
    async check() {
      this.setData({ checking: true });
      try {
        const checked = await checkPayment(this.data.orderId);
        if (checked) this.show(checked);
      } catch {
        // the stored order stands; the next showing checks again
      } finally {
        this.setData({ checking: false });
      }
    },
    /** 我已付款但显示未付: the backend queries WeChat Pay now, and the page says what it answered. */
    async onIHavePaid() {
      if (this.data.checking) return;
      this.setData({ checking: true });
      try {
        const order = await confirmPayment(this.data.orderId);
        this.show(order);
        wx.showToast({
          title: order.can.pay ? '微信支付暂未收到这笔付款，如已扣款请联系客服' : '已确认付款',
          icon: 'none',
        });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ checking: false });
      }
    },
    onPay() {
      void startPayment(this as unknown as PayHost, this.data.orderId);
    },
    ...payFlowMethods({ stayOnGiveUp: true }),
    onExpired() {
      void this.load();
    },
    onCopyId() {
      wx.setClipboardData({ data: this.data.orderId });
    },
    onCopyValue(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: string }>) {
      wx.setClipboardData({ data: e.currentTarget.dataset.value });
    },
    async onConfirmReceipt() {
      if (this.data.busy || !this.data.raw) return;
      this.setData({ busy: true });
      try {
        const outcome = await confirmReceiptFlow(this.data.raw);
        if (outcome.kind === 'confirmed') {
          this.show(outcome.order);
          wx.showToast({ title: '已确认收货', icon: 'success' });
        } else if (outcome.kind === 'failed') wx.showToast({ title: outcome.message, icon: 'none' });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ busy: false });
      }
    },
    onOpenAfterSale() {
      this.setData({ afterSaleVisible: true, afterSaleReason: '', afterSaleRequestId: newRequestId('after-sale') });
    },
    onCloseAfterSale() {
      this.setData({ afterSaleVisible: false });
    },
    onAfterSaleReason(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ afterSaleReason: e.detail.value });
    },
    async onSubmitAfterSale() {
      const reason = this.data.afterSaleReason.trim();
      if (!reason) {
        wx.showToast({ title: '请写下申请售后的原因', icon: 'none' });
        return;
      }
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        this.show(await requestAfterSale(this.data.orderId, reason, this.data.afterSaleRequestId));
        this.setData({ afterSaleVisible: false });
        wx.showToast({ title: '已提交，等待商家处理', icon: 'none' });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ busy: false });
      }
    },
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
        this.show(await cancelOrder(this.data.orderId));
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
      this.setData({
        refundDialogVisible: true,
        refundChoice: '',
        refundReason: '',
        refundRequestId: newRequestId('refund'),
      });
    },
    onCloseRefund() {
      this.setData({ refundDialogVisible: false });
    },
    onReasonPick(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ refundChoice: e.detail.value });
    },
    onReasonChange(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ refundReason: e.detail.value });
    },
    async onSubmitRefund() {
      if (this.data.busy) return;
      const choice = this.data.refundChoice;
      const own = this.data.refundReason.trim();
      if (!choice || (choice === OTHER_REASON && !own)) {
        wx.showToast({ title: choice ? '请写下退款原因' : '请选择退款原因', icon: 'none' });
        return;
      }
      const reason = choice === OTHER_REASON ? own : own ? `${choice}：${own}` : choice;
      this.setData({ busy: true });
      try {
        this.show(await requestRefund(this.data.orderId, [...reason].slice(0, 80).join(''), this.data.refundRequestId));
        this.setData({ refundDialogVisible: false });
        wx.showToast({ title: '退款申请已提交', icon: 'success' });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});

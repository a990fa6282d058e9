/**
 * One exception and what can be done about it, as the backend offers: a review order (WeChat Pay took another amount)
 * is accepted at that amount or refunded in full; an abnormal refund is sent again to the user's or the merchant's
 * bank card through WeChat Pay, or marked as handled in the merchant platform; any open exception can be resolved
 * with a note. Every action asks for confirmation (and a note where the backend keeps one) and is audited there.
 */
import type { ExceptionView } from '../../../../typings/api';
import { BANK_TYPES } from '../../../constants/admin';
import {
  acceptReview,
  applyAbnormalRefund,
  getException,
  markAbnormalHandled,
  refundReview,
  resolveException,
} from '../../../services/admin';
import { newRequestId } from '../../../utils/time';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';
import { toExceptionRow, type ExceptionRow } from '../view';

type Action = '' | 'resolve' | 'accept' | 'refundReview' | 'markHandled' | 'merchantCard' | 'userCard';

const TITLES: Record<Exclude<Action, ''>, string> = {
  resolve: '标记为已处理',
  accept: '按实收金额确认订单',
  refundReview: '全额退款给用户',
  markHandled: '已在商户平台处理',
  merchantCard: '退到商户银行卡',
  userCard: '退到用户银行卡',
};
const NEEDS_NOTE: Action[] = ['resolve', 'accept', 'refundReview', 'markHandled'];

Component({
  data: {
    id: '',
    loading: true,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    row: null as ExceptionRow | null,
    can: { review: false, abnormal: false, resolve: false },
    action: '' as Action,
    actionTitle: '',
    needsNote: false,
    note: '',
    bankOptions: BANK_TYPES,
    bankType: '',
    bankAccount: '',
    realName: '',
    requestId: '',
    busy: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: decodeURIComponent(query.id ?? '') });
      void this.load();
    },
    show(e: ExceptionView) {
      const open = e.status === 'open';
      this.setData({
        row: toExceptionRow(e),
        loading: false,
        can: {
          review: open && e.kind === 'amount_mismatch' && Boolean(e.orderId),
          abnormal: open && e.kind === 'abnormal_refund' && Boolean(e.outRefundNo),
          resolve: open,
        },
      });
    },
    async load() {
      try {
        this.show(await getException(this.data.id));
      } catch (error) {
        this.setData({ loading: false, forbidden: handleAdminError(error) });
      }
    },
    onAction(
      e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { action: Exclude<Action, ''> }>,
    ) {
      const action = e.currentTarget.dataset.action;
      this.setData({
        action,
        actionTitle: TITLES[action],
        needsNote: NEEDS_NOTE.includes(action),
        note: '',
        bankType: '',
        bankAccount: '',
        realName: '',
        requestId: newRequestId('review'),
      });
    },
    onCloseAction() {
      this.setData({ action: '' });
    },
    onNote(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ note: e.detail.value });
    },
    onBankPick(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { value: string }>) {
      this.setData({ bankType: e.currentTarget.dataset.value });
    },
    onBankAccount(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ bankAccount: e.detail.value });
    },
    onRealName(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ realName: e.detail.value });
    },
    /** What is missing before the action can go, in words; '' when complete. */
    missing(): string {
      const { action, note, bankType, bankAccount, realName } = this.data;
      if (NEEDS_NOTE.includes(action) && !note.trim()) return '请填写处理说明';
      if (action === 'userCard') {
        if (!bankType) return '请选择开户银行';
        if (!/^\d{8,32}$/.test(bankAccount.trim())) return '请填写正确的银行卡号';
        if (!realName.trim()) return '请填写持卡人姓名';
      }
      return '';
    },
    async onConfirmAction() {
      if (this.data.busy || !this.data.action || !this.data.row) return;
      const problem = this.missing();
      if (problem) {
        wx.showToast({ title: problem, icon: 'none' });
        return;
      }
      const { action, row } = this.data;
      const note = this.data.note.trim();
      this.setData({ busy: true });
      try {
        if (action === 'resolve') await resolveException(row.id, note);
        else if (action === 'accept') await acceptReview(row.orderId, note);
        else if (action === 'refundReview') await refundReview(row.orderId, note, this.data.requestId);
        else if (action === 'markHandled') await markAbnormalHandled(row.outRefundNo, note);
        else if (action === 'merchantCard') await applyAbnormalRefund(row.outRefundNo, { type: 'MERCHANT_BANK_CARD' });
        else
          await applyAbnormalRefund(row.outRefundNo, {
            type: 'USER_BANK_CARD',
            bankType: this.data.bankType,
            bankAccount: this.data.bankAccount.trim(),
            realName: this.data.realName.trim(),
          });
        this.setData({ action: '', bankAccount: '', realName: '' });
        wx.showToast({
          title: action === 'merchantCard' || action === 'userCard' ? '已提交微信支付' : '已处理',
          icon: 'success',
        });
        await this.load();
      } catch (error) {
        if (handleAdminError(error)) this.setData({ forbidden: true, action: '' });
      } finally {
        this.setData({ busy: false });
      }
    },
    onOpenOrder() {
      if (this.data.row?.orderId) wx.navigateTo({ url: `/pages/admin/order/index?id=${this.data.row.orderId}` });
    },
  },
});

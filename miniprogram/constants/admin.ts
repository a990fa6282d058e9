/** The merchant side's enums and their Chinese labels, in one place. */
import type { AdminPaymentView, BillDifferenceKind, ExceptionKind, StatementStatus } from '../../typings/api';

export const EXCEPTION_KIND_TEXT: Record<ExceptionKind, string> = {
  amount_mismatch: '实收金额与订单不符',
  duplicate_charge: '重复支付（已自动退回）',
  abnormal_refund: '退款异常（用户账户无法入账）',
  refund_unapplied: '退款成功但未能记入订单',
  refund_refused: '退款被微信支付拒绝',
  unknown_payment: '收到不明来源的付款',
  payment_mismatch: '付款信息与订单不符',
  bill_difference: '对账单差异',
};

export const EXCEPTION_STATUS_TABS: { value: 'open' | 'resolved'; label: string }[] = [
  { value: 'open', label: '待处理' },
  { value: 'resolved', label: '已处理' },
];

export const RESOLUTION_TEXT: Record<string, string> = {
  resolved: '已标记处理',
  accepted: '按实收金额确认',
  handled_outside: '已在商户平台处理',
  refunded: '已全额退款',
};

export const PAYMENT_STATUS_TEXT: Record<AdminPaymentView['status'], string> = {
  created: '已创建',
  prepaid: '待支付',
  success: '支付成功',
  closed: '已关闭',
  amount_mismatch: '金额不符',
  duplicate: '重复支付',
};

/** Bank types WeChat Pay's apply-abnormal-refund takes (the common debit cards). */
export const BANK_TYPES: { value: string; label: string }[] = [
  { value: 'ICBC_DEBIT', label: '工商银行' },
  { value: 'CCB_DEBIT', label: '建设银行' },
  { value: 'ABC_DEBIT', label: '农业银行' },
  { value: 'BOC_DEBIT', label: '中国银行' },
  { value: 'CMB_DEBIT', label: '招商银行' },
  { value: 'COMM_DEBIT', label: '交通银行' },
  { value: 'PSBC_DEBIT', label: '邮储银行' },
];

export const STATEMENT_STATUS_TEXT: Record<StatementStatus, string> = {
  creating: '账单生成中',
  no_statement: '当日无交易',
  done: '已对账',
  failed: '对账失败',
};

export const BILL_DIFFERENCE_TEXT: Record<BillDifferenceKind, string> = {
  missing_here: '账单有、系统无',
  missing_in_bill: '系统有、账单无',
  amount_differs: '金额不一致',
  refund_state_differs: '退款状态不一致',
  duplicate_row: '账单重复记录',
};

export const PAID_BY_TEXT: Record<'notification' | 'query' | 'reconcile' | 'bill' | 'unknown', string> = {
  notification: '支付通知',
  query: '主动查询',
  reconcile: '定时补单',
  bill: '对账补单',
  unknown: '其他',
};

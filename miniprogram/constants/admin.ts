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
  unfulfillable: '订单无法履约',
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
  comparing: '分批对账中',
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

/** What each exception means for the shop, in its words (amounts already formatted; '' when unknown). */
export const EXCEPTION_SUMMARY: Record<ExceptionKind, (a: { expected: string; actual: string }) => string> = {
  amount_mismatch: (a) =>
    `微信支付实收${a.actual || '金额'}与订单应收${a.expected || '金额'}不一致，订单暂停在“核对中”：可按实收金额确认，或全额退款。`,
  duplicate_charge: (a) => `同一订单被支付了两次，多收的${a.actual || '款项'}已自动全额退回，退款成功后此项自动关闭。`,
  abnormal_refund: (a) =>
    `退款${a.actual}无法退到用户的账户（如银行卡已注销或冻结），需改退到银行卡，或在商户平台处理后在此标记。`,
  refund_unapplied: () => '微信支付退款成功，但订单已没有可退的余额，订单转为“核对中”，请核对后处理。',
  refund_refused: () => '微信支付拒绝了这笔退款，预留的金额已释放，核对原因后可重新发起退款。',
  unknown_payment: (a) => `收到一笔系统中没有记录的付款${a.actual}，请在微信支付商户平台核对。`,
  payment_mismatch: () => '一笔付款的付款人、订单或币种与系统记录不符，未记为已支付，请核对。',
  bill_difference: () => '微信支付对账单与系统记录不一致，请核对。',
  unfulfillable: () => '已付款的订单无人接单或无法完成（如售罄），请全额退款。',
};

/** A bill row's trade state (WeChat Pay's bill: trade_state / refund_status) in the shop's words. */
export const BILL_STATE_TEXT: Record<string, string> = {
  SUCCESS: '已支付',
  REFUND: '已退款',
  NOTPAY: '未支付',
  CLOSED: '已关闭',
  REVOKED: '已撤销',
  USERPAYING: '支付中',
  PAYERROR: '支付失败',
  PROCESSING: '退款中',
  ABNORMAL: '退款异常',
};

/** The books' own state of that payment or refund (the backend's payment and refund statuses). */
export const BOOKS_STATE_TEXT: Record<string, string> = {
  created: '未发起支付',
  prepaid: '待支付',
  success: '已支付',
  closed: '已关闭',
  amount_mismatch: '金额不符',
  duplicate: '重复支付',
  queued: '退款排队中',
  unknown: '退款处理中',
  processing: '退款处理中',
  abnormal: '退款异常',
  failed: '退款失败',
};

/** A state this version does not know is still not shown raw. */
export const stateText = (table: Record<string, string>, state: string | undefined) =>
  state === undefined ? '—' : (table[state] ?? '其他状态');

/** The order domain's enums and their Chinese labels, in one place. */
import type { OrderStatus, RefundStatus } from '../../typings/api';

export const ORDER_STATUS_TEXT: Record<OrderStatus, string> = {
  pending_payment: '待付款',
  paid: '已付款',
  refunding: '退款中',
  partially_refunded: '部分退款',
  refunded: '已退款',
  cancelled: '已取消',
  closed: '已关闭',
  review: '核对中',
};

export const ORDER_STATUS_THEME: Record<OrderStatus, 'primary' | 'success' | 'warning' | 'danger' | 'default'> = {
  pending_payment: 'warning',
  paid: 'success',
  refunding: 'primary',
  partially_refunded: 'primary',
  refunded: 'default',
  cancelled: 'default',
  closed: 'default',
  review: 'danger',
};

export type OrderTab = 'all' | 'pending_payment' | 'paid' | 'refunds';

export const ORDER_TABS: { value: OrderTab; label: string }[] = [
  { value: 'all', label: '全部' },
  { value: 'pending_payment', label: '待付款' },
  { value: 'paid', label: '已付款' },
  { value: 'refunds', label: '退款/售后' },
];

export const TIMELINE_TEXT: Record<string, string> = {
  created: '订单已提交',
  payment_started: '发起支付',
  paid: '支付成功',
  cancelled: '订单已取消',
  closed: '订单超时关闭',
  refund_requested: '申请退款',
  refund_succeeded: '退款成功',
  refund_failed: '退款未成功',
  review: '支付金额核对中',
  duplicate_charge: '重复支付，已自动退回',
  review_accepted: '核对完成，订单已确认',
};

export const REFUND_STATUS_TEXT: Record<RefundStatus, string> = {
  queued: '退款处理中',
  unknown: '退款处理中',
  processing: '退款处理中',
  success: '退款成功',
  abnormal: '退款异常',
  closed: '退款关闭',
  failed: '退款失败',
};

export const REFUND_REASONS = ['不想要了', '买错了', '时间冲突，无法参加', '其他原因'];

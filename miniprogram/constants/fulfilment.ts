/** Fulfilment's enums (typings/api/fulfilment.ts) in the buyer's and the staff's words, in one place. */
import type { AfterSaleStatus, FulfilmentState, ProductKind } from '../../typings/api';

export const FULFILMENT_STATE_TEXT: Record<FulfilmentState, string> = {
  awaiting: '待接单',
  assigned: '已派单',
  accepted: '已接单',
  ready: '待取餐',
  picked_up: '已取餐',
  shipped: '已发货',
  received: '已收货',
  in_service: '服务中',
  completed: '已完成',
  unfulfillable: '无法履约',
};

/** A pickup order accepted is being made: the buyer reads 制作中 where staff read 已接单. */
export function fulfilmentText(kind: ProductKind, state: FulfilmentState): string {
  if (kind === 'pickup' && state === 'accepted') return '制作中';
  if (kind === 'service' && state === 'accepted') return '已接单，待服务';
  return FULFILMENT_STATE_TEXT[state];
}

/** What the buyer does next, on the paid page and the detail page, before anything has happened. */
export const NEXT_STEP_TEXT: Record<ProductKind, { title: string; text: string }> = {
  pickup: { title: '到店取餐', text: '店员接单后开始制作，做好后这里会显示取餐码，凭码到柜台取餐' },
  shipping: { title: '快递发货', text: '商家接单后尽快发货，发货后可在订单里查看快递单号' },
  service: { title: '按时到店', text: '请在服务时间前到店，店员接单后会在订单里显示' },
};

export const AFTER_SALE_STATUS_TEXT: Record<AfterSaleStatus, string> = {
  requested: '售后申请处理中',
  approved: '售后已同意，退款处理中',
  partly_approved: '售后部分同意，退款处理中',
  declined: '售后申请未通过',
};

export const RECEIVED_BY_TEXT = {
  buyer: '你已确认收货',
  wechat_buyer: '你已在微信确认收货',
  wechat_auto: '超时自动确认收货',
};

/** The staff's moves in the staff's words: the button, and the confirmation they read before it is made. */
export type StaffAction = 'accept' | 'decline' | 'ready' | 'handOver' | 'ship' | 'start' | 'complete';

export const STAFF_ACTIONS: Record<StaffAction, { label: string; confirm: string }> = {
  accept: { label: '接单', confirm: '接下这单后由你负责，买家会看到“已接单”。' },
  decline: { label: '退回', confirm: '退回后这单回到待接单，其他店员可以接。' },
  ready: { label: '制作完成', confirm: '买家会收到取餐码，请把商品放到取餐台。' },
  handOver: { label: '交付', confirm: '核对买家的取餐码后交付。' },
  ship: { label: '发货', confirm: '填写快递公司和单号，发货后买家可以查看物流。' },
  start: { label: '开始服务', confirm: '确认买家已到店，开始服务。' },
  complete: { label: '完成服务', confirm: '服务完成后订单结束。' },
};

/** The order the buttons appear in on a card. */
export const STAFF_ACTION_ORDER: StaffAction[] = [
  'accept',
  'decline',
  'ready',
  'handOver',
  'ship',
  'start',
  'complete',
];

/** How often the queue is read while the page is on screen. */
export const QUEUE_REFRESH_MS = 5000;

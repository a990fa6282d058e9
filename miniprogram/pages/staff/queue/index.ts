/**
 * 店员工作台: the paid orders waiting for someone (newest first, as the backend sends them) and the caller's own, read
 * every few seconds while the page is on screen (the timer stops when it is hidden) and on every show. Each move is
 * confirmed in a dialog naming the order and the buyer (phone masked by the backend); a hand-over takes the pickup
 * code typed or scanned (wx.scanCode), a shipment an express company from WeChat's list and a tracking number.
 * 「新订单提醒」 is subscribed from here (each acceptance lets the backend send one).
 */
import type { StaffOrderView } from '../../../../typings/api';
import { appConfig } from '../../../config';
import { fulfilmentText } from '../../../constants/fulfilment';
import { QUEUE_REFRESH_MS, STAFF_ACTIONS, STAFF_ACTION_ORDER, type StaffAction } from '../../../constants/staff';
import { ApiFailure, messageFor, showError } from '../../../services/errors';
import {
  acceptOrder,
  completeService,
  declineOrder,
  deliveryCompanies,
  handOver,
  markReady,
  recordNewOrderAcceptance,
  shipOrder,
  staffMe,
  staffMine,
  staffQueue,
  startService,
} from '../../../services/staff';
import { askSubscription } from '../../../services/subscribe';
import { formatFen } from '../../../utils/money';
import { formatTime } from '../../../utils/time';

interface StaffCard {
  id: string;
  title: string;
  stateText: string;
  buyer: string;
  paidText: string;
  remark: string;
  address: string;
  actions: { action: StaffAction; label: string }[];
}

function toCard(order: StaffOrderView): StaffCard {
  const count = order.items.reduce((n, i) => n + i.quantity, 0);
  const a = order.fulfilment.address;
  return {
    id: order.id,
    title: order.items.length > 1 ? `${order.items[0]!.title} 等 ${count} 件` : `${order.items[0]!.title} × ${count}`,
    stateText: fulfilmentText(order.fulfilment.kind, order.fulfilment.state),
    buyer: `${order.contact.name} ${order.contact.phone}`,
    paidText: `${formatFen(order.totalFen)}${order.paidAt ? ` · ${formatTime(order.paidAt)}` : ''}`,
    remark: order.remark,
    address: a ? `${a.provinceName}${a.cityName}${a.countyName}${a.detailInfo}` : '',
    actions: STAFF_ACTION_ORDER.filter((action) => order.can[action]).map((action) => ({
      action,
      label: STAFF_ACTIONS[action].label,
    })),
  };
}

const timers = new WeakMap<object, number>();

Component({
  data: {
    name: '',
    forbidden: false,
    loading: true,
    sections: [] as { key: string; title: string; orders: StaffCard[] }[],
    subscribeOffered: false,
    pending: null as { id: string; action: StaffAction; title: string; text: string } | null,
    busy: false,
    code: '',
    companies: [] as { id: string; name: string }[],
    company: '',
    trackingNo: '',
    formError: '',
  },
  methods: {
    onLoad() {
      this.setData({ subscribeOffered: Boolean(appConfig.staffOrderTemplateId) });
      void staffMe().then(
        (me) => this.setData({ name: me.name }),
        (error: unknown) => {
          if (error instanceof ApiFailure && error.code === 'FORBIDDEN') this.setData({ forbidden: true });
        },
      );
    },
    onShow() {
      void this.refresh();
      this.startTimer();
    },
    onHide() {
      this.stopTimer();
    },
    onUnload() {
      this.stopTimer();
    },
    startTimer() {
      this.stopTimer();
      timers.set(this, setInterval(() => void this.refresh(), QUEUE_REFRESH_MS) as unknown as number);
    },
    stopTimer() {
      const timer = timers.get(this);
      if (timer !== undefined) clearInterval(timer);
      timers.delete(this);
    },
    async refresh() {
      try {
        const [queue, mine] = await Promise.all([staffQueue(), staffMine()]);
        this.setData({
          loading: false,
          sections: [
            { key: 'queue', title: '待接单', orders: queue.orders.map(toCard) },
            { key: 'mine', title: '我在处理', orders: mine.orders.map(toCard) },
          ],
        });
      } catch (error) {
        this.setData({ loading: false });
        if (error instanceof ApiFailure && error.code === 'FORBIDDEN') {
          this.setData({ forbidden: true });
          this.stopTimer();
        }
      }
    },
    onPullDownRefresh() {
      void this.refresh().then(() => wx.stopPullDownRefresh());
    },
    card(id: string): StaffCard | undefined {
      for (const section of this.data.sections) {
        const card = section.orders.find((o) => o.id === id);
        if (card) return card;
      }
      return undefined;
    },
    async onAction(
      e: WechatMiniprogram.TouchEvent<
        Record<string, never>,
        Record<string, never>,
        { id: string; action: StaffAction }
      >,
    ) {
      const { id, action } = e.currentTarget.dataset;
      const card = this.card(id);
      if (!card) return;
      const spec = STAFF_ACTIONS[action];
      this.setData({
        pending: { id, action, title: `${spec.label}：${card.title}`, text: `买家 ${card.buyer}。${spec.confirm}` },
        code: '',
        trackingNo: '',
        company: '',
        formError: '',
      });
      if (action === 'ship') {
        try {
          this.setData({ companies: await deliveryCompanies() });
        } catch (error) {
          showError(error);
        }
      }
    },
    onCancel() {
      this.setData({ pending: null });
    },
    onCode(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ code: e.detail.value });
    },
    onTracking(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ trackingNo: e.detail.value });
    },
    onCompany(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      this.setData({ company: e.currentTarget.dataset.id });
    },
    onScan() {
      wx.scanCode({
        onlyFromCamera: true,
        scanType: ['qrCode', 'barCode'],
        success: (res) => this.setData({ code: res.result.replace(/\D/g, '').slice(0, 6) }),
        fail: () => undefined, // cancelled, or no camera: the code can still be typed
      });
    },
    async onConfirm() {
      const pending = this.data.pending;
      if (!pending || this.data.busy) return;
      const { id, action } = pending;
      if (action === 'handOver' && !/^\d{4,6}$/.test(this.data.code)) {
        this.setData({ formError: '请输入买家的 4–6 位取餐码' });
        return;
      }
      if (action === 'ship' && (!this.data.company || !this.data.trackingNo.trim())) {
        this.setData({ formError: '请选择快递公司并填写快递单号' });
        return;
      }
      this.setData({ busy: true, formError: '' });
      try {
        const moves: Record<StaffAction, () => Promise<unknown>> = {
          accept: () => acceptOrder(id),
          decline: () => declineOrder(id),
          ready: () => markReady(id),
          handOver: () => handOver(id, this.data.code),
          ship: () => shipOrder(id, this.data.company, this.data.trackingNo.trim()),
          start: () => startService(id),
          complete: () => completeService(id),
        };
        await moves[action]();
        this.setData({ pending: null });
        wx.showToast({ title: `已${STAFF_ACTIONS[action].label}`, icon: 'success' });
      } catch (error) {
        // another staff member took it, a wrong code, too many tries: the backend's words, and the queue as it is now
        this.setData({ formError: messageFor(error) });
      } finally {
        this.setData({ busy: false });
        void this.refresh();
      }
    },
    onSubscribe() {
      // in the tap itself: WeChat shows the dialog only there
      void askSubscription(appConfig.staffOrderTemplateId).then(async (answer) => {
        if (answer !== 'accept') return;
        try {
          await recordNewOrderAcceptance(1);
          wx.showToast({ title: '有新订单时会提醒你', icon: 'none' });
        } catch (error) {
          showError(error);
        }
      });
    },
  },
});

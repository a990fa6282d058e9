/**
 * Order confirmation: items from the catalogue page, contact and remark validated here and again on the server,
 * submitted once (a request id made when the page opens makes a double tap or a retry the same order), then the
 * server's total and expiry, then payment.
 */
import type { OrderView } from '../../../../typings/api';
import { listProducts } from '../../../services/catalog';
import { confirmOrder } from '../../../services/orders';
import { showError } from '../../../services/errors';
import { formatFen } from '../../../utils/money';
import { formatTime, newRequestId } from '../../../utils/time';
import { parseItems, validateContact } from './form';
import { payFlowData, payFlowMethods, startPayment, type PayHost } from '../pay-flow';

interface ItemRow {
  productId: string;
  quantity: number;
  title: string;
  priceText: string;
}

Component({
  data: {
    ...payFlowData,
    items: [] as ItemRow[],
    estimateText: formatFen(0),
    name: '',
    phone: '',
    remark: '',
    errors: {} as Record<string, string>,
    submitting: false,
    requestId: '',
    order: null as OrderView | null,
    totalText: '',
    expiresText: '',
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const chosen = parseItems(query.items);
      this.setData({ requestId: newRequestId('checkout') });
      if (chosen.length === 0) {
        wx.showToast({ title: '请先选择商品', icon: 'none' });
        return;
      }
      this.setData({ items: chosen.map((c) => ({ ...c, title: c.productId, priceText: '' })) });
      try {
        const products = new Map((await listProducts()).map((p) => [p.id, p]));
        const items = chosen.map((c) => ({ ...c, title: products.get(c.productId)?.title ?? '已下架商品', priceText: products.has(c.productId) ? formatFen(products.get(c.productId)!.priceFen) : '-' }));
        const estimate = chosen.reduce((sum, c) => sum + (products.get(c.productId)?.priceFen ?? 0) * c.quantity, 0);
        this.setData({ items, estimateText: formatFen(estimate) });
      } catch (error) {
        showError(error);
      }
    },
    onNameChange(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ name: e.detail.value, 'errors.name': '' });
    },
    onPhoneChange(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ phone: e.detail.value, 'errors.phone': '' });
    },
    onRemarkChange(e: WechatMiniprogram.CustomEvent<{ value: string }>) {
      this.setData({ remark: e.detail.value, 'errors.remark': '' });
    },
    async onSubmit() {
      if (this.data.submitting || this.data.order) return;
      const errors = validateContact(this.data.name, this.data.phone, this.data.remark);
      this.setData({ errors });
      if (Object.keys(errors).length > 0) return;
      this.setData({ submitting: true });
      try {
        const order = await confirmOrder({
          requestId: this.data.requestId,
          items: this.data.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
          contact: { name: this.data.name.trim(), phone: this.data.phone.trim() },
          remark: this.data.remark,
        });
        this.setData({ order, totalText: formatFen(order.totalFen), expiresText: formatTime(order.expiresAt) });
      } catch (error) {
        showError(error);
      } finally {
        this.setData({ submitting: false });
      }
    },
    onPay() {
      if (this.data.order) void startPayment(this as unknown as PayHost, this.data.order.id);
    },
    ...payFlowMethods({ stayOnGiveUp: false }),
  },
});

/**
 * Order confirmation: items from the catalogue page (names and prices from the catalogue kept since the home page),
 * contact and remark validated here and again on the server, then one tap — "提交订单" — makes the order (a request
 * id made when the page opens makes a double tap or a retry the same order) and opens the payment sheet. If paying
 * is cancelled the order stays here, with its number and a countdown to its expiry, payable from the bottom bar.
 */
import type { OrderView } from '../../../../typings/api';
import { listProducts } from '../../../services/catalog';
import { markOrderPlaced } from '../../../utils/checkout';
import { formatFen } from '../../../utils/money';
import { newRequestId } from '../../../utils/time';
import { parseItems, validateContact } from './form';
import { payFlowData, payFlowMethods, startPayment, type PayHost } from '../../../utils/pay-flow';

interface ItemRow {
  productId: string;
  quantity: number;
  title: string;
  priceText: string;
}

Component({
  data: {
    ...payFlowData,
    chosen: [] as { productId: string; quantity: number }[],
    items: [] as ItemRow[],
    /** the catalogue could not be read: names and prices unknown, nothing can be submitted until it is */
    itemsFailed: false,
    estimateText: formatFen(0),
    name: '',
    phone: '',
    remark: '',
    errors: {} as Record<string, string>,
    submitting: false,
    requestId: '',
    order: null as OrderView | null,
    totalText: '',
    remainingMs: 0,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const chosen = parseItems(query.items);
      this.setData({ requestId: newRequestId('checkout'), chosen });
      if (chosen.length === 0) {
        wx.showToast({ title: '请先选择商品', icon: 'none' });
        return;
      }
      await this.loadItems();
    },
    async loadItems() {
      const chosen = this.data.chosen;
      try {
        let list = await listProducts();
        // a product the kept catalogue does not know (added since it was read): read it afresh once
        if (chosen.some((c) => !list.some((p) => p.id === c.productId))) list = await listProducts({ fresh: true });
        const products = new Map(list.map((p) => [p.id, p]));
        const items = chosen.map((c) => {
          const product = products.get(c.productId);
          return {
            ...c,
            title: product?.title ?? '已下架的商品',
            priceText: product ? formatFen(product.priceFen) : '—',
          };
        });
        const estimate = chosen.reduce((sum, c) => sum + (products.get(c.productId)?.priceFen ?? 0) * c.quantity, 0);
        this.setData({ items, itemsFailed: false, estimateText: formatFen(estimate) });
      } catch {
        this.setData({ items: [], itemsFailed: true });
      }
    },
    onReloadItems() {
      void this.loadItems();
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
    /** The order as the one call made it (the page's request id: a double tap or a retry is the same order). */
    onOrderPlaced(order: OrderView) {
      markOrderPlaced();
      this.setData({
        order,
        totalText: formatFen(order.totalFen),
        remainingMs: Math.max(0, order.expiresAt - Date.now()),
      });
    },
    /** The one tap from confirmation to the payment sheet. */
    onSubmit() {
      if (this.data.submitting || this.data.paying || this.data.items.length === 0) return;
      if (!this.data.order) {
        const errors = validateContact(this.data.name, this.data.phone, this.data.remark);
        this.setData({ errors });
        if (Object.keys(errors).length > 0) return;
      }
      const source = this.data.order
        ? this.data.order.id
        : {
            request: {
              requestId: this.data.requestId,
              items: this.data.chosen,
              contact: { name: this.data.name.trim(), phone: this.data.phone.trim() },
              remark: this.data.remark,
            },
            onOrder: (order: OrderView) => this.onOrderPlaced(order),
          };
      void startPayment(this as unknown as PayHost, source);
    },
    onExpired() {
      this.setData({ remainingMs: 0 });
      wx.showToast({ title: '订单已过期，请重新下单', icon: 'none' });
    },
    ...payFlowMethods({ stayOnGiveUp: false }),
  },
});

/** Catalogue: products priced by the server (shown from fen), quantities chosen here, then the confirm page. */
import type { Product } from '../../../../typings/api';
import { ensureLogin, loginState, onLoginState, type LoginState } from '../../../services/auth';
import { listProducts } from '../../../services/catalog';
import { formatFen } from '../../../utils/money';

interface ProductRow extends Product {
  priceText: string;
  quantity: number;
}

let unsubscribe: (() => void) | undefined;

Component({
  data: {
    loginState: 'idle' as LoginState,
    loading: true,
    loadFailed: false,
    products: [] as ProductRow[],
    count: 0,
    totalText: formatFen(0),
  },
  methods: {
    onLoad() {
      unsubscribe = onLoginState((state) => this.setData({ loginState: state }));
      this.setData({ loginState: loginState() });
      ensureLogin().catch(() => undefined);
      void this.load();
    },
    onUnload() {
      unsubscribe?.();
    },
    async load() {
      this.setData({ loading: true, loadFailed: false });
      try {
        const products = await listProducts();
        this.setData({ products: products.map((p) => ({ ...p, priceText: formatFen(p.priceFen), quantity: 0 })), loading: false });
        this.recount();
      } catch {
        this.setData({ loading: false, loadFailed: true });
      }
    },
    onReload() {
      void this.load();
    },
    onRetryLogin() {
      ensureLogin(true).catch(() => undefined);
    },
    onQuantityChange(e: WechatMiniprogram.CustomEvent<{ value: number }, Record<string, never>, { id: string }>) {
      const id = e.currentTarget.dataset.id;
      const products = this.data.products.map((p) => (p.id === id ? { ...p, quantity: Number(e.detail.value) || 0 } : p));
      this.setData({ products });
      this.recount();
    },
    recount() {
      const chosen = this.data.products.filter((p) => p.quantity > 0);
      this.setData({
        count: chosen.reduce((n, p) => n + p.quantity, 0),
        totalText: formatFen(chosen.reduce((sum, p) => sum + p.priceFen * p.quantity, 0)),
      });
    },
    onCheckout() {
      const items = this.data.products.filter((p) => p.quantity > 0).map((p) => ({ productId: p.id, quantity: p.quantity }));
      if (items.length === 0) return;
      wx.navigateTo({ url: `/pages/order/confirm/index?items=${encodeURIComponent(JSON.stringify(items))}` });
    },
    onOpenOrders() {
      wx.navigateTo({ url: '/pages/order/list/index' });
    },
  },
});

/**
 * Catalogue (the 点单 tab): products priced by the server (shown from fen) with their pictures, quantities chosen
 * here, then the confirm page. Quantities are cleared once an order is placed, so Back from the result page starts
 * afresh. Shared to a chat or to Moments with the shop's name and the first product's picture.
 */
import type { Product } from '../../../../typings/api';
import { ensureLogin, loginState, onLoginState, type LoginState } from '../../../services/auth';
import { listProducts } from '../../../services/catalog';
import { appConfig } from '../../../config';
import { ordersPlaced } from '../../../utils/checkout';
import { productImageUrl } from '../../../utils/image';
import { formatFen } from '../../../utils/money';
import { markTab } from '../../../utils/tab-bar';

interface ProductRow extends Product {
  priceText: string;
  imageUrl: string;
  quantity: number;
}

const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: {
    loginState: 'idle' as LoginState,
    loading: true,
    loadFailed: false,
    products: [] as ProductRow[],
    count: 0,
    totalText: formatFen(0),
    /** the number of orders placed when these quantities were chosen */
    cartGeneration: 0,
  },
  methods: {
    onLoad() {
      const sync = (state: LoginState) => this.setData({ loginState: state });
      unsubscribers.set(this, onLoginState(sync));
      sync(loginState());
      this.setData({ cartGeneration: ordersPlaced() });
      ensureLogin().catch(() => undefined);
      void this.load();
    },
    onUnload() {
      unsubscribers.get(this)?.();
    },
    onShow() {
      markTab(this, 'home');
      // an order was placed since these quantities were chosen: start afresh
      if (ordersPlaced() !== this.data.cartGeneration) this.clearQuantities();
    },
    clearQuantities() {
      this.setData({
        products: this.data.products.map((p) => ({ ...p, quantity: 0 })),
        cartGeneration: ordersPlaced(),
      });
      this.recount();
    },
    async load() {
      this.setData({ loading: true, loadFailed: false });
      try {
        const products = await listProducts({ fresh: true });
        this.setData({
          products: products.map((p) => ({
            ...p,
            priceText: formatFen(p.priceFen),
            imageUrl: productImageUrl(p.image),
            quantity: 0,
          })),
          loading: false,
        });
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
      const products = this.data.products.map((p) =>
        p.id === id ? { ...p, quantity: Number(e.detail.value) || 0 } : p,
      );
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
      const items = this.data.products
        .filter((p) => p.quantity > 0)
        .map((p) => ({ productId: p.id, quantity: p.quantity }));
      if (items.length === 0) return;
      wx.navigateTo({ url: `/pages/order/confirm/index?items=${encodeURIComponent(JSON.stringify(items))}` });
    },
    shareCard() {
      const first = this.data.products.find((p) => p.imageUrl);
      return { title: `${appConfig.merchantName} · 今日供应`, imageUrl: first?.imageUrl || undefined };
    },
    onShareAppMessage() {
      return { ...this.shareCard(), path: '/pages/home/index/index' };
    },
    onShareTimeline() {
      return this.shareCard();
    },
  },
});

/**
 * The local cloud's stand-in for the WeChat cashier: shown instead of wx.requestPayment when config.mode is
 * 'local'. `open()` resolves with what the user chose; closing the sheet counts as cancelling.
 */
import type { CashierChoice } from '../../services/payment';

type Resolver = ((choice: CashierChoice) => void) | undefined;
const pending = new WeakMap<object, Resolver>();

Component({
  properties: {
    amountText: { type: String, value: '' },
  },
  data: { visible: false },
  methods: {
    open(): Promise<CashierChoice> {
      return new Promise((resolve) => {
        pending.set(this, resolve);
        this.setData({ visible: true });
      });
    },
    finish(choice: CashierChoice) {
      const resolve = pending.get(this);
      pending.delete(this);
      this.setData({ visible: false });
      resolve?.(choice);
    },
    onPay() {
      this.finish('pay');
    },
    onCancel() {
      this.finish('cancel');
    },
    onFail() {
      this.finish('fail');
    },
    onVisibleChange(e: WechatMiniprogram.CustomEvent<{ visible: boolean }>) {
      if (!e.detail.visible) this.finish('cancel');
    },
  },
});

/**
 * 我的: the orders by status (全部 / 待付款 / 已付款 / 退款·售后, each one tap into the 订单 tab), 联系客服, the
 * 隐私保护指引, and the merchant's entry for admins (the backend checks every admin call).
 */
import { appConfig } from '../../../config';
import { ORDER_TABS } from '../../../constants/order';
import { currentProfile, ensureLogin, loginState, onLoginState, type LoginState } from '../../../services/auth';
import { openPrivacyContract } from '../../../services/privacy';
import { staffMe } from '../../../services/staff';
import { markTab, openOrdersTab } from '../../../utils/tab-bar';

const TAB_ICONS: Record<string, string> = { pending_payment: 'wallet', paid: 'check-circle', refunds: 'rollback' };
const LOGIN_TEXT: Record<LoginState, string> = {
  idle: '正在登录…',
  pending: '正在登录…',
  ok: '已登录',
  failed: '登录失败，可在点单页重新登录',
};

const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: {
    merchantName: appConfig.merchantName,
    isAdmin: false,
    /** the backend answered staff.me: this user is staff (it checks every staff call) */
    isStaff: false,
    loginText: LOGIN_TEXT.idle,
    orderTabs: ORDER_TABS.filter((t) => t.value !== 'all').map((t) => ({
      ...t,
      icon: TAB_ICONS[t.value] ?? 'view-list',
    })),
  },
  methods: {
    onLoad() {
      const sync = (state: LoginState) =>
        this.setData({
          loginText: LOGIN_TEXT[state],
          isAdmin: state === 'ok' && currentProfile()?.isAdmin === true,
        });
      unsubscribers.set(this, onLoginState(sync));
      sync(loginState());
      ensureLogin()
        .then(() => staffMe())
        .then(
          () => this.setData({ isStaff: true }),
          () => undefined,
        );
    },
    onUnload() {
      unsubscribers.get(this)?.();
    },
    onShow() {
      markTab(this, 'mine');
    },
    onOpenOrders(e: WechatMiniprogram.CustomEvent<Record<string, never>, Record<string, never>, { tab: string }>) {
      openOrdersTab(e.currentTarget.dataset.tab);
    },
    onOpenPrivacy() {
      openPrivacyContract();
    },
    onOpenStaff() {
      wx.navigateTo({ url: '/pages/staff/queue/index' });
    },
    onOpenAdmin() {
      wx.navigateTo({ url: '/pages/admin/index/index' });
    },
  },
});

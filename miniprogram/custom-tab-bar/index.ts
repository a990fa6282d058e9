/**
 * The tab bar (点单 / 订单 / 我的), TDesign's t-tab-bar as WeChat's custom tab bar: every tab page has its own instance,
 * and each page marks its tab when shown (`markTab`, through getTabBar), as WeChat's custom tab bar requires.
 */
import { TABS, type TabValue } from '../constants/tabs';

Component({
  data: { tabs: TABS, value: 'home' as TabValue },
  methods: {
    onChange(e: WechatMiniprogram.CustomEvent<{ value: TabValue }>) {
      const tab = TABS.find((t) => t.value === e.detail.value);
      if (!tab || tab.value === this.data.value) return;
      wx.switchTab({ url: tab.url });
    },
  },
});

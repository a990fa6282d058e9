/** The tab bar's tabs (app.json's tabBar.list names the same pages, in this order). */
export const TABS = [
  { value: 'home', label: '点单', icon: 'shop', url: '/pages/home/index/index' },
  { value: 'orders', label: '订单', icon: 'view-list', url: '/pages/mine/orders/index' },
  { value: 'mine', label: '我的', icon: 'user', url: '/pages/mine/index/index' },
] as const;

export type TabValue = (typeof TABS)[number]['value'];

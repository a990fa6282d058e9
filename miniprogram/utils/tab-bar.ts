import type { TabValue } from '../constants/tabs';

/** A tab page marks its tab when shown (each tab page has its own custom tab bar instance). */
export function markTab(page: unknown, value: TabValue): void {
  const host = page as { getTabBar?: () => { setData(data: { value: TabValue }): void } | null };
  if (typeof host.getTabBar === 'function') host.getTabBar()?.setData({ value });
}

/** wx.switchTab takes no query: the tab of the orders page to show is handed over here. */
let wantedOrdersTab: string | undefined;

export function openOrdersTab(tab: string): void {
  wantedOrdersTab = tab;
  wx.switchTab({ url: '/pages/mine/orders/index' });
}

export function takeWantedOrdersTab(): string | undefined {
  const tab = wantedOrdersTab;
  wantedOrdersTab = undefined;
  return tab;
}

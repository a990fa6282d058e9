/**
 * The merchant's home: what waits for a person (open exceptions), the order search, the daily statements, the
 * metrics, and the alerts subscription (each accepted alert message lets the backend send one alert to this admin).
 */
import { appConfig } from '../../../config';
import { listExceptions } from '../../../services/admin';
import { askSubscription, recordAlertAcceptance } from '../../../services/subscribe';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';

Component({
  data: {
    loading: true,
    forbidden: false,
    openCount: 0,
    openMore: false,
    alertsOffered: false,
    alertCredits: -1,
    subscribing: false,
    forbiddenText: FORBIDDEN_TEXT,
  },
  methods: {
    onLoad() {
      this.setData({ alertsOffered: Boolean(appConfig.alertTemplateId) });
      void this.load();
    },
    onShow() {
      if (!this.data.loading && !this.data.forbidden) void this.load();
    },
    async load() {
      try {
        const open = await listExceptions('open', '', 50);
        this.setData({ loading: false, openCount: open.exceptions.length, openMore: open.hasMore });
      } catch (error) {
        this.setData({ loading: false, forbidden: handleAdminError(error) });
      }
    },
    open(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { page: string }>) {
      wx.navigateTo({ url: `/pages/admin/${e.currentTarget.dataset.page}/index` });
    },
    /** In the tap: WeChat shows the subscribe dialog only there. */
    onSubscribeAlerts() {
      if (this.data.subscribing) return;
      this.setData({ subscribing: true });
      const answer = askSubscription(appConfig.alertTemplateId);
      void (async () => {
        try {
          if ((await answer) !== 'accept') {
            wx.showToast({ title: '未订阅，可随时再点此订阅', icon: 'none' });
            return;
          }
          const { credits } = await recordAlertAcceptance(1);
          this.setData({ alertCredits: credits });
          wx.showToast({ title: '已订阅告警通知', icon: 'success' });
        } catch (error) {
          handleAdminError(error);
        } finally {
          this.setData({ subscribing: false });
        }
      })();
    },
  },
});

/**
 * The last 30 days, from the daily roll-up: orders paid per day (and expired or cancelled), how payments were
 * confirmed, time from prepay to paid, notification deliveries, refunds and what is still open.
 */
import type { DailyMetrics } from '../../../../typings/api';
import { EXCEPTION_KIND_TEXT, PAID_BY_TEXT } from '../../../constants/admin';
import { REFUND_STATUS_TEXT } from '../../../constants/order';
import { listMetrics } from '../../../services/admin';
import { FORBIDDEN_TEXT, handleAdminError } from '../access';
import type { Bar } from '../components/bar-chart/index';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const pct = (part: number, whole: number) => (whole ? `${Math.round((part / whole) * 1000) / 10}%` : '—');
const seconds = (s: number | null) => (s === null ? '—' : s < 60 ? `${s} 秒` : `${Math.round(s / 6) / 10} 分钟`);

/** Totals of a Record<string, number> over the days, as labelled rows (largest first, zeros left out). */
function tally<K extends string>(
  days: DailyMetrics[],
  pick: (m: DailyMetrics) => Partial<Record<K, number>>,
  text: (key: K) => string,
) {
  const totals = new Map<K, number>();
  for (const m of days)
    for (const [key, n] of Object.entries(pick(m)) as [K, number][]) totals.set(key, (totals.get(key) ?? 0) + (n ?? 0));
  return [...totals]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => ({ key, label: text(key), count: n }));
}

export function summarise(metrics: DailyMetrics[]) {
  const days = [...metrics].sort((a, b) => a.date.localeCompare(b.date));
  const latest = days[days.length - 1];
  const label = (date: string) => date.slice(5);
  const paidBars: Bar[] = days.map((m) => ({
    label: label(m.date),
    value: m.orders.paid,
    extra: m.orders.expired + m.orders.cancelled,
  }));
  // deliveries refused before anything was read (signature, key, timestamp) or that failed: a key problem or an attack
  const notifyBars: Bar[] = days.map((m) => {
    const refused = sum(
      Object.entries(m.notifications.byVerdict)
        .filter(([verdict]) => verdict.startsWith('rejected') || verdict === 'error')
        .map(([, n]) => n),
    );
    return { label: label(m.date), value: Math.max(0, m.notifications.total - refused), extra: refused };
  });
  const created = sum(days.map((m) => m.orders.created));
  const paid = sum(days.map((m) => m.orders.paid));
  return {
    hasData: days.length > 0,
    rangeText: days.length ? `${days[0]!.date} 至 ${latest!.date}` : '',
    cards: [
      { label: '下单', value: String(created) },
      { label: '支付成功', value: String(paid) },
      { label: '支付转化', value: pct(paid, created) },
      { label: '退款', value: String(sum(days.map((m) => m.refunds.created))) },
    ],
    paidBars,
    notifyBars,
    paidBy: tally(
      days,
      (m) => m.paidBy,
      (k) => PAID_BY_TEXT[k],
    ),
    speed: latest
      ? {
          p50: seconds(latest.prepayToPaid.p50Seconds),
          p90: seconds(latest.prepayToPaid.p90Seconds),
          date: latest.date,
        }
      : null,
    refunds: tally(
      days,
      (m) => m.refunds.byStatus,
      (k) => REFUND_STATUS_TEXT[k],
    ),
    refundsOpen: latest ? { over5m: latest.refunds.openOver5Minutes, over3d: latest.refunds.openOver3Days } : null,
    exceptionsOpen: latest
      ? tally(
          [latest],
          (m) => m.exceptionsOpen,
          (k) => EXCEPTION_KIND_TEXT[k],
        )
      : [],
  };
}

Component({
  data: {
    loading: true,
    forbidden: false,
    forbiddenText: FORBIDDEN_TEXT,
    view: summarise([]),
  },
  methods: {
    onLoad() {
      void this.load();
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
    async load() {
      try {
        const { metrics } = await listMetrics(30);
        this.setData({ view: summarise(metrics), loading: false });
      } catch (error) {
        this.setData({ loading: false, forbidden: handleAdminError(error) });
      }
    },
  },
});

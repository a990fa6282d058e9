/**
 * A bar chart drawn with views (no canvas): one bar per item, heights relative to the largest, an optional second
 * value stacked on top, labels under every `labelEvery`-th bar. Enough for "the last 30 days" at a glance.
 */
export interface Bar {
  label: string;
  value: number;
  /** a second part stacked above `value` (e.g. failures above successes) */
  extra?: number;
}

Component({
  properties: {
    title: { type: String, value: '' },
    bars: { type: Array, value: [] as Bar[] },
    unit: { type: String, value: '' },
    labelEvery: { type: Number, value: 5 },
    legend: { type: Array, value: [] as string[] },
  },
  data: {
    columns: [] as { label: string; showLabel: boolean; height: number; extraHeight: number; text: string }[],
    maxText: '',
    empty: true,
  },
  observers: {
    'bars, labelEvery, unit'(bars: Bar[], every: number, unit: string) {
      const max = Math.max(0, ...bars.map((b) => b.value + (b.extra ?? 0)));
      const columns = bars.map((b, i) => ({
        label: b.label,
        showLabel: i % Math.max(1, every) === 0 || i === bars.length - 1,
        height: max ? Math.round((b.value / max) * 100) : 0,
        extraHeight: max ? Math.round(((b.extra ?? 0) / max) * 100) : 0,
        text: `${b.label} ${b.value}${b.extra ? `+${b.extra}` : ''}${unit}`,
      }));
      this.setData({ columns, maxText: `${max}${unit}`, empty: max === 0 });
    },
  },
});

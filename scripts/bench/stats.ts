/** Small helpers for the benchmarks: timing, medians, percentiles, tables. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;

async function timed(op: () => unknown, duration: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + duration;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) {
      const r = op();
      if (r instanceof Promise) await r;
    }
    n += 20;
  }
  return (n * 1000) / (performance.now() - start);
}

/**
 * ops/s of each candidate: every round runs each candidate for `windowMs` in turn, so drifts in the machine's speed
 * touch them all alike; the median over rounds is reported.
 */
export async function compareOpsPerSecond(candidates: [string, () => unknown][], { rounds = 7, windowMs = 500, warmupMs = 300 } = {}): Promise<Record<string, number>> {
  for (const [, op] of candidates) await timed(op, warmupMs);
  const perRound = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) for (const [name, op] of candidates) perRound.get(name)!.push(await timed(op, windowMs));
  return Object.fromEntries([...perRound].map(([name, xs]) => [name, median(xs)]));
}

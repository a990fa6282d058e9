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

/** Runs `op` for `windowMs` (after a warm-up) `rounds` times; ops/s per round and their median. */
export async function opsPerSecond(op: () => unknown, { rounds = 5, windowMs = 800, warmupMs = 200 } = {}): Promise<{ median: number; rounds: number[] }> {
  const run = async (duration: number) => {
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
  };
  await run(warmupMs);
  const results: number[] = [];
  for (let i = 0; i < rounds; i++) results.push(await run(windowMs));
  return { median: median(results), rounds: results };
}

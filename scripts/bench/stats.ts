/** Small helpers for the benchmarks: timing, medians, percentiles, spreads, tables. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A minor garbage collection (the young generation), so that a candidate timed next does not pay for the short-lived
 * garbage of the one before. Not a full one: a full collection every slice ages compiled code and inline caches,
 * which penalises the candidates that run more JavaScript (it measured the parse 0.04–0.06 lower against raw).
 */
const gc: (options?: { type: 'minor' | 'major' }) => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
})();
const collectYoungGarbage = () => gc({ type: 'minor' });

/** A full garbage collection: what the benchmark's own preparation left (signing, encrypting) is not charged to what it measures next. */
export const collectAllGarbage = () => gc({ type: 'major' });
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export const spread = (xs: number[]): Spread => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  runs: xs.length,
});

/** `median (min–max)` with `format` applied to each; the run-to-run spread of a figure. */
export const showSpread = (s: Spread, format: (n: number) => string = (n) => n.toFixed(2)) =>
  s.runs === 1 ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`;

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;

async function timed(op: () => unknown, duration: number): Promise<{ ops: number; ms: number }> {
  let ops = 0;
  const start = performance.now();
  const end = start + duration;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) {
      const r = op();
      if (r instanceof Promise) await r;
    }
    ops += 20;
  }
  return { ops, ms: performance.now() - start };
}

/**
 * ops/s of each candidate, per round. A round gives each candidate `windowMs` in slices of `sliceMs`, taken in turn
 * (candidate 1, 2, …, 1, 2, …, starting one further along each slice, after a minor GC), so a drift in the machine's
 * speed longer than a slice touches every candidate alike, and a ratio taken within a round compares like with like.
 */
export async function compareOpsPerSecond(
  candidates: [string, () => unknown][],
  { rounds = 9, windowMs = 400, sliceMs = 50, warmupMs = 300 } = {},
): Promise<Record<string, number[]>> {
  for (const [, op] of candidates) await timed(op, warmupMs);
  const perRound = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
  const slices = Math.max(1, Math.round(windowMs / sliceMs));
  for (let r = 0; r < rounds; r++) {
    const totals = candidates.map(() => ({ ops: 0, ms: 0 }));
    for (let s = 0; s < slices; s++) {
      for (let i = 0; i < candidates.length; i++) {
        const k = (i + s + r) % candidates.length;
        collectYoungGarbage();
        const { ops, ms } = await timed(candidates[k]![1], sliceMs);
        totals[k]!.ops += ops;
        totals[k]!.ms += ms;
      }
    }
    candidates.forEach(([name], k) => perRound.get(name)!.push((totals[k]!.ops * 1000) / totals[k]!.ms));
  }
  return Object.fromEntries(perRound);
}

/** The machine's load while a benchmark ran: the 1-minute load average before and after, for the record. */
export async function machineLoad(): Promise<string> {
  const { loadavg, cpus } = await import('node:os');
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${cpus().length} cores`;
}

/** Money arrives in fen (integers) and is formatted here only: `¥19.90`. */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.round(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** What a person types as yuan (`12`, `12.5`, `¥12.50`) in fen, read from the digits (no floating point); undefined if it is not an amount. */
export function parseYuan(text: string): number | undefined {
  const m = /^\s*¥?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

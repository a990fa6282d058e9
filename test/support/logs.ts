/** Helpers of the runtime and deploy tests: the JSON log lines the functions write, and the secret fragments that must never show. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** Captures what console.log/warn/error print while `fn` runs (the functions' jsonLogger writes there). */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; text: string; lines: LogLine[] }> {
  const chunks: string[] = [];
  const spies = (['log', 'warn', 'error'] as const).map((method) =>
    jest
      .spyOn(console, method)
      .mockImplementation((...args: unknown[]) => void chunks.push(args.map(String).join(' '))),
  );
  const saved = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'info';
  try {
    const result = await fn();
    const lines = chunks.flatMap((c) => {
      try {
        return [JSON.parse(c) as LogLine];
      } catch {
        return [];
      }
    });
    return { result, text: chunks.join('\n'), lines };
  } finally {
    spies.forEach((s) => s.mockRestore());
    if (saved === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = saved;
  }
}

/** The base64 lines of every PEM under `dir` and the values of KEY/SECRET settings in its cloud.env. */
export function secretFragments(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) return readdirSync(path).forEach((n) => walk(join(path, n)));
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (/^[A-Za-z0-9+/=]{40,}$/.test(line.trim())) out.push(line.trim());
      const m = /^(WX_APP_SECRET|WECHATPAY_APIV3_KEY)=(.+)$/.exec(line.trim());
      if (m) out.push(m[2]!);
    }
  };
  walk(dir);
  return out;
}

export function leaked(text: string, fragments: readonly string[]): string[] {
  return fragments.filter((f) => text.includes(f));
}

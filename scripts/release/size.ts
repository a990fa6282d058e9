/**
 * `npm run size`: what an upload would carry, per package, as miniprogram-ci compiles it offline (minified, and with
 * `ignoreUploadUnusedFiles` only the TDesign components the pages use and what they import). Fails over budget.
 *
 * Budgets (WeChat's limit is 2 MB per package): main package 512 KB, the order subpackage 256 KB, the admin subpackage
 * 192 KB. Main holds the app, the catalogue page, services, shared components and the TDesign components in use; the
 * order pages and the merchant's pages load on demand (only admins ever open the latter). Product pictures are not
 * packaged: they come from cloud storage (or the local cloud).
 */
import { rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { compile, packNpm, ROOT } from './miniprogram-ci';

export const WECHAT_PACKAGE_LIMIT = 2 * 1024 * 1024;
export const BUDGETS: Record<string, number> = { main: 512 * 1024, order: 256 * 1024, admin: 192 * 1024 };
const SUBPACKAGES: Record<string, string> = { 'pages/order/': 'order', 'pages/admin/': 'admin' };

const out = (line: string) => writeSync(1, `${line}\n`);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function main(): Promise<number> {
  await packNpm(ROOT);
  let files: Record<string, string | Uint8Array>;
  try {
    files = await compile(ROOT);
  } finally {
    rmSync(join(ROOT, '.compiled.zip'), { force: true });
  }
  const sizes = new Map<string, { files: number; bytes: number; tdesign: number }>();
  for (const [path, content] of Object.entries(files)) {
    if (path === 'project.config.json') continue;
    const pkg = Object.entries(SUBPACKAGES).find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'main';
    const bytes = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
    const entry = sizes.get(pkg) ?? { files: 0, bytes: 0, tdesign: 0 };
    entry.files += 1;
    entry.bytes += bytes;
    if (path.includes('miniprogram_npm/tdesign-miniprogram/')) entry.tdesign += bytes;
    sizes.set(pkg, entry);
  }
  out('package   files      size   of which TDesign   budget      WeChat limit');
  let over = false;
  for (const [pkg, s] of sizes) {
    const budget = BUDGETS[pkg] ?? 0;
    const ok = s.bytes <= budget && s.bytes <= WECHAT_PACKAGE_LIMIT;
    over ||= !ok;
    out(
      `${pkg.padEnd(9)} ${String(s.files).padStart(5)} ${kb(s.bytes).padStart(9)} ${kb(s.tdesign).padStart(18)} ${kb(budget).padStart(9)} ${kb(WECHAT_PACKAGE_LIMIT).padStart(12)}  ${ok ? 'ok' : 'OVER BUDGET'}`,
    );
  }
  const total = [...sizes.values()].reduce((n, s) => n + s.bytes, 0);
  out(`total     ${String(Object.keys(files).length - 1).padStart(5)} ${kb(total).padStart(9)}`);
  return over ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    writeSync(2, `${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);

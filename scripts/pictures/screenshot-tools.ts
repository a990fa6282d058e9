/** What both screenshot scripts need from the machine: Debian's Chromium and CJK fonts (it says how to install them). */
import { execFileSync } from 'node:child_process';
import { existsSync, writeSync } from 'node:fs';

export function requireScreenshotTools(): string {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  let fonts = '';
  try {
    fonts = execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' });
  } catch {
    fonts = '';
  }
  if (!chromium || !/Noto Sans CJK/i.test(fonts)) {
    writeSync(
      2,
      "screenshots need Debian's Chromium and CJK fonts. Install them with:\n  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk\n",
    );
    process.exit(2);
  }
  return chromium;
}

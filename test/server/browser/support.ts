/**
 * Browser tests drive Debian's Chromium with puppeteer-core (nothing is downloaded). Without a Chromium the suites are
 * skipped, and say so with how to install it; CI (`.ci/run`) installs it, so there they always run.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import jsQR from 'jsqr';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, else `chromium` on the PATH (Debian's package puts it at /usr/bin/chromium); CHROMIUM_PATH=none: no browser. */
export const CHROMIUM: string | undefined =
  process.env.CHROMIUM_PATH === 'none'
    ? undefined
    : [
        process.env.CHROMIUM_PATH,
        ...(process.env.PATH ?? '').split(':').map((dir) => dir && join(dir, 'chromium')),
        '/usr/bin/chromium',
      ].find((p): p is string => !!p && executable(p));

export const SKIP_NOTICE =
  'Browser tests SKIPPED: no Chromium found (looked for CHROMIUM_PATH, `chromium` on the PATH, /usr/bin/chromium). ' +
  "Install Debian's: sudo apt-get install -y chromium fonts-noto-cjk  (CI's .ci/run installs it, so there they always run).";

/**
 * `describe` when a Chromium is there, else `describe.skip` with a notice saying how to install one. With
 * REQUIRE_BROWSER set (CI's .ci/run) a missing Chromium fails instead.
 */
export function describeInBrowser(name: string, fn: () => void): void {
  if (CHROMIUM) return describe(name, fn);
  if (process.env.REQUIRE_BROWSER) {
    return describe(name, () => {
      test('needs a Chromium (REQUIRE_BROWSER is set)', () => {
        throw new Error(SKIP_NOTICE.replace('SKIPPED', 'cannot run'));
      });
    });
  }
  // straight to stderr: jest shows nothing of a suite whose tests are all skipped
  process.stderr.write(`\n${SKIP_NOTICE}\n\n`);
  describe.skip(`${name} [skipped: no Chromium; sudo apt-get install -y chromium fonts-noto-cjk]`, fn);
}

export function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM!,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
    ],
  });
}

/** A page at 1280×800 (or the size given) whose console errors and failed requests fail the test that reads `problems`. */
export async function openPage(
  browser: Browser,
  width = 1280,
  height = 800,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()))
      problems.push(`console: ${message.text()}`);
  });
  return { page, problems };
}

/** Text of the first element matching `selector` ('' when absent). */
export const textOf = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (el) => (el as HTMLElement).innerText ?? el.textContent ?? '').catch(() => '');

/** Waits (bounded) until `selector`'s text contains `text`. */
export async function waitForText(page: Page, selector: string, text: string, timeout = 5000): Promise<void> {
  await page.waitForFunction(
    (sel, want) => (document.querySelector(sel)?.textContent ?? '').includes(want),
    { timeout, polling: 50 },
    selector,
    text,
  );
}

// ---- pixels ---------------------------------------------------------------------------------------------------------

/** Decodes a PNG as Chromium writes screenshots (8-bit RGB or RGBA, not interlaced) into RGBA pixels. */
export function decodePng(png: Buffer): { width: number; height: number; data: Uint8ClampedArray } {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || interlace !== 0 || (colour !== 2 && colour !== 6))
        throw new Error(`unsupported PNG (depth ${depth}, colour ${colour}, interlace ${interlace})`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8ClampedArray(width * height * 4);
  const previous = Buffer.alloc(stride);
  const row = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels]! : 0;
      const b = previous[x]!;
      const c = x >= channels ? previous[x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[x] = (line[x]! + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = row[x * channels]!;
      out[(y * width + x) * 4 + 1] = row[x * channels + 1]!;
      out[(y * width + x) * 4 + 2] = row[x * channels + 2]!;
      out[(y * width + x) * 4 + 3] = channels === 4 ? row[x * channels + 3]! : 255;
    }
    row.copy(previous);
  }
  return { width, height, data: out };
}

/** What the QR code drawn in `element` says, read from a screenshot of the page's pixels with jsQR. */
export async function readQr(element: ElementHandle): Promise<string | undefined> {
  const png = Buffer.from(await element.screenshot({ type: 'png' }));
  const { width, height, data } = decodePng(png);
  return jsQR(data, width, height)?.data;
}

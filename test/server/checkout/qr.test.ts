/**
 * The checkout's own QR encoder (cloudfunctions/checkout/qr.ts) against the qrcode package, module for module, for
 * every version it makes and every mask, and read back by jsQR from a rendering of its SVG's modules.
 */
import jsQR from 'jsqr';
import { createHash } from 'node:crypto';
import { qrModules, qrSvg } from '../../../cloudfunctions/checkout/qr';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the oracle: the qrcode package's own core
const { create } = require('qrcode/lib/core/qrcode') as {
  create(
    segments: { data: string; mode: 'byte' }[],
    options: { errorCorrectionLevel: 'M'; maskPattern?: number; version?: number },
  ): { version: number; maskPattern: number; modules: { size: number; data: Uint8Array } };
};

const oracle = (text: string, maskPattern?: number) => {
  const qr = create([{ data: text, mode: 'byte' }], {
    errorCorrectionLevel: 'M',
    ...(maskPattern !== undefined ? { maskPattern } : {}),
  });
  const { size, data } = qr.modules;
  return {
    version: qr.version,
    mask: qr.maskPattern,
    dark: Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => data[y * size + x] === 1)),
  };
};

/** RGBA pixels of the modules with a quiet zone, `scale` pixels a module. */
function pixels(dark: boolean[][], scale = 4) {
  const side = (dark.length + 8) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  dark.forEach((row, y) =>
    row.forEach((on, x) => {
      if (!on) return;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++)
          data.fill(
            0,
            (((y + 4) * scale + dy) * side + (x + 4) * scale + dx) * 4,
            (((y + 4) * scale + dy) * side + (x + 4) * scale + dx) * 4 + 3,
          );
    }),
  );
  return { data, side };
}

const samples = [
  'weixin://wxpay/bizpayurl?pr=p4lpSuKzz',
  'weixin://wxpay/bizpayurl/up?pr=NwY5Mz9&groupid=00',
  'a',
  // every capacity edge of versions 1..6 at level M, with fixed pseudo-random text
  ...[1, 14, 15, 26, 27, 42, 43, 62, 63, 84, 85, 106].map((n) =>
    [0, 1, 2]
      .map((i) => createHash('sha256').update(`${n}:${i}`).digest('base64'))
      .join('')
      .slice(0, n),
  ),
];

test.each(samples)(
  '%s: the same modules as the qrcode package, for each of the 8 masks and for the mask both choose',
  (text) => {
    for (let mask = 0; mask < 8; mask++) {
      const mine = qrModules(text, mask);
      const theirs = oracle(text, mask);
      expect(mine.version).toBe(theirs.version);
      expect(mine.dark).toEqual(theirs.dark);
    }
    const chosen = qrModules(text);
    const theirs = oracle(text);
    expect({ version: chosen.version, mask: chosen.mask }).toEqual({ version: theirs.version, mask: theirs.mask });
    expect(chosen.dark).toEqual(theirs.dark);
  },
);

test.each(samples)('%s: read back by jsQR', (text) => {
  const { data, side } = pixels(qrModules(text).dark);
  expect(jsQR(data, side, side)?.data).toBe(text);
});

test('the SVG draws exactly the dark modules; longer than 106 bytes is refused', () => {
  const text = 'weixin://wxpay/bizpayurl?pr=p4lpSuKzz';
  const svg = qrSvg(text);
  const { dark } = qrModules(text);
  const side = dark.length + 8;
  expect(svg).toMatch(new RegExp(`^<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}"`));
  const drawn = new Set<string>();
  for (const [, x, y, run] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g))
    for (let i = 0; i < Number(run); i++) drawn.add(`${Number(x) + i - 4},${Number(y) - 4}`);
  const expected = new Set<string>();
  dark.forEach((row, y) => row.forEach((on, x) => on && expected.add(`${x},${y}`)));
  expect(drawn).toEqual(expected);
  expect(() => qrSvg('x'.repeat(107))).toThrow(RangeError);
});

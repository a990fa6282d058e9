/**
 * The QR code of a code_url as a small SVG document (one path, a 4-module quiet zone), drawn on the server so the page
 * needs no QR library. Encoding from the qrcode package's core (no renderer, no canvas), error correction level M.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the core module alone (the package's index pulls its PNG and terminal renderers)
const { create } = require('qrcode/lib/core/qrcode') as {
  create(text: string, options: { errorCorrectionLevel: 'L' | 'M' | 'Q' | 'H' }): { modules: { size: number; data: Uint8Array } };
};

const QUIET = 4;

export function qrSvg(text: string): string {
  const { size, data } = create(text, { errorCorrectionLevel: 'M' }).modules;
  let path = '';
  for (let y = 0; y < size; y++) {
    // one horizontal run of dark modules per rectangle
    for (let x = 0; x < size; x++) {
      if (!data[y * size + x]) continue;
      let run = 1;
      while (x + run < size && data[y * size + x + run]) run++;
      path += `M${x + QUIET} ${y + QUIET}h${run}v1h-${run}z`;
      x += run - 1;
    }
  }
  const side = size + 2 * QUIET;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges"><rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}

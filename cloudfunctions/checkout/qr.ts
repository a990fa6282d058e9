/**
 * The QR code of a code_url as a small SVG document, drawn on the server so the page needs no QR library, and kept
 * small so the function's bundle stays small: byte mode, error correction level M, versions 1 to 6 (up to 106 bytes;
 * a code_url is about 40), the mask chosen by the standard's penalty rules (ISO/IEC 18004 §7.8.3). Written after
 * Project Nayuki's QR Code generator; held to the qrcode package module for module in the tests, and read back with
 * jsQR.
 */

/** Per version 1..6 at level M: codewords in all, error correction codewords per block, blocks. */
const VERSIONS = [
  { total: 26, ecc: 10, blocks: 1 },
  { total: 44, ecc: 16, blocks: 1 },
  { total: 70, ecc: 26, blocks: 1 },
  { total: 100, ecc: 18, blocks: 2 },
  { total: 134, ecc: 24, blocks: 2 },
  { total: 172, ecc: 16, blocks: 4 },
] as const;
const QUIET = 4;

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1. */
function gfMul(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function rsDivisor(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMul(result[j]!, root);
      if (j + 1 < degree) result[j] = result[j]! ^ result[j + 1]!;
    }
    root = gfMul(root, 2);
  }
  return result;
}

function rsRemainder(data: number[], divisor: number[]): number[] {
  const result = new Array<number>(divisor.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ result.shift()!;
    result.push(0);
    divisor.forEach((coefficient, i) => (result[i] = result[i]! ^ gfMul(coefficient, factor)));
  }
  return result;
}

/** The data and error correction codewords, interleaved (blocks of one version here are all the same length). */
function codewords(bytes: Uint8Array, version: number): number[] {
  const { total, ecc, blocks } = VERSIONS[version - 1]!;
  const capacity = total - ecc * blocks;
  const bits: number[] = [];
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4); // byte mode
  put(bytes.length, 8); // character count, versions 1..9
  for (const byte of bytes) put(byte, 8);
  put(0, Math.min(4, capacity * 8 - bits.length)); // terminator
  put(0, (8 - (bits.length % 8)) % 8);
  const data: number[] = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  for (let pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);
  const perBlock = capacity / blocks;
  const divisor = rsDivisor(ecc);
  const dataBlocks = Array.from({ length: blocks }, (_, i) => data.slice(i * perBlock, (i + 1) * perBlock));
  const eccBlocks = dataBlocks.map((block) => rsRemainder(block, divisor));
  const out: number[] = [];
  for (let i = 0; i < perBlock; i++) for (const block of dataBlocks) out.push(block[i]!);
  for (let i = 0; i < ecc; i++) for (const block of eccBlocks) out.push(block[i]!);
  return out;
}

class Matrix {
  readonly dark: boolean[][];
  readonly reserved: boolean[][];

  constructor(readonly size: number) {
    this.dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
    this.reserved = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  }

  fixed(x: number, y: number, dark: boolean): void {
    this.dark[y]![x] = dark;
    this.reserved[y]![x] = true;
  }
}

function functionPatterns(m: Matrix, version: number): void {
  const { size } = m;
  for (let i = 0; i < size; i++) {
    m.fixed(6, i, i % 2 === 0);
    m.fixed(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [
    [3, 3],
    [size - 4, 3],
    [3, size - 4],
  ] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        const distance = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && x < size && y >= 0 && y < size) m.fixed(x, y, distance !== 2 && distance !== 4);
      }
    }
  }
  if (version >= 2) {
    const at = size - 7; // versions 2..6 have one alignment pattern, at (size-7, size-7)
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) m.fixed(at + dx, at + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  }
  formatBits(m, 0); // reserves the format areas; drawn for real once the mask is chosen
}

/** Level M (00) and the mask, BCH(15,5) protected and XORed with 101010000010010. */
function formatBits(m: Matrix, mask: number): void {
  const data = mask; // level M's two bits are 00
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  const bits = ((data << 10) | rem) ^ 0x5412;
  const bit = (i: number) => ((bits >>> i) & 1) === 1;
  const { size } = m;
  for (let i = 0; i <= 5; i++) m.fixed(8, i, bit(i));
  m.fixed(8, 7, bit(6));
  m.fixed(8, 8, bit(7));
  m.fixed(7, 8, bit(8));
  for (let i = 9; i < 15; i++) m.fixed(14 - i, 8, bit(i));
  for (let i = 0; i < 8; i++) m.fixed(size - 1 - i, 8, bit(i));
  for (let i = 8; i < 15; i++) m.fixed(8, size - 15 + i, bit(i));
  m.fixed(8, size - 8, true); // the dark module
}

function placeData(m: Matrix, data: number[]): void {
  const { size } = m;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vertical = 0; vertical < size; vertical++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - vertical : vertical;
        if (!m.reserved[y]![x] && i < data.length * 8) {
          m.dark[y]![x] = ((data[i >>> 3]! >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
      }
    }
  }
}

const MASKS: ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

function applyMask(m: Matrix, mask: number): void {
  for (let y = 0; y < m.size; y++)
    for (let x = 0; x < m.size; x++) if (!m.reserved[y]![x] && MASKS[mask]!(x, y)) m.dark[y]![x] = !m.dark[y]![x];
}

/**
 * The standard's penalty: runs of five or more in a row or column, 2×2 blocks of one colour, finder-like
 * 1011101 runs with four light modules on one side, and the dark share away from half (counted as the qrcode package
 * counts them, so both choose the same mask).
 */
export function penalty(dark: boolean[][]): number {
  const size = dark.length;
  let score = 0;
  const lines: boolean[][] = [...dark, ...dark.map((_, x) => dark.map((row) => row[x]!))];
  for (const line of lines) {
    let run = 1;
    let window = 0;
    for (let i = 0; i < size; i++) {
      if (i > 0 && line[i] === line[i - 1]) run++;
      else {
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
      window = ((window << 1) & 0x7ff) | (line[i] ? 1 : 0);
      if (i >= 10 && (window === 0x5d0 || window === 0x05d)) score += 40;
    }
    if (run >= 5) score += 3 + (run - 5);
  }
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const c = dark[y]![x];
      if (dark[y]![x + 1] === c && dark[y + 1]![x] === c && dark[y + 1]![x + 1] === c) score += 3;
    }
  }
  const darkCount = dark.reduce((n, row) => n + row.filter(Boolean).length, 0);
  score += Math.abs(Math.ceil((darkCount * 100) / (size * size) / 5) - 10) * 10;
  return score;
}

/** The modules of `text`'s QR code (true: dark), without the quiet zone; `mask` forces one (tests). */
export function qrModules(text: string, mask?: number): { version: number; mask: number; dark: boolean[][] } {
  const bytes = new TextEncoder().encode(text);
  const version =
    VERSIONS.findIndex(({ total, ecc, blocks }) => 12 + bytes.length * 8 <= (total - ecc * blocks) * 8) + 1;
  if (version === 0) throw new RangeError(`too long for a QR code here: ${bytes.length} bytes (at most 106)`);
  const data = codewords(bytes, version);
  const build = (chosen: number) => {
    const m = new Matrix(17 + 4 * version);
    functionPatterns(m, version);
    placeData(m, data);
    applyMask(m, chosen);
    formatBits(m, chosen);
    return m;
  };
  if (mask !== undefined) return { version, mask, dark: build(mask).dark };
  let best = { mask: 0, score: Infinity, dark: [] as boolean[][] };
  for (let candidate = 0; candidate < 8; candidate++) {
    const { dark } = build(candidate);
    const score = penalty(dark);
    if (score < best.score) best = { mask: candidate, score, dark };
  }
  return { version, mask: best.mask, dark: best.dark };
}

/** The QR code as an SVG document: one path of dark runs, a 4-module quiet zone, crisp edges. */
export function qrSvg(text: string): string {
  const { dark } = qrModules(text);
  const size = dark.length;
  let path = '';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!dark[y]![x]) continue;
      let run = 1;
      while (x + run < size && dark[y]![x + run]) run++;
      path += `M${x + QUIET} ${y + QUIET}h${run}v1h-${run}z`;
      x += run - 1;
    }
  }
  const side = size + 2 * QUIET;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges"><rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}

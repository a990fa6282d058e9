/**
 * Strict base64: Node's Buffer.from(s, 'base64') silently skips junk, which would let a mangled signature through to
 * RSA. Strict means the standard alphabet (A–Z a–z 0–9 + /) in groups of four, with `=` or `==` padding only at the
 * end: the language of /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, which is what this
 * accepted before, without the regular expression's cost (about 1 µs per kilobyte, on every notification):
 *   - length a positive multiple of 4, and only ASCII (`Buffer.byteLength(…, 'utf8')` equals the length; Node would
 *     decode a character above U+00FF by its low byte);
 *   - every character decodes: Node skips anything outside its alphabet and stops at a `=`, so the decoded length is
 *     exactly 3 × length / 4 − padding only when no character was skipped and no `=` stands before the end;
 *   - no `-` or `_`, the base64url characters Node's decoder also takes.
 * The equivalence with the regular expression is tested exhaustively on single-character changes and randomly
 * beyond (test/server/wechatpay/encoding.test.ts).
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const length = text.length;
  if (length === 0 || (length & 3) !== 0) return undefined;
  if (Buffer.byteLength(text, 'utf8') !== length) return undefined;
  const padding = text.charCodeAt(length - 1) !== 0x3d ? 0 : text.charCodeAt(length - 2) !== 0x3d ? 1 : 2;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== (length >>> 2) * 3 - padding) return undefined;
  if (text.includes('-') || text.includes('_')) return undefined;
  return bytes;
}

/** Header lookup by case-insensitive name; gateways lower-case header names, WeChat sends them capitalised. */
export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

/**
 * The value of header `name`. `lowerName` (name lower-cased) may be passed by hot callers so that nothing is
 * allocated when the header is written as WeChat Pay writes it or lower-cased, as gateways pass it.
 */
export function getHeader(
  headers: HeaderBag,
  name: string,
  lowerName: string = name.toLowerCase(),
): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | string[] | undefined>;
  // fast paths: the name as WeChat Pay writes it, or lower-cased as gateways pass it
  const direct = bag[name] ?? bag[lowerName];
  if (direct !== undefined) return Array.isArray(direct) ? direct[0] : direct;
  for (const key of Object.keys(bag)) {
    if (key.length === lowerName.length && key.toLowerCase() === lowerName) {
      const value = bag[key];
      return Array.isArray(value) ? value[0] : value;
    }
  }
  return undefined;
}

/**
 * A JSON object from its UTF-8 bytes, equal to `JSON.parse(bytes.toString('utf8'))` for every input: the same value,
 * or the same rejection (WechatPayNotificationError).
 *
 * Written by hand, on purpose: WeChat Pay's envelope carries a Chinese `summary` and its resource a Chinese
 * `trade_state_desc`, and one non-ASCII byte sends V8's UTF-8 decoder down its slow path for the whole document (about
 * 0.9 µs for the envelope and 0.4 µs for the resource, of a parse whose work besides the crypto is about 3 µs). JSON's
 * structure is ASCII, so the bytes are parsed as Latin-1 (one character per byte, no decoding): a byte ≥ 0x80 can then
 * only stand inside a string, and the strings named in `textFields` that hold such bytes are decoded from their own
 * bytes. That is exact because an ASCII byte always ends a UTF-8 sequence, valid or not, so a string's bytes decode
 * alone as they decode in the whole; and without a `\u` escape every character ≥ 0x80 in a parsed string is one raw
 * byte. With a `\u` escape, or with high bytes elsewhere (a key, another field), the bytes are decoded whole. The
 * equivalence is property-tested (test/server/wechatpay/utf8-json.test.ts).
 */
import { WechatPayNotificationError } from './errors';

export function parseJsonObject(text: string | Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    throw new WechatPayNotificationError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WechatPayNotificationError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const BACKSLASH = 0x5c;
const BACKSLASH_U = Buffer.from('\\u');

export function parseUtf8JsonObject(
  bytes: Buffer,
  what: string,
  textFields: readonly string[],
): Record<string, unknown> {
  const latin1 = bytes.toString('latin1');
  const obj = parseJsonObject(latin1, what);
  // each byte ≥ 0x80 is one Latin-1 character that takes two bytes in UTF-8
  let highBytes = Buffer.byteLength(latin1, 'utf8') - latin1.length;
  if (highBytes === 0) return obj;
  if (bytes.indexOf(BACKSLASH) !== -1 && bytes.indexOf(BACKSLASH_U) !== -1) return parseJsonObject(bytes, what);
  for (const field of textFields) {
    const value = obj[field];
    if (typeof value !== 'string') continue;
    const high = Buffer.byteLength(value, 'utf8') - value.length;
    if (high === 0) continue;
    obj[field] = utf8OfLatin1(value);
    highBytes -= high;
    if (highBytes === 0) return obj;
  }
  return parseJsonObject(bytes, what);
}

/**
 * The UTF-8 decoding of a string's Latin-1 bytes. WeChat Pay's non-ASCII texts repeat ("支付成功" in every payment's
 * summary and trade_state_desc), so short ones are remembered, in a bounded map.
 */
const decodedTexts = new Map<string, string>();
const REMEMBER_LENGTH = 64;
const REMEMBER_ENTRIES = 256;
function utf8OfLatin1(text: string): string {
  const known = decodedTexts.get(text);
  if (known !== undefined) return known;
  const decoded = Buffer.from(text, 'latin1').toString('utf8');
  if (text.length <= REMEMBER_LENGTH) {
    if (decodedTexts.size >= REMEMBER_ENTRIES) decodedTexts.clear();
    decodedTexts.set(text, decoded);
  }
  return decoded;
}

/** How many decoded texts are remembered (for the test that they stay bounded). */
export const rememberedTextCount = () => decodedTexts.size;

/** Strict base64: Node's Buffer.from(s, 'base64') silently skips junk, which would let a mangled signature through to RSA. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Header lookup by case-insensitive name; gateways lower-case header names, WeChat sends them capitalised. */
export type HeaderBag = Record<string, string | string[] | undefined> | Headers;

export function getHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | string[] | undefined>;
  // fast paths: the name as WeChat Pay writes it, or lower-cased as gateways pass it
  const direct = bag[name] ?? bag[name.toLowerCase()];
  if (direct !== undefined) return Array.isArray(direct) ? direct[0] : direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(bag)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

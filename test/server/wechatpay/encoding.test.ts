/**
 * decodeBase64Strict accepts exactly what the strict regular expression it replaced accepts, and decodes it as
 * Buffer.from does: every single-character change (any UTF-16 code unit, at every position), every insertion and
 * deletion of a set of valid base64 strings, and random strings over an alphabet of the characters that matter
 * (padding, base64url, whitespace, Latin-1, characters whose low byte is a base64 letter, lone surrogates).
 */
import fc from 'fast-check';
import { decodeBase64Strict, getHeader } from '../../../cloudfunctions/common/wechatpay/encoding';

const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const reference = (text: string) => (text.length === 0 || !STRICT.test(text) ? undefined : Buffer.from(text, 'base64'));

function same(text: string): boolean {
  const expected = reference(text);
  const actual = decodeBase64Strict(text);
  return expected === undefined ? actual === undefined : actual !== undefined && actual.equals(expected);
}

const VALID = ['QUJD', 'QQ==', 'QUI=', 'QUJDRA==', 'QUJDREU=', 'QUJDREVG', '+/+/', 'AAAAAAAA', 'QUJDREVGR0hJSktM'];

test('every single-character change, insertion and deletion of valid base64 is judged as the regular expression judges it', () => {
  const differing: string[] = [];
  for (const base of VALID) {
    expect(same(base)).toBe(true);
    for (let pos = 0; pos <= base.length; pos++) {
      for (let code = 0; code < 0x10000; code++) {
        const c = String.fromCharCode(code);
        const changed = pos < base.length ? base.slice(0, pos) + c + base.slice(pos + 1) : undefined;
        const inserted = base.slice(0, pos) + c + base.slice(pos);
        if (changed !== undefined && !same(changed)) differing.push(changed);
        if (!same(inserted)) differing.push(inserted);
      }
      if (pos < base.length && !same(base.slice(0, pos) + base.slice(pos + 1)))
        differing.push(base.slice(0, pos) + base.slice(pos + 1));
    }
  }
  expect(differing.slice(0, 10)).toEqual([]);
});

test('random strings over the characters that matter are judged as the regular expression judges them', () => {
  const chars = [...'ABCxyz0189+/=-_ \n\t\r.,*%\u0000\u0080\u00c1\u00ff\u0141\u0161\u2028\ud800\udc00é'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 24 }), (list) => same(list.join(''))),
    { numRuns: 20000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.constantFrom(...chars), (bytes, at, c) => {
      const text = Buffer.from(bytes).toString('base64');
      const i = text.length === 0 ? 0 : at % text.length;
      return same(text) && same(text.slice(0, i) + c + text.slice(i + 1)) && same(text.slice(0, i) + c + text.slice(i));
    }),
    { numRuns: 20000 },
  );
});

test('getHeader: exact, lower-cased, any case, arrays, Headers, absent', () => {
  expect(getHeader({ 'Wechatpay-Serial': 'A' }, 'Wechatpay-Serial')).toBe('A');
  expect(getHeader({ 'wechatpay-serial': 'B' }, 'Wechatpay-Serial', 'wechatpay-serial')).toBe('B');
  expect(getHeader({ 'WECHATPAY-SERIAL': 'C' }, 'Wechatpay-Serial')).toBe('C');
  expect(getHeader({ 'wEchatpay-seriaL': ['D', 'E'] }, 'Wechatpay-Serial', 'wechatpay-serial')).toBe('D');
  expect(getHeader(new Headers({ 'Wechatpay-Serial': 'F' }), 'wechatpay-serial')).toBe('F');
  expect(getHeader({ 'Wechatpay-Serial': 'A', 'Request-Id2': 'x' }, 'Request-ID')).toBeUndefined();
});

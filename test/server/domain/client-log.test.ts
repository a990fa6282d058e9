/**
 * clientLog's masking (domain/attention/client-log.ts maskMessage), property-tested: phone numbers however written,
 * openids with `-` and `_`, and control or bidirectional characters never reach the stored message.
 */
import fc from 'fast-check';
import { maskMessage } from '../../../cloudfunctions/common/domain/attention/client-log';

/** text around the secret: Chinese, letters, punctuation, never digits (so a digit left over is the secret's) */
const filler = fc.string({ unit: fc.constantFrom(...'支付失败请重试 abcXYZ:,.()[]'.split('')), maxLength: 20 });
const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

const phone = fc
  .tuple(
    fc.constantFrom('3', '4', '5', '6', '7', '8', '9'),
    digits(9),
    fc.constantFrom('', '+86', '+86 ', '0086', '86-'),
    fc.constantFrom('', ' ', '-'),
  )
  .map(([second, rest, prefix, sep]) => {
    const number = `1${second}${rest}`;
    return { number, written: `${prefix}${number.slice(0, 3)}${sep}${number.slice(3, 7)}${sep}${number.slice(7)}` };
  });

test('a phone number written with spaces, dashes or +86 is masked, wherever it stands', () => {
  fc.assert(
    fc.property(filler, phone, filler, (before, { number, written }, after) => {
      const masked = maskMessage(`${before}${written}${after}`);
      expect(masked.replace(/\D/g, '')).not.toContain(number.slice(3));
      expect(masked).toContain('#');
    }),
  );
});

const openid = fc
  .stringMatching(/^o[A-Za-z0-9_-]{27}$/)
  .filter((id) => /[-_]/.test(id) && (/\d/.test(id) || (/[a-z]/.test(id) && /[A-Z]/.test(id))));

test('an openid with - or _ is masked whole', () => {
  fc.assert(
    fc.property(filler, openid, filler, (before, id, after) => {
      const masked = maskMessage(`${before} ${id} ${after}`);
      expect(masked).not.toContain(id);
      for (const part of id.split(/[-_]/)) if (part.length >= 6) expect(masked).not.toContain(part);
    }),
  );
});

const CONTROLS = [
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202e',
  '\u2028',
  '\u2029',
  '\u2066',
  '\u2069',
];

test('C1 and bidirectional control characters, and line separators, never reach the log', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom(...CONTROLS)), { maxLength: 20 }),
      (parts) => {
        const masked = maskMessage(parts.join(''));
        for (const c of CONTROLS) expect(masked).not.toContain(c);
        // eslint-disable-next-line no-control-regex -- no control character may be left
        expect(masked).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      },
    ),
  );
});

test('what names nobody stays readable', () => {
  expect(maskMessage('requestPayment:fail jsapi has no permission (errno 7)')).toBe(
    'requestPayment:fail jsapi has no permission (errno 7)',
  );
  expect(maskMessage('订单 O7F3A9C2B1D4E5F60718 手机 +86 138-0013-8000 用户 oUpF8uMuAJO_M2pxb1Q9zNjWeS6o')).toBe(
    '订单 # 手机 # 用户 #',
  );
});

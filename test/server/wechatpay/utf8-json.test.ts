/**
 * parseUtf8JsonObject (the envelope's JSON read as Latin-1, its non-ASCII strings decoded alone) gives what
 * JSON.parse(bytes.toString('utf8')) gives, for every input: the same value, or the same rejection. Generated
 * envelopes with any text in any field or key, with non-ASCII written raw or as \u escapes, and with single bytes
 * overwritten by anything (invalid UTF-8, broken JSON) (fast-check).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseUtf8JsonObject, rememberedTextCount } from '../../../cloudfunctions/common/wechatpay/utf8-json';

const FIELDS = ['summary', 'id', 'create_time', 'resource_type', 'event_type'];

type Outcome = { value: unknown } | { error: string };
function outcome(parse: () => unknown): Outcome {
  try {
    return { value: parse() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
function reference(bytes: Buffer): Outcome {
  return outcome(() => {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new Error('not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value;
  });
}
function ours(bytes: Buffer): Outcome {
  return outcome(() => parseUtf8JsonObject(bytes, 'body', FIELDS));
}
const kind = (o: Outcome) => ('error' in o ? 'error' : 'value');
function same(bytes: Buffer): boolean {
  const expected = reference(bytes);
  const actual = ours(bytes);
  if (kind(expected) !== kind(actual)) return false;
  return 'value' in expected ? isDeepStrictEqual((actual as { value: unknown }).value, expected.value) : true;
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('支付成功', '退款成功', 'é', '', 'a"b\\c\n'),
);
const envelope = fc.record(
  {
    id: text,
    create_time: text,
    resource_type: text,
    event_type: text,
    summary: text,
    resource: fc.record({
      algorithm: fc.constant('AEAD_AES_256_GCM'),
      ciphertext: fc.base64String({ maxLength: 40 }),
      nonce: text,
      associated_data: text,
    }),
    extra: fc.dictionary(text, fc.oneof(text, fc.integer()), { maxKeys: 2 }),
  },
  { requiredKeys: ['resource'] },
);
/** characters above U+007F written as \u escapes, as some JSON writers do: all of them, or every other one */
function escapeNonAscii(json: string, every = 1): string {
  let n = 0;
  return json.replace(/[\u0080-\uffff]/g, (c) =>
    n++ % every === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
  );
}

describe('parseUtf8JsonObject equals JSON.parse of the UTF-8 text', () => {
  test('a WeChat Pay envelope with a Chinese summary: the summary decoded, nothing else changed', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'EV-1',
        event_type: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        resource: { ciphertext: 'QUJD' },
      }),
    );
    expect(parseUtf8JsonObject(body, 'body', FIELDS)).toStrictEqual(JSON.parse(body.toString('utf8')));
  });

  test('non-ASCII where the fast path does not look (a key, an unnamed field, the resource) and \\u escapes', () => {
    const cases = [
      { 键: 'v', summary: '支付成功' },
      { summary: 'ok', resource: { nonce: '随机' } },
      { other: 'é', summary: '支付成功' },
      { summary: '支付\u00e9成功' },
    ];
    // escapes and raw bytes in one body: an escaped character must not be taken for raw bytes
    const mixed = ['{"summary":"\\u00e9","x":"é"}', '{"summary":"\\u652f","id":"é"}', '{"summary":"\\u00e9é"}'];
    for (const value of cases) {
      for (const json of [
        JSON.stringify(value),
        escapeNonAscii(JSON.stringify(value)),
        escapeNonAscii(JSON.stringify(value), 2),
        ...mixed,
      ]) {
        const bytes = Buffer.from(json);
        expect(ours(bytes)).toStrictEqual(reference(bytes));
      }
    }
  });

  test('a byte-order mark, two keys that decode alike, a named field given twice', () => {
    const cases = [
      Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"summary":"a"}')]),
      Buffer.from('{"summary":"\xff","\xfe":1}', 'latin1'),
      Buffer.from('{"\xff":1,"\xfe":2}', 'latin1'),
      Buffer.from('{"summary":"\xe4\xb8","summary":"x"}', 'latin1'),
    ];
    for (const bytes of cases) expect(same(bytes)).toBe(true);
    expect(ours(cases[0]!)).toStrictEqual({ error: 'WechatPayNotificationError: body is not JSON' });
    expect(ours(cases[2]!)).toStrictEqual({ value: { '\ufffd': 2 } });
  });

  test('generated envelopes, raw or escaped', () => {
    fc.assert(
      fc.property(envelope, fc.constantFrom(0, 1, 2), (value, every) => {
        const json = JSON.stringify(value);
        return same(Buffer.from(every === 0 ? json : escapeNonAscii(json, every)));
      }),
      { numRuns: 2000 },
    );
  });

  test('any byte overwritten anywhere: invalid UTF-8 inside strings, broken structure', () => {
    fc.assert(
      fc.property(
        envelope,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0x80, max: 0xff }),
        (value, at, byte, high) => {
          const bytes = Buffer.from(JSON.stringify(value));
          const i = at % bytes.length;
          const once = Buffer.from(bytes);
          once[i] = byte;
          const twice = Buffer.from(once);
          twice[(i * 7 + 3) % bytes.length] = high;
          return same(once) && same(twice);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('decoded texts are remembered within a bound: 1,000 different summaries, each still decoded right', () => {
    for (let i = 0; i < 1000; i++) {
      const summary = `支付成功 ${i}`;
      const bytes = Buffer.from(JSON.stringify({ id: String(i), summary }));
      expect(parseUtf8JsonObject(bytes, 'body', FIELDS).summary).toBe(summary);
      expect(parseUtf8JsonObject(bytes, 'body', FIELDS).summary).toBe(summary);
    }
    expect(rememberedTextCount()).toBeGreaterThan(0);
    expect(rememberedTextCount()).toBeLessThanOrEqual(256);
    // a long text is decoded, not remembered
    const before = rememberedTextCount();
    const long = '退'.repeat(100);
    expect(parseUtf8JsonObject(Buffer.from(JSON.stringify({ summary: long })), 'body', FIELDS).summary).toBe(long);
    expect(rememberedTextCount()).toBe(before);
  });
});

/**
 * Property: for every function, a malformed event gets a typed error, never an exception, and writes nothing.
 * Events are made invalid by construction: not an object, a required field removed, a field of the wrong kind, or an
 * unknown field added to an otherwise valid event.
 */
import fc from 'fast-check';
import { ERROR_CODES, type ApiResult } from '../../../typings/api';
import { startTestCloud, type TestCloud } from '../../support/localcloud';

let t: TestCloud;
let orderId: string;
beforeAll(async () => {
  t = await startTestCloud({ env: { ADMIN_OPENIDS: 'placeholder_admin' } });
  process.env.ADMIN_OPENIDS = t.openid('admin');
  orderId = (await t.confirm('alice')).id;
});
afterAll(() => t.close());

type Kind = 'string' | 'int' | 'array' | 'object';
interface Shape {
  fn: string;
  user: string;
  valid: () => Record<string, unknown>;
  /** fields whose removal makes the event invalid, with the kind each must be */
  required: Record<string, Kind>;
}

const shapes: Shape[] = [
  { fn: 'login', user: 'alice', valid: () => ({ code: 'abc123' }), required: { code: 'string' } },
  { fn: 'catalog', user: 'alice', valid: () => ({ action: 'list' }), required: { action: 'string' } },
  {
    fn: 'orders',
    user: 'alice',
    valid: () => ({
      action: 'confirm',
      requestId: 'prop-request-1',
      items: [{ productId: 'latte', quantity: 1 }],
      contact: { name: '张三', phone: '13800138000' },
    }),
    required: { action: 'string', requestId: 'string', items: 'array', contact: 'object' },
  },
  {
    fn: 'orders',
    user: 'alice',
    valid: () => ({ action: 'get', orderId }),
    required: { action: 'string', orderId: 'string' },
  },
  {
    fn: 'orders',
    user: 'alice',
    valid: () => ({ action: 'cancel', orderId }),
    required: { action: 'string', orderId: 'string' },
  },
  {
    fn: 'orders',
    user: 'alice',
    valid: () => ({ action: 'requestRefund', orderId, reason: '退款', requestId: 'prop-refund-1' }),
    required: { action: 'string', orderId: 'string', reason: 'string', requestId: 'string' },
  },
  {
    fn: 'payment',
    user: 'alice',
    valid: () => ({ action: 'pay', orderId }),
    required: { action: 'string', orderId: 'string' },
  },
  {
    fn: 'payment',
    user: 'alice',
    valid: () => ({ action: 'confirm', orderId }),
    required: { action: 'string', orderId: 'string' },
  },
  {
    fn: 'admin',
    user: 'admin',
    valid: () => ({ action: 'refund', orderId, amountFen: 1, reason: 'x', requestId: 'prop-admin-1' }),
    required: { action: 'string', orderId: 'string', amountFen: 'int', reason: 'string', requestId: 'string' },
  },
];

const notOfKind = (kind: Kind) =>
  fc.oneof(
    ...(kind !== 'string' ? [fc.string()] : []),
    ...(kind !== 'int'
      ? [fc.oneof(fc.integer(), fc.double({ noInteger: true }))]
      : [fc.double({ noInteger: true, noNaN: false }), fc.string()]),
    ...(kind !== 'array' ? [fc.array(fc.anything(), { maxLength: 3 })] : []),
    ...(kind !== 'object' ? [fc.dictionary(fc.string({ maxLength: 5 }), fc.anything(), { maxKeys: 3 })] : []),
    fc.constant(null),
    fc.boolean(),
  );

function malformed(shape: Shape): fc.Arbitrary<unknown> {
  const fields = Object.keys(shape.required);
  return fc.oneof(
    fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.boolean()),
    fc.constantFrom(...fields).map((field) => {
      const event = shape.valid();
      delete event[field];
      return event;
    }),
    fc
      .constantFrom(...fields)
      .chain((field) => notOfKind(shape.required[field]!).map((value) => ({ ...shape.valid(), [field]: value }))),
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((key) => !(key in shape.valid()) && key !== 'userInfo' && key !== '__proto__')
      .chain((key) => fc.anything().map((value) => ({ ...shape.valid(), [key]: value }))),
  );
}

test.each(shapes.map((s) => [`${s.fn}.${String(s.valid().action ?? 'main')}`, s] as const))(
  '%s: malformed events get a typed error and write nothing',
  async (_name, shape) => {
    await fc.assert(
      fc.asyncProperty(malformed(shape), async (event) => {
        const writes = t.cloud.engine.writeCount;
        const result = (await t.cloud.call(shape.fn, event, shape.user)) as ApiResult<unknown>;
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(ERROR_CODES).toContain(result.error.code);
          expect(result.error.code).toBe('INVALID_ARGUMENT');
          expect(typeof result.error.message).toBe('string');
        }
        expect(t.cloud.engine.writeCount).toBe(writes);
      }),
      { numRuns: 60 },
    );
  },
);

test('payNotify: arbitrary HTTP bodies and headers are refused with 4xx; only the append-only log is written', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString('latin1')),
      ),
      fc.dictionary(
        fc.constantFrom('wechatpay-signature', 'wechatpay-serial', 'wechatpay-timestamp', 'wechatpay-nonce', 'x-other'),
        fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        { maxKeys: 5 },
      ),
      async (body, headers) => {
        const writes = t.cloud.engine.writeCount;
        const response = await fetch(t.cloud.urls.notifyUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body,
        });
        expect([400, 401]).toContain(response.status);
        expect(JSON.parse(await response.text())).toMatchObject({ code: 'FAIL' });
        expect(t.cloud.engine.writeCount).toBe(writes + 1);
      },
    ),
    { numRuns: 60 },
  );
});

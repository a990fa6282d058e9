/**
 * The refund life cycle's transition table as data (domain/money/refund-table.ts): which moves exist, what each does to the
 * order's reservation, how every documented error answer of WeChat Pay's refund API is taken, and — as a property —
 * that no sequence of WeChat Pay's answers can take a refund out of a final state or release money already consumed.
 */
import fc from 'fast-check';
import {
  classifyRefundError,
  moveAllowed,
  OPEN_REFUND_STATES,
  REFUND_STATE_FROM_WECHAT,
  REFUND_STATES,
  REFUND_TRANSITIONS,
  refundBackoffMs,
  reservationEffect,
  sourcesOf,
  type RefundState,
} from '../../../cloudfunctions/common/domain/money/refund-table';
import { REFUND_STATUSES, type RefundStatus } from '../../../cloudfunctions/common/wechatpay';

const FINAL: readonly RefundState[] = ['success', 'closed', 'failed'];
const isFinal = (s: RefundState) => FINAL.includes(s);

/** The life cycle as the issue and WeChat Pay's refund documentation describe it, written out independently. */
const EXPECTED: Record<RefundState, RefundState[]> = {
  // reserved and recorded, not yet accepted: submission may answer anything
  queued: ['unknown', 'processing', 'abnormal', 'success', 'closed', 'failed'],
  // unknown outcome: only a query decides; a 404 there puts it back in the queue (same out_refund_no); never `failed`
  unknown: ['queued', 'processing', 'abnormal', 'success', 'closed'],
  processing: ['abnormal', 'success', 'closed'],
  // ABNORMAL is not final: the money has left the merchant; it may still succeed (or be closed)
  abnormal: ['processing', 'success', 'closed'],
  success: [],
  // a SUCCESS is never dropped, even for a refund held as released
  closed: ['success'],
  failed: ['success'],
};

describe('the transition table', () => {
  test('knows exactly the seven states', () => {
    expect([...REFUND_STATES].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.keys(REFUND_TRANSITIONS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(REFUND_STATES.map((from) => [from]))(
    '%s: exactly its allowed moves, and moveAllowed agrees with the table',
    (from) => {
      expect([...REFUND_TRANSITIONS[from]].sort()).toEqual([...EXPECTED[from]].sort());
      for (const to of REFUND_STATES)
        expect({ from, to, allowed: moveAllowed(from, to) }).toEqual({
          from,
          to,
          allowed: EXPECTED[from].includes(to),
        });
    },
  );

  test('no state moves to itself (a repeated answer is a duplicate, not a second move)', () => {
    for (const s of REFUND_STATES) expect({ s, self: moveAllowed(s, s) }).toEqual({ s, self: false });
  });

  test('final states have no moves, except a late success from closed or failed', () => {
    expect(REFUND_TRANSITIONS.success).toEqual([]);
    expect(REFUND_TRANSITIONS.closed).toEqual(['success']);
    expect(REFUND_TRANSITIONS.failed).toEqual(['success']);
    for (const from of FINAL) for (const to of REFUND_STATES) if (moveAllowed(from, to)) expect(to).toBe('success');
  });

  test('a refund whose answer is unknown can never be marked failed without a query (only queued can fail: a refusal of the submission itself)', () => {
    expect(sourcesOf('failed')).toEqual(['queued']);
  });

  test('sourcesOf is the compare-and-set condition of a move: every state that may move there', () => {
    for (const to of REFUND_STATES)
      expect({ to, from: sourcesOf(to).sort() }).toEqual({
        to,
        from: REFUND_STATES.filter((f) => EXPECTED[f].includes(to)).sort(),
      });
    expect(sourcesOf('success').sort()).toEqual(['abnormal', 'closed', 'failed', 'processing', 'queued', 'unknown']);
    expect(sourcesOf('queued')).toEqual(['unknown']);
    expect(sourcesOf('abnormal').sort()).toEqual(['processing', 'queued', 'unknown']);
  });

  test('reconcile sweeps every refund not final, abnormal included', () => {
    expect([...OPEN_REFUND_STATES].sort()).toEqual(['abnormal', 'processing', 'queued', 'unknown']);
  });
});

describe('what a move does to the order’s reservation', () => {
  test.each<[RefundState, string]>([
    ['success', 'consume'],
    ['closed', 'release'],
    ['failed', 'release'],
    ['abnormal', 'keep'],
    ['processing', 'keep'],
    ['unknown', 'keep'],
    ['queued', 'keep'],
  ])('moving to %s: %s', (to, effect) => {
    expect(reservationEffect(to)).toBe(effect);
  });

  test('only closed and failed release; only success consumes', () => {
    expect(REFUND_STATES.filter((s) => reservationEffect(s) === 'release').sort()).toEqual(['closed', 'failed']);
    expect(REFUND_STATES.filter((s) => reservationEffect(s) === 'consume')).toEqual(['success']);
  });
});

describe('WeChat Pay refund statuses', () => {
  test.each<[RefundStatus, RefundState]>([
    ['PROCESSING', 'processing'],
    ['SUCCESS', 'success'],
    ['ABNORMAL', 'abnormal'],
    ['CLOSED', 'closed'],
  ])('%s → %s', (status, state) => {
    expect(REFUND_STATE_FROM_WECHAT[status]).toBe(state);
  });

  test('every status the protocol module knows has a state', () => {
    expect(Object.keys(REFUND_STATE_FROM_WECHAT).sort()).toEqual([...REFUND_STATUSES].sort());
  });
});

describe('classifyRefundError: each answer by its documented meaning, never by its HTTP class', () => {
  // the refund API's error table (wechatpay-go services/refunddomestic/api_refunds.go and WeChat Pay's refund page)
  test.each<[number, string, 'unknown' | 'retry_later' | 'refused', string]>([
    [500, 'SYSTEM_ERROR', 'unknown', '系统超时: same parameters again, query first'],
    [403, 'USER_ACCOUNT_ABNORMAL', 'refused', '退款请求失败: the merchant refunds by other means'],
    [403, 'NOT_ENOUGH', 'retry_later', '余额不足: same out_refund_no later'],
    [403, 'NOTENOUGH', 'retry_later', 'the older spelling'],
    [400, 'PARAM_ERROR', 'refused', '参数错误'],
    [404, 'MCH_NOT_EXISTS', 'refused', 'MCHID不存在'],
    [404, 'RESOURCE_NOT_EXISTS', 'refused', '订单号不存在'],
    [401, 'SIGN_ERROR', 'retry_later', '签名错误: not accepted, the same request again'],
    [429, 'FREQUENCY_LIMITED', 'unknown', '频率限制: query before anything'],
    [400, 'INVALID_REQUEST', 'refused', '不符合业务规则 (an over-refund)'],
    [403, 'NO_AUTH', 'refused', '没有退款权限'],
  ])('%d %s → %s (%s)', (status, code, kind) => {
    expect(classifyRefundError(status, code)).toEqual({ kind, reason: `${status} ${code}` });
  });

  test.each<[number | undefined, string | undefined]>([
    [429, 'RATE_LIMITED'],
    [500, 'PARAM_ERROR'],
    [502, 'BAD_GATEWAY'],
    [503, 'SYSTEM_ERROR'],
    [504, 'INVALID_REQUEST'],
    [400, 'SOME_NEW_CODE'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [400, undefined],
    [undefined, undefined],
    [undefined, 'INVALID_REQUEST'],
  ])('%s %s → unknown: queried before anything is decided', (status, code) => {
    expect(classifyRefundError(status, code).kind).toBe('unknown');
  });

  test('a 429, a 5xx and an unknown code never release (the reproduction: 429 was released and refunded twice)', () => {
    for (const [status, code] of [
      [429, 'FREQUENCY_LIMITED'],
      [500, 'SYSTEM_ERROR'],
      [502, 'SYSTEM_ERROR'],
      [400, 'NEW_CODE'],
    ] as const) {
      expect(classifyRefundError(status, code).kind).not.toBe('refused');
    }
  });

  test('the reason names the status and the code, or says there was no answer', () => {
    expect(classifyRefundError(undefined, undefined).reason).toBe('no answer');
    expect(classifyRefundError(400, undefined).reason).toBe('400');
  });
});

describe('refundBackoffMs', () => {
  test('a minute, doubling, capped at an hour (an abnormal refund at a day)', () => {
    expect([0, 1, 2, 3, 5].map((n) => refundBackoffMs('unknown', n))).toEqual([
      60_000, 120_000, 240_000, 480_000, 1_920_000,
    ]);
    expect(refundBackoffMs('processing', 6)).toBe(3600_000);
    expect(refundBackoffMs('queued', 1000)).toBe(3600_000);
    expect(refundBackoffMs('abnormal', 0)).toBe(60_000);
    expect(refundBackoffMs('abnormal', 10)).toBe(61_440_000);
    expect(refundBackoffMs('abnormal', 11)).toBe(24 * 3600_000);
    expect(refundBackoffMs('abnormal', 1e9)).toBe(24 * 3600_000);
  });
});

// ---- properties ----------------------------------------------------------------------------------------------------

/** One thing WeChat Pay may say about a refund, from any door (submit answer, notification, query). */
type Answer =
  | { kind: 'status'; status: RefundStatus }
  | { kind: 'error'; status: number; code: string }
  | { kind: 'network' }
  | { kind: 'query_not_found' };

const CODES = [
  'SYSTEM_ERROR',
  'USER_ACCOUNT_ABNORMAL',
  'NOT_ENOUGH',
  'NOTENOUGH',
  'PARAM_ERROR',
  'MCH_NOT_EXISTS',
  'RESOURCE_NOT_EXISTS',
  'SIGN_ERROR',
  'FREQUENCY_LIMITED',
  'INVALID_REQUEST',
  'NO_AUTH',
  'ANYTHING_ELSE',
];

const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  fc.constantFrom(...REFUND_STATUSES).map((status): Answer => ({ kind: 'status', status })),
  fc.record({
    kind: fc.constant('error' as const),
    status: fc.constantFrom(400, 401, 403, 404, 429, 500, 502, 503),
    code: fc.constantFrom(...CODES),
  }),
  fc.constant<Answer>({ kind: 'network' }),
  fc.constant<Answer>({ kind: 'query_not_found' }),
);

/** The state an answer asks for, as the domain maps it (submitRefund, advanceRefund, the notification). */
function targetOf(answer: Answer): RefundState {
  switch (answer.kind) {
    case 'status':
      return REFUND_STATE_FROM_WECHAT[answer.status];
    case 'network':
      return 'unknown';
    case 'query_not_found':
      return 'queued';
    case 'error': {
      const verdict = classifyRefundError(answer.status, answer.code).kind;
      return verdict === 'unknown' ? 'unknown' : verdict === 'retry_later' ? 'queued' : 'failed';
    }
  }
}

interface Trace {
  states: RefundState[];
  effects: ('consume' | 'release')[];
}

/** Applies targets through moveAllowed from `queued`, recording each state reached and each reservation effect. */
function run(targets: RefundState[]): Trace {
  let state: RefundState = 'queued';
  const trace: Trace = { states: [state], effects: [] };
  for (const to of targets) {
    if (!moveAllowed(state, to)) continue;
    state = to;
    trace.states.push(state);
    const effect = reservationEffect(to);
    if (effect !== 'keep') trace.effects.push(effect);
  }
  return trace;
}

function checkTrace(trace: Trace): void {
  const firstFinal = trace.states.findIndex(isFinal);
  if (firstFinal >= 0) {
    // final, then never not final again
    expect(trace.states.slice(firstFinal).filter((s) => !isFinal(s))).toEqual([]);
  }
  const firstConsume = trace.effects.indexOf('consume');
  if (firstConsume >= 0) {
    // consumed, then never released, and consumed once
    expect(trace.effects.slice(firstConsume + 1)).toEqual([]);
  }
  expect(trace.effects.filter((e) => e === 'release').length).toBeLessThanOrEqual(1);
  // a success ends the story
  const success = trace.states.indexOf('success');
  if (success >= 0) expect(trace.states.length).toBe(success + 1);
}

describe('properties', () => {
  test('any sequence of WeChat Pay answers: never final-then-non-final, never a release after consuming', () => {
    fc.assert(
      fc.property(fc.array(answerArb, { maxLength: 30 }), (answers) => {
        checkTrace(run(answers.map(targetOf)));
      }),
      { numRuns: 1000 },
    );
  });

  test('any sequence of requested states at all (not only answers) keeps the same guarantees', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...REFUND_STATES), { maxLength: 30 }), (targets) => {
        checkTrace(run(targets));
      }),
      { numRuns: 1000 },
    );
  });

  test('the property can fail: a table with closed → processing would be caught', () => {
    // the same check over a hand-made trace that leaves a final state
    expect(() => checkTrace({ states: ['queued', 'closed', 'processing'], effects: ['release'] })).toThrow();
    expect(() => checkTrace({ states: ['queued', 'success', 'closed'], effects: ['consume', 'release'] })).toThrow();
  });
});

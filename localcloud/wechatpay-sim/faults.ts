/**
 * Fault injection for the WeChat Pay simulator: for one request (`times: 1`), a few, or as a standing rule
 * (`times: null`) until cleared. What each fault means at WeChat Pay:
 *   SYSTEM_ERROR          500: WeChat Pay's side failed; retry with the same out_trade_no / out_refund_no
 *   FREQUENCY_LIMITED     429: too many requests; nothing was done, retry later
 *   SLOW / TIMEOUT        a late answer / no answer (phase `after`: processed, but the answer is lost)
 *   NOT_ENOUGH            403, refunds only: the merchant's balance is short; nothing recorded, the same
 *                         out_refund_no succeeds once the balance is back (the fault lifted)
 *   USER_ACCOUNT_ABNORMAL 403, refunds only: the payer's account is closed; the merchant refunds by other means
 */
export type ApiTarget =
  'prepay' | 'query' | 'close' | 'refund' | 'refund-query' | 'abnormal-refund' | 'certificates' | 'any';
export type ApiFaultKind = 'SYSTEM_ERROR' | 'FREQUENCY_LIMITED' | 'SLOW' | 'TIMEOUT' | RefundBusinessFault;
/** Business refusals of the refund API: always before any processing, and only on target `refund`. */
export type RefundBusinessFault = 'NOT_ENOUGH' | 'USER_ACCOUNT_ABNORMAL';
export type NotifyFaultKind = 'DROP' | 'DUPLICATE' | 'DELAY' | 'REORDER' | 'SIGNTEST';
export type RefundOutcomeKind = 'ABNORMAL' | 'CLOSED';

/** An API fault: on a built-in target, or on a plugged room's (a bills room's `bill`, `bill-download`). */
export type ApiFaultRule = {
  target: ApiTarget | (string & {});
  kind: ApiFaultKind;
  times: number | null;
  delayMs?: number;
  phase?: 'before' | 'after';
};

export type FaultRule =
  | ApiFaultRule
  | { target: 'notify'; kind: NotifyFaultKind; times: number | null; delayMs?: number }
  | { target: 'refund-outcome'; kind: RefundOutcomeKind; times: number | null };

export const API_TARGETS: readonly ApiTarget[] = [
  'prepay',
  'query',
  'close',
  'refund',
  'refund-query',
  'abnormal-refund',
  'certificates',
  'any',
];
const API_KINDS: readonly string[] = ['SYSTEM_ERROR', 'FREQUENCY_LIMITED', 'SLOW', 'TIMEOUT'];
const REFUND_BUSINESS_KINDS: readonly string[] = ['NOT_ENOUGH', 'USER_ACCOUNT_ABNORMAL'];
const NOTIFY_KINDS: readonly string[] = ['DROP', 'DUPLICATE', 'DELAY', 'REORDER', 'SIGNTEST'];
const REFUND_KINDS: readonly string[] = ['ABNORMAL', 'CLOSED'];

/** Validates a rule from the control API (`roomTargets`: what plugged rooms answer to); returns an error message or the rule. */
export function parseFaultRule(input: unknown, roomTargets: readonly string[] = []): FaultRule | string {
  if (typeof input !== 'object' || input === null) return 'a fault rule is an object';
  const r = input as Record<string, unknown>;
  const times = r.times === undefined ? 1 : r.times;
  if (times !== null && !(Number.isInteger(times) && (times as number) > 0))
    return 'times must be a positive integer, or null for a standing rule';
  if (
    r.delayMs !== undefined &&
    !(Number.isInteger(r.delayMs) && (r.delayMs as number) >= 0 && (r.delayMs as number) <= 120_000)
  ) {
    return 'delayMs must be an integer between 0 and 120000';
  }
  const kind = String(r.kind);
  if (r.target === 'notify') {
    if (!NOTIFY_KINDS.includes(kind)) return `notify faults: ${NOTIFY_KINDS.join(', ')}`;
    return {
      target: 'notify',
      kind: kind as NotifyFaultKind,
      times: times as number | null,
      delayMs: r.delayMs as number | undefined,
    };
  }
  if (r.target === 'refund-outcome') {
    if (!REFUND_KINDS.includes(kind)) return `refund-outcome faults: ${REFUND_KINDS.join(', ')}`;
    return { target: 'refund-outcome', kind: kind as RefundOutcomeKind, times: times as number | null };
  }
  const targets: readonly string[] = [...API_TARGETS, ...roomTargets];
  if (!targets.includes(r.target as string))
    return `target must be one of ${[...targets, 'notify', 'refund-outcome'].join(', ')}`;
  if (REFUND_BUSINESS_KINDS.includes(kind)) {
    if (r.target !== 'refund') return `${kind} is a refusal of the refund API: target must be refund`;
    if (r.phase === 'after') return `${kind} refuses the request before anything is recorded: phase must be before`;
  } else if (!API_KINDS.includes(kind)) return `API faults: ${[...API_KINDS, ...REFUND_BUSINESS_KINDS].join(', ')}`;
  if (r.phase !== undefined && r.phase !== 'before' && r.phase !== 'after') return 'phase must be before or after';
  return {
    target: r.target as string,
    kind: kind as ApiFaultKind,
    times: times as number | null,
    delayMs: r.delayMs as number | undefined,
    phase: r.phase as 'before' | 'after' | undefined,
  };
}

export class FaultBook {
  private rules: FaultRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  /** Takes the first rule for `target` (API rules with target `any` match every endpoint), spending one use. */
  take(target: 'notify'): Extract<FaultRule, { target: 'notify' }> | undefined;
  take(target: 'refund-outcome'): Extract<FaultRule, { target: 'refund-outcome' }> | undefined;
  take(target: string): ApiFaultRule | undefined;
  take(target: string): FaultRule | undefined {
    const endpoint = target !== 'notify' && target !== 'refund-outcome';
    const index = this.rules.findIndex((r) => r.target === target || (r.target === 'any' && endpoint));
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    if (rule.times !== null) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(index, 1);
    }
    return rule;
  }
}

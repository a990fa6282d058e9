/**
 * Fault injection for the WeChat Pay simulator: for one request (`times: 1`), a few, or as a standing rule
 * (`times: null`) until cleared.
 */
export type ApiTarget = 'prepay' | 'query' | 'close' | 'refund' | 'refund-query' | 'certificates' | 'any';
export type ApiFaultKind = 'SYSTEM_ERROR' | 'FREQUENCY_LIMITED' | 'SLOW' | 'TIMEOUT';
export type NotifyFaultKind = 'DROP' | 'DUPLICATE' | 'DELAY' | 'REORDER' | 'SIGNTEST';
export type RefundOutcomeKind = 'ABNORMAL' | 'CLOSED';

export type FaultRule =
  | { target: ApiTarget; kind: ApiFaultKind; times: number | null; delayMs?: number; phase?: 'before' | 'after' }
  | { target: 'notify'; kind: NotifyFaultKind; times: number | null; delayMs?: number }
  | { target: 'refund-outcome'; kind: RefundOutcomeKind; times: number | null };

export const API_TARGETS: readonly ApiTarget[] = ['prepay', 'query', 'close', 'refund', 'refund-query', 'certificates', 'any'];
const API_KINDS: readonly string[] = ['SYSTEM_ERROR', 'FREQUENCY_LIMITED', 'SLOW', 'TIMEOUT'];
const NOTIFY_KINDS: readonly string[] = ['DROP', 'DUPLICATE', 'DELAY', 'REORDER', 'SIGNTEST'];
const REFUND_KINDS: readonly string[] = ['ABNORMAL', 'CLOSED'];

/** Validates a rule from the control API; returns an error message or the rule. */
export function parseFaultRule(input: unknown): FaultRule | string {
  if (typeof input !== 'object' || input === null) return 'a fault rule is an object';
  const r = input as Record<string, unknown>;
  const times = r.times === undefined ? 1 : r.times;
  if (times !== null && !(Number.isInteger(times) && (times as number) > 0)) return 'times must be a positive integer, or null for a standing rule';
  if (r.delayMs !== undefined && !(Number.isInteger(r.delayMs) && (r.delayMs as number) >= 0 && (r.delayMs as number) <= 120_000)) {
    return 'delayMs must be an integer between 0 and 120000';
  }
  const kind = String(r.kind);
  if (r.target === 'notify') {
    if (!NOTIFY_KINDS.includes(kind)) return `notify faults: ${NOTIFY_KINDS.join(', ')}`;
    return { target: 'notify', kind: kind as NotifyFaultKind, times: times as number | null, delayMs: r.delayMs as number | undefined };
  }
  if (r.target === 'refund-outcome') {
    if (!REFUND_KINDS.includes(kind)) return `refund-outcome faults: ${REFUND_KINDS.join(', ')}`;
    return { target: 'refund-outcome', kind: kind as RefundOutcomeKind, times: times as number | null };
  }
  if (!API_TARGETS.includes(r.target as ApiTarget)) return `target must be one of ${[...API_TARGETS, 'notify', 'refund-outcome'].join(', ')}`;
  if (!API_KINDS.includes(kind)) return `API faults: ${API_KINDS.join(', ')}`;
  if (r.phase !== undefined && r.phase !== 'before' && r.phase !== 'after') return 'phase must be before or after';
  return {
    target: r.target as ApiTarget,
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
  take<T extends FaultRule['target']>(target: T): Extract<FaultRule, { target: T }> | (T extends ApiTarget ? Extract<FaultRule, { target: ApiTarget }> : never) | undefined {
    const index = this.rules.findIndex((r) => r.target === target || (r.target === 'any' && API_TARGETS.includes(target as ApiTarget)));
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    if (rule.times !== null) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(index, 1);
    }
    return rule as never;
  }
}

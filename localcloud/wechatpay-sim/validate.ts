/** Request validation as WeChat Pay answers it: the first problem becomes 400 PARAM_ERROR with a field pointer. */
import { HttpError } from '../http';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * notify_url as WeChat Pay accepts it: https, no query string, at most 255 characters. The simulator also takes
 * http on the loopback interface, where the local cloud and the tests listen.
 */
export function notifyUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (value.length > 255) return 'is longer than 255 characters';
  if (url.search) return 'must not carry a query string';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must be https (http only on the loopback interface)';
}

export const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
export const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function paramError(field: string, issue: string, message?: string): HttpError {
  return new HttpError(400, 'PARAM_ERROR', message ?? `参数错误: ${field} ${issue}`, {
    field,
    location: 'body',
    issue,
  });
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function requireString(
  obj: Obj,
  field: string,
  pointer: string,
  { min = 1, max, pattern }: { min?: number; max?: number; pattern?: RegExp } = {},
): string {
  const value = obj[field];
  if (value === undefined || value === null)
    throw paramError(pointer, 'missing', `输入源“${pointer}”映射到字段“${field}”必填性规则校验失败，此字段为必填项`);
  if (typeof value !== 'string') throw paramError(pointer, 'not a string');
  if (value.length < min || (max !== undefined && value.length > max))
    throw paramError(pointer, `length must be ${min}..${max ?? '∞'}`);
  if (pattern && !pattern.test(value)) throw paramError(pointer, 'format invalid');
  return value;
}

export function optionalString(obj: Obj, field: string, pointer: string, max: number): string | undefined {
  if (obj[field] === undefined) return undefined;
  return requireString(obj, field, pointer, { min: 0, max });
}

export function requireFen(obj: Obj, field: string, pointer: string, min = 1): number {
  const value = obj[field];
  if (value === undefined) throw paramError(pointer, 'missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw paramError(pointer, `must be an integer ≥ ${min} (fen)`);
  return value;
}

export function requireObject(obj: Obj, field: string, pointer: string): Obj {
  const value = obj[field];
  if (!isObj(value)) throw paramError(pointer, value === undefined ? 'missing' : 'not an object');
  return value;
}

export function checkCurrency(obj: Obj, pointer: string): 'CNY' {
  if (obj.currency !== undefined && obj.currency !== 'CNY') throw paramError(pointer, 'only CNY is supported');
  return 'CNY';
}

export function checkNotify(obj: Obj, field: string, pointer: string, required: boolean): string | undefined {
  const value = required ? requireString(obj, field, pointer, { max: 255 }) : optionalString(obj, field, pointer, 255);
  if (value === undefined) return undefined;
  const problem = notifyUrlProblem(value);
  if (problem) throw paramError(pointer, problem);
  return value;
}

export function checkTimeExpire(obj: Obj, now: number): string | undefined {
  const value = optionalString(obj, 'time_expire', '/time_expire', 64);
  if (value === undefined) return undefined;
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw paramError('/time_expire', 'not RFC 3339');
  if (Date.parse(value) <= now) throw paramError('/time_expire', 'already passed', 'time_expire 已过期');
  return value;
}

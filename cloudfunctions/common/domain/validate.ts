/**
 * Event validation. Written by hand on purpose: the events are a handful of flat shapes, and a schema library would
 * add tens of kilobytes to every bundled function's cold start. Each reader throws INVALID_ARGUMENT naming the field.
 */
import { invalid } from './errors';

export type Input = Record<string, unknown>;

/** A request of the contract as its parser answers it: the fields the parser fills by default (`remark: ''`, `page: 1`) are always there. */
export type WithDefaults<T, K extends keyof T> = T & Required<Pick<T, K>>;

export function asObject(value: unknown, field = 'event'): Input {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(field, `${field} must be an object`);
  return value as Input;
}

export function readString(
  obj: Input,
  key: string,
  opts: { min?: number; max: number; pattern?: RegExp; field?: string; optional?: false },
): string;
export function readString(
  obj: Input,
  key: string,
  opts: { min?: number; max: number; pattern?: RegExp; field?: string; optional: true },
): string | undefined;
export function readString(
  obj: Input,
  key: string,
  opts: { min?: number; max: number; pattern?: RegExp; field?: string; optional?: boolean },
): string | undefined {
  const field = opts.field ?? key;
  const value = obj[key];
  if (value === undefined && opts.optional) return undefined;
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < (opts.min ?? 1)) throw invalid(field, `${field} is required`);
  if (length > opts.max) throw invalid(field, `${field} must be at most ${opts.max} characters`);
  if (opts.pattern && !opts.pattern.test(trimmed)) throw invalid(field, `${field} is malformed`);
  return trimmed;
}

export function readInt(
  obj: Input,
  key: string,
  opts: { min: number; max: number; field?: string; optional?: boolean },
): number | undefined {
  const field = opts.field ?? key;
  const value = obj[key];
  if (value === undefined && opts.optional) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(field, `${field} must be an integer`);
  if (value < opts.min || value > opts.max)
    throw invalid(field, `${field} must be between ${opts.min} and ${opts.max}`);
  return value;
}

export function readEnum<T extends string>(
  obj: Input,
  key: string,
  values: readonly T[],
  opts: { optional?: boolean } = {},
): T | undefined {
  const value = obj[key];
  if (value === undefined && opts.optional) return undefined;
  if (typeof value !== 'string' || !values.includes(value as T))
    throw invalid(key, `${key} must be one of ${values.join(', ')}`);
  return value as T;
}

export function onlyKeys(obj: Input, allowed: readonly string[], field = 'event'): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw invalid(`${field === 'event' ? '' : `${field}.`}${key}`, `unexpected field ${key}`);
  }
}

/** Ids the backend made (orders, products) and client request ids: letters, digits, `_` and `-`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

export function readOrderId(obj: Input): string {
  return readString(obj, 'orderId', { max: 64, pattern: ID_PATTERN });
}

/** The typed error codes every callable function answers with, and its answer: `{ ok, data }` or `{ ok: false, error }`. */

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ORDER_EXPIRED'
  | 'FAILED_PRECONDITION'
  | 'PAYMENT_PROVIDER_ERROR'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'ORDER_EXPIRED',
  'FAILED_PRECONDITION',
  'PAYMENT_PROVIDER_ERROR',
  'UNAVAILABLE',
  'INTERNAL',
];

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** for INVALID_ARGUMENT: the offending field, as a path like `items[0].quantity` */
  field?: string;
}

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

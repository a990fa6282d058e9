import type { ApiError, ErrorCode } from '../../../typings/api';

/** A failure the caller should see, with its typed code. Anything else is INTERNAL. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toApiError(): ApiError {
    return { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

export const invalid = (field: string, message: string) => new DomainError('INVALID_ARGUMENT', message, field);

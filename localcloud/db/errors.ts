/** Errors shaped like wx-server-sdk's CloudSDKError: `errCode` and `errMsg` as `<api>:fail <reason>`. */
export class LocalDbError extends Error {
  constructor(
    readonly errCode: number,
    readonly api: string,
    reason: string,
  ) {
    super(`${api}:fail ${reason}`);
    this.name = 'LocalDbError';
  }
  get errMsg(): string {
    return this.message;
  }
}

export const DB_REQUEST_FAILED = -502001;
export const DB_INVALID_COMMAND = -502002;

/** An operator of the cloud database API that the local database does not implement: never a silently wrong answer. */
export class UnsupportedOperatorError extends LocalDbError {
  constructor(readonly operator: string) {
    super(DB_INVALID_COMMAND, 'database', `operator "${operator}" is not supported by the local cloud database`);
    this.name = 'UnsupportedOperatorError';
  }
}

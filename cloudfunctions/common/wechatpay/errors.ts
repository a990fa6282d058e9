/**
 * Typed errors of the WeChat Pay protocol module. Callers branch on `kind`/`reason`, never on message text.
 */

/** A non-2xx answer from WeChat Pay (or the simulator). `code` is an open string: WeChat has used several spellings. */
export class WechatPayApiError extends Error {
  readonly kind = 'api' as const;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: unknown,
    readonly requestId: string | undefined,
  ) {
    super(`WeChat Pay ${status} ${code}: ${message}`);
    this.name = 'WechatPayApiError';
  }
}

/** The request never got an answer: network failure or timeout, after the retries allowed. */
export class WechatPayNetworkError extends Error {
  readonly kind = 'network' as const;
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WechatPayNetworkError';
  }
}

export type VerificationFailure =
  'MISSING_HEADER' | 'MALFORMED_HEADER' | 'SIGNTEST_PROBE' | 'UNKNOWN_SERIAL' | 'STALE_TIMESTAMP' | 'BAD_SIGNATURE';

/** A response or notification whose signature cannot be trusted. */
export class WechatPayVerificationError extends Error {
  readonly kind = 'verification' as const;
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WechatPayVerificationError';
  }
}

export type DecryptFailure = 'BAD_KEY' | 'BAD_INPUT' | 'AUTHENTICATION_FAILED';

/** AES-GCM decryption refused: wrong key, malformed input, or a tag that does not authenticate. */
export class WechatPayDecryptError extends Error {
  readonly kind = 'decrypt' as const;
  constructor(
    readonly reason: DecryptFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WechatPayDecryptError';
  }
}

/** A verified, decrypted notification whose content is not what the protocol promises. */
export class WechatPayNotificationError extends Error {
  readonly kind = 'notification' as const;
  constructor(message: string) {
    super(message);
    this.name = 'WechatPayNotificationError';
  }
}

/** Configuration missing or malformed. Names the items; never echoes a value. */
export class WechatPayConfigError extends Error {
  readonly kind = 'config' as const;
  constructor(readonly problems: string[]) {
    super(`WeChat Pay configuration invalid: ${problems.join('; ')}`);
    this.name = 'WechatPayConfigError';
  }
}

/** Every failure the client shows, normalised here: a typed code and a readable Chinese message. */
import type { ErrorCode } from '../../typings/api';

export type FailureCode = ErrorCode | 'NETWORK';

export class ApiFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

const MESSAGES: Record<FailureCode, string> = {
  INVALID_ARGUMENT: '填写的信息有误，请检查',
  UNAUTHENTICATED: '登录已失效，请重新进入小程序',
  FORBIDDEN: '没有权限进行此操作',
  NOT_FOUND: '订单不存在',
  CONFLICT: '订单状态已变化，请刷新后重试',
  ORDER_EXPIRED: '订单已过期，请重新下单',
  FAILED_PRECONDITION: '当前状态不能进行此操作',
  PAYMENT_PROVIDER_ERROR: '微信支付暂时不可用，请稍后重试',
  UNAVAILABLE: '服务暂时不可用，请稍后重试',
  INTERNAL: '服务繁忙，请稍后重试',
  NETWORK: '网络不给力，请检查网络后重试',
};

const CHINESE = /[\u4e00-\u9fa5]/;

/** The message to show: the server's own words when it wrote them for users (Chinese), else the code's. */
export function messageFor(error: unknown): string {
  if (error instanceof ApiFailure) {
    const own = CHINESE.test(error.message) && error.code !== 'INTERNAL' ? error.message : undefined;
    return own ?? MESSAGES[error.code] ?? MESSAGES.INTERNAL;
  }
  return MESSAGES.INTERNAL;
}

export function showError(error: unknown): void {
  wx.showToast({ title: messageFor(error), icon: 'none', duration: 2500 });
}

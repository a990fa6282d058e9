/** WeChat Pay failures as the caller of a cloud function sees them, and the answers that mean "already paid". */
import { WechatPayApiError, WechatPayNetworkError } from '../wechatpay';
import { DomainError } from './errors';

export function providerError(error: unknown): DomainError {
  if (error instanceof WechatPayApiError)
    return new DomainError('PAYMENT_PROVIDER_ERROR', `微信支付返回错误 ${error.code}`);
  if (error instanceof WechatPayNetworkError)
    return new DomainError('PAYMENT_PROVIDER_ERROR', '微信支付暂时无法连接，请稍后重试');
  return error instanceof DomainError ? error : new DomainError('PAYMENT_PROVIDER_ERROR', '微信支付暂时不可用');
}

/** Prepay and close answer these when the transaction was paid meanwhile (old and new spellings). */
export const isPaidCode = (code: string) => code === 'ORDERPAID' || code === 'ORDER_PAID';

export const isNotFound = (error: unknown) => error instanceof WechatPayApiError && error.status === 404;

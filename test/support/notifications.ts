/** Crafting WeChat Pay notifications as WeChat Pay (or an attacker) would, and posting them to the notify URL. */
import { RsaSha256Signer, rfc3339 } from '../../cloudfunctions/common/wechatpay';
import { encryptNotification, signResponse } from '../../localcloud/wechatpay-sim/signing';
import type { LocalKeys } from '../../localcloud/keys';

export interface CraftOptions {
  eventType?: string;
  originalType?: 'transaction' | 'refund';
  signerPem?: string;
  serial?: string;
  timestamp?: number;
  apiV3Key?: string;
  /** changes the body after signing (a tampered body) */
  tamper?: (body: string) => string;
  /** changes the body before signing (an attacker holding the platform key, or a re-signed tampering) */
  mutateBeforeSigning?: (body: string) => string;
  signature?: string;
}

export function craftNotification(
  keys: LocalKeys,
  resource: unknown,
  options: CraftOptions = {},
): { headers: Record<string, string>; body: string } {
  const envelope = encryptNotification({
    apiV3Key: options.apiV3Key ?? keys.apiV3Key,
    eventType: options.eventType ?? 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    originalType: options.originalType ?? 'transaction',
    resource,
    createTime: rfc3339(Date.now()),
  });
  let body = JSON.stringify(envelope);
  if (options.mutateBeforeSigning) body = options.mutateBeforeSigning(body);
  const headers: Record<string, string> = signResponse(
    new RsaSha256Signer(options.signerPem ?? keys.platformPrivateKeyPem),
    options.serial ?? keys.publicKeyId,
    body,
    options.timestamp ?? Math.floor(Date.now() / 1000),
  );
  if (options.signature) headers['Wechatpay-Signature'] = options.signature;
  if (options.tamper) body = options.tamper(body);
  return { headers, body };
}

export function transactionResource(
  keys: LocalKeys,
  outTradeNo: string,
  totalFen: number,
  openid: string,
  overrides: Record<string, unknown> = {},
) {
  return {
    appid: keys.appid,
    mchid: keys.mchid,
    out_trade_no: outTradeNo,
    transaction_id: `4200${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    // the backend's out_trade_no is the order id, P, and a sequence number; attach carries the order id
    attach: outTradeNo.replace(/P\d+$/, ''),
    bank_type: 'OTHERS',
    success_time: rfc3339(Date.now()),
    payer: { openid },
    amount: { total: totalFen, payer_total: totalFen, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  };
}

export async function postNotification(
  notifyUrl: string,
  n: { headers: Record<string, string>; body: string },
): Promise<{ status: number; body: string }> {
  const response = await fetch(notifyUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...n.headers },
    body: n.body,
  });
  return { status: response.status, body: await response.text() };
}

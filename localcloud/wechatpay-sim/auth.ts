/**
 * WeChat Pay's side of request authentication: parse the merchant's `Authorization: WECHATPAY2-SHA256-RSA2048 …`
 * header and verify its signature over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` with the merchant's certificate,
 * answering 401 SIGN_ERROR (with WeChat's `sign_information`) when anything is off. Written apart from the
 * merchant's signer so that the two cannot share a slip.
 */
import { verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http';

export const AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
/** a request's timestamp may be this far from WeChat Pay's (wall) clock */
export const REQUEST_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ParsedAuthorization {
  schema: string;
  mchid: string;
  nonce: string;
  signature: string;
  timestamp: string;
  serialNo: string;
}

/** Parses an Authorization header in any parameter order; undefined when it is not the WECHATPAY2 form. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  const schema = header.slice(0, space);
  const params = new Map<string, string>();
  const re = /\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/gy;
  const rest = header.slice(space + 1);
  let consumed = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    params.set(m[1]!, m[2]!);
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) return undefined;
  const mchid = params.get('mchid');
  const nonce = params.get('nonce_str');
  const signature = params.get('signature');
  const timestamp = params.get('timestamp');
  const serialNo = params.get('serial_no');
  if (!mchid || !nonce || !signature || !timestamp || !serialNo) return undefined;
  return { schema, mchid, nonce, signature, timestamp, serialNo };
}

export interface Merchant {
  mchid: string;
  /** the merchant API certificate's serial (upper-case hex) */
  serialNo: string;
  /** the public key of that certificate */
  key: KeyObject;
}

/** Verifies a request as WeChat Pay does; throws 401 SIGN_ERROR. `wallNow` is ms since the epoch. */
export function authenticate(req: IncomingMessage, raw: Buffer, merchant: Merchant, wallNow: number): void {
  const method = req.method ?? '';
  const url = req.url ?? '';
  const body = raw.toString('utf8');
  const auth = parseAuthorization(req.headers.authorization ?? '');
  const fail = (issue: string, message = '错误的签名，验签失败') => {
    const signMessage = auth ? `${method}\n${url}\n${auth.timestamp}\n${auth.nonce}\n${body}\n` : '';
    return new HttpError(401, 'SIGN_ERROR', message, {
      detail: { issue },
      field: 'signature',
      location: 'authorization',
      sign_information: {
        method,
        url,
        truncated_sign_message: signMessage.length > 64 ? `${signMessage.slice(0, 61)}...\n` : signMessage,
        sign_message_length: Buffer.byteLength(signMessage),
      },
    });
  };
  if (!auth || auth.schema !== AUTH_SCHEMA)
    throw fail('Authorization header is not WECHATPAY2-SHA256-RSA2048', 'Authorization 头格式错误');
  if (auth.mchid !== merchant.mchid) throw fail(`unknown mchid ${auth.mchid}`, '商户号不存在');
  if (auth.serialNo.toUpperCase() !== merchant.serialNo)
    throw fail('serial_no does not match the merchant certificate', '商户证书序列号有误');
  if (!/^\d{1,12}$/.test(auth.timestamp) || Math.abs(Number(auth.timestamp) * 1000 - wallNow) > REQUEST_CLOCK_SKEW_MS) {
    throw fail('timestamp outside ±5 minutes', '时间戳已过期');
  }
  const message = `${method}\n${url}\n${auth.timestamp}\n${auth.nonce}\n${body}\n`;
  const signature = Buffer.from(auth.signature, 'base64');
  if (signature.length === 0 || !verify('sha256', Buffer.from(message, 'utf8'), merchant.key, signature))
    throw fail('sign not match');
}

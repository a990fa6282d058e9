/**
 * WeChat Pay's bills (账单), the merchant's side of the transport: the trade bill application's query and answer, the
 * download's body as a stream, and reading it: gunzip when GZIP, SHA1 of the ORIGINAL bill ("原始账单（gzip需要解压缩）
 * 的摘要值": the digest is taken after decompression, as wechatpay-java checks it after GZIPInputStream), lines
 * handed out one at a time (CRLF or LF, the UTF-8 BOM dropped), so a 100,000-row bill is never held whole.
 *
 * What WeChat Pay documents for the download: the request is signed like any other; the answer carries no
 * signature ("该接口响应的信息请求头中不包含微信接口响应的签名值，因此需要跳过验签的流程") and its integrity is the
 * hash_value of the application; the link lives 30 s (5 min on newer pages) and answers 400 once expired.
 * Node built-ins only.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

export type TradeBillType = 'ALL' | 'SUCCESS' | 'REFUND';

/** `GET /v3/bill/tradebill` query: bill_date `YYYY-MM-DD` (China day, last three months), ALL by default, GZIP or a plain stream. */
export interface TradeBillRequest {
  bill_date: string;
  bill_type?: TradeBillType;
  tar_type?: 'GZIP';
  /** partner mode only: the sub-merchant whose bill (the client sets it from the sub-merchant it is given) */
  sub_mchid?: string;
}

/** The application's answer: where to download the file (valid 30 s) and the SHA1 of the original bill. */
export interface BillApplication {
  download_url: string;
  hash_type: string;
  hash_value: string;
}

/** A download in progress: the body as bytes arriving, and WeChat Pay's Request-ID. */
export interface BillDownload {
  body: AsyncIterable<Uint8Array>;
  requestId: string | undefined;
}

export type BillFailure =
  'DIGEST_MISMATCH' | 'UNSUPPORTED_HASH' | 'MALFORMED' | 'SUMMARY_MISMATCH' | 'FOREIGN_URL' | 'TOO_LARGE';

/** A bill that cannot be trusted or read: `reason` says why (DIGEST_MISMATCH: download again). */
export class WechatPayBillError extends Error {
  readonly kind = 'bill' as const;
  constructor(
    readonly reason: BillFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WechatPayBillError';
  }
}

const BILL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const BILL_TYPES: readonly string[] = ['ALL', 'SUCCESS', 'REFUND'];

/** The application's query string, checked before anything is sent. */
export function tradeBillQuery(request: TradeBillRequest): string {
  if (!BILL_DATE.test(request.bill_date)) throw new TypeError('bill_date must be YYYY-MM-DD');
  if (request.bill_type !== undefined && !BILL_TYPES.includes(request.bill_type))
    throw new TypeError(`bill_type must be one of ${BILL_TYPES.join(', ')}`);
  if (request.tar_type !== undefined && request.tar_type !== 'GZIP')
    throw new TypeError('tar_type must be GZIP or absent');
  const query = new URLSearchParams({ bill_date: request.bill_date });
  if (request.bill_type) query.set('bill_type', request.bill_type);
  if (request.sub_mchid !== undefined && !/^\d{1,32}$/.test(request.sub_mchid))
    throw new TypeError('sub_mchid must be digits');
  if (request.sub_mchid) query.set('sub_mchid', request.sub_mchid);
  if (request.tar_type) query.set('tar_type', request.tar_type);
  return query.toString();
}

/** A fetch Response body as a Node stream of bytes (empty when there is none). */
export function responseBodyStream(body: ReadableStream<Uint8Array> | null): Readable {
  return body ? Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
}

export interface ReadBillOptions {
  /** the file is a gzip stream (tar_type GZIP) */
  gzip: boolean;
  /** from the application: only SHA1 is documented */
  hashType: string;
  hashValue: string;
  /** refuse an original bill larger than this (default 1 GiB) */
  maxBytes?: number;
}

export interface BillReadResult {
  lines: number;
  plainBytes: number;
  sha1: string;
}

/**
 * Reads a bill as it arrives: gunzips it when GZIP, hashes the original bytes, splits lines (CRLF or LF; the BOM of
 * the first line dropped; empty lines skipped) and gives each to `onLine`. The digest is compared at the end: a
 * caller must not act on the lines until this resolves (DIGEST_MISMATCH rejects it).
 */
export async function readBill(
  source: AsyncIterable<Uint8Array>,
  options: ReadBillOptions,
  onLine: (line: string) => void,
): Promise<BillReadResult> {
  if (options.hashType.toUpperCase() !== 'SHA1')
    throw new WechatPayBillError('UNSUPPORTED_HASH', `hash_type ${options.hashType} is not SHA1`);
  const maxBytes = options.maxBytes ?? 1024 ** 3;
  const hash = createHash('sha1');
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lines = 0;
  let plainBytes = 0;
  const emit = (line: string) => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const clean = lines === 0 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    if (clean.length === 0) return;
    lines += 1;
    onLine(clean);
  };
  const input = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  const plain = options.gzip ? input.pipe(createGunzip()) : input;
  if (options.gzip) input.once('error', (error) => plain.destroy(error));
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      plainBytes += chunk.length;
      if (plainBytes > maxBytes) throw new WechatPayBillError('TOO_LARGE', `the bill is larger than ${maxBytes} bytes`);
      hash.update(chunk);
      const text = pending + decoder.write(chunk);
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        emit(text.slice(start, end));
        start = end + 1;
      }
      pending = text.slice(start);
    }
  } catch (error) {
    input.destroy();
    if (error instanceof WechatPayBillError) throw error;
    // a gzip stream that does not inflate, or a connection cut in the middle: the file is not whole
    throw new WechatPayBillError('MALFORMED', `the bill could not be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  emit(pending + decoder.end());
  const sha1 = hash.digest('hex');
  if (sha1 !== options.hashValue.toLowerCase()) {
    throw new WechatPayBillError(
      'DIGEST_MISMATCH',
      `SHA1 of the bill ${sha1} differs from hash_value ${options.hashValue}`,
    );
  }
  return { lines, plainBytes, sha1 };
}

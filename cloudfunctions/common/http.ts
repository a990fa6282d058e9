/**
 * The platform's HTTP shapes (the cloud HTTP access service): the event a function receives, the answer it returns,
 * and reading the raw body out of the event. Ground floor: imports nothing, so the protocol module, the domain and the
 * runtime can all read it, and the WeChat Pay protocol module itself knows only `{ headers, body }`.
 */

/** The part of a cloud HTTP access event that carries a request: headers in any case, the body (base64 when `isBase64Encoded`). */
export interface HttpAccessEvent {
  headers?: Record<string, string | undefined>;
  body?: string | null;
  isBase64Encoded?: boolean;
}

/**
 * The platform's HTTP access event as an endpoint reads it. Only the method, headers and body are checked to be there;
 * the rest is whatever the platform sent (a web endpoint checks what it uses).
 */
export interface HttpRequestEvent extends HttpAccessEvent {
  httpMethod: string;
  path?: unknown;
  queryStringParameters?: unknown;
  requestContext?: unknown;
}

/** What an HTTP access function answers. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The platform's HTTP access event: a method and a header map (a callFunction event has neither). */
export function isHttpAccessEvent(event: unknown): event is HttpRequestEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    typeof e.httpMethod === 'string' &&
    typeof e.headers === 'object' &&
    e.headers !== null &&
    (e.body === undefined || e.body === null || typeof e.body === 'string')
  );
}

/** The request exactly as received: headers as sent, the body's bytes (decoded from base64 when the platform encoded it). */
export function rawRequestOf(event: HttpAccessEvent): { headers: Record<string, string | undefined>; body: Buffer } {
  const text = event.body ?? '';
  return {
    headers: event.headers ?? {},
    body: event.isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'),
  };
}

/** The bytes an HTTP access event carries (base64 when `isBase64Encoded`), counted without decoding. */
export function bodySize(event: HttpAccessEvent): number {
  const text = event.body ?? '';
  if (!event.isBase64Encoded) return Buffer.byteLength(text, 'utf8');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

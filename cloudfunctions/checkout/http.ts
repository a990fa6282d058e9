/**
 * The checkout function's HTTP surface: the page at the root, its JSON API under `api/` (typings/checkout.ts). Routing,
 * the bearer token, the client's address, CORS for a page on static hosting, and domain errors as HTTP statuses; the
 * rest is domain/orders/checkout.ts.
 *
 * The client's address for the rate limits is what the platform reports: `requestContext.sourceIp` when the event
 * carries it, else the last X-Forwarded-For hop (the one the platform's own proxy appended: a client can forge the
 * earlier ones, not that one), else a shared `unknown` bucket.
 */
import type { CheckoutAnswer, CheckoutError } from '../../typings/checkout';
import {
  checkGuestOrder,
  checkoutCatalog,
  createGuestOrder,
  payGuestOrder,
  readGuestOrder,
  type CheckoutClient,
} from '../common/domain/orders/checkout';
import type { Deps, Logger } from '../common/domain/deps';
import { RateLimitedError } from '../common/domain/rate-limit';
import type { HttpRequestEvent, HttpResponse } from '../common/http';
import { toApiError } from '../common/runtime/handler';
import { CHECKOUT_CSP, CHECKOUT_PAGE } from './page';
import { qrSvg } from './qr';

/** Origins of a checkout page served from static hosting, allowed to call this API (comma-separated). */
export const CHECKOUT_ORIGINS_ENV = 'CHECKOUT_ALLOWED_ORIGINS';
export const MAX_BODY_BYTES = 16 * 1024;

const STATUS_OF: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ORDER_EXPIRED: 410,
  FAILED_PRECONDITION: 412,
  PAYMENT_PROVIDER_ERROR: 502,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

const header = (event: HttpRequestEvent, name: string): string | undefined => {
  for (const [key, value] of Object.entries(event.headers ?? {}))
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
};

export function clientOf(event: HttpRequestEvent): CheckoutClient {
  const context = event.requestContext as { sourceIp?: unknown } | undefined;
  if (typeof context?.sourceIp === 'string' && context.sourceIp) return { ip: context.sourceIp };
  const hops = (header(event, 'x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { ip: hops.at(-1) ?? 'unknown' };
}

function bearer(event: HttpRequestEvent): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header(event, 'authorization') ?? '');
  return match?.[1];
}

function bodyOf(event: HttpRequestEvent): unknown {
  // JSON only: a form, multipart or text/plain POST from any site needs no CORS preflight; a JSON one does
  const type = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(String(type)))
    throw new HttpFailure(415, 'INVALID_ARGUMENT', '请求须为 JSON（Content-Type: application/json）');
  const raw = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) throw new HttpFailure(413, 'INVALID_ARGUMENT', '请求过大');
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpFailure(400, 'INVALID_ARGUMENT', '请求不是 JSON');
  }
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: CheckoutError['error']['code'],
    message: string,
  ) {
    super(message);
  }
}

/** The code's QR image travels with the answer, so the page draws nothing itself. */
function withQr<T extends CheckoutAnswer>(answer: T): T {
  if (answer.order.code) answer.order.code.svg = qrSvg(answer.order.code.codeUrl);
  return answer;
}

function corsHeaders(event: HttpRequestEvent, env: NodeJS.ProcessEnv): Record<string, string> {
  const origin = header(event, 'origin');
  const allowed = (env[CHECKOUT_ORIGINS_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!origin || !allowed.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Expose-Headers': 'Retry-After',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  statusCode: status,
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  },
  body: JSON.stringify(value),
});

function failure(error: unknown, log: Logger): HttpResponse {
  if (error instanceof HttpFailure)
    return json(error.status, { error: { code: error.code, message: error.message } } satisfies CheckoutError);
  if (error instanceof RateLimitedError) {
    return json(429, { error: error.toApiError() } satisfies CheckoutError, {
      'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
    });
  }
  const api = toApiError(error, log);
  return json(STATUS_OF[api.code] ?? 500, { error: api } satisfies CheckoutError);
}

function path(event: HttpRequestEvent): string {
  const raw = typeof event.path === 'string' ? event.path : '/';
  return `/${raw.replace(/^\/+|\/+$/g, '')}`;
}

export async function handleCheckout(
  deps: Deps,
  event: HttpRequestEvent,
  env: NodeJS.ProcessEnv = process.env,
): Promise<HttpResponse> {
  const method = event.httpMethod.toUpperCase();
  const route = `${method} ${path(event)}`;
  const cors = corsHeaders(event, env);
  if (method === 'OPTIONS') return { statusCode: Object.keys(cors).length ? 204 : 403, headers: cors, body: '' };
  if (route === 'GET /' || route === 'GET /index.html') {
    return {
      statusCode: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': CHECKOUT_CSP,
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
      },
      body: CHECKOUT_PAGE,
    };
  }
  const client = clientOf(event);
  try {
    let answer: unknown;
    let status = 200;
    if (route === 'GET /api/catalog') answer = await checkoutCatalog(deps, client);
    else if (route === 'POST /api/orders') {
      answer = withQr(await createGuestOrder(deps, bodyOf(event), client));
      status = 201;
    } else if (route === 'GET /api/order') answer = withQr(await readGuestOrder(deps, bearer(event), client));
    else if (route === 'POST /api/order/pay') answer = withQr(await payGuestOrder(deps, bearer(event), client));
    else if (route === 'POST /api/order/check') answer = withQr(await checkGuestOrder(deps, bearer(event), client));
    else throw new HttpFailure(404, 'NOT_FOUND', `没有 ${route}`);
    return json(status, answer, cors);
  } catch (error) {
    const answer = failure(error, deps.log);
    return { ...answer, headers: { ...answer.headers, ...cors } };
  }
}

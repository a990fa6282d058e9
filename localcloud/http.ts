/** Small HTTP helpers shared by the local cloud's servers (node:http; no framework needed for a handful of routes). */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 1 << 20;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'REQUEST_TOO_LARGE', 'body larger than 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_REQUEST', 'body is not JSON');
  }
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;
/** The mini-program's own pages (the IDE's wx.request): no web page can send this Origin, browsers set it */
const MINIPROGRAM_ORIGIN = 'https://servicewechat.com';

/**
 * The local surfaces have no login, so only their own pages, the mini-program in the IDE and the CLI may drive them.
 * A Host that is not the loopback (a DNS rebinding) is refused; so is a change from a page of another origin (a site
 * the tester has open posting to 127.0.0.1; the CLI sends no Origin), and, when `body` is given, a body that is not
 * JSON (a form or text/plain POST needs no CORS preflight, a JSON one does, and nothing here answers preflights).
 */
export function refuseOtherSites(req: IncomingMessage, what: string, body?: Buffer): void {
  refuseForeignHost(req, what);
  const host = req.headers.host ?? '';
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD') return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== MINIPROGRAM_ORIGIN)
    throw new HttpError(403, 'FORBIDDEN', `${what} acts only for its own pages`);
  if (body && body.length > 0 && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `${what} takes JSON bodies only (Content-Type: application/json)`,
    );
}

/** The loopback Host only: what a page of another site reaches through DNS rebinding is refused. */
export function refuseForeignHost(req: IncomingMessage, what: string): void {
  if (!LOOPBACK_HOST.test(req.headers.host ?? ''))
    throw new HttpError(403, 'FORBIDDEN', `${what} answers on the loopback only`);
}

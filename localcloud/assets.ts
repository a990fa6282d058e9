/**
 * Static files the local cloud serves for the mini-program under /assets/ (the product pictures of the seed
 * catalogue: localcloud/assets/products/<id>.png). In the cloud the same pictures live in cloud storage and products
 * carry their file ids; pictures are never packaged into the mini-program.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join, normalize } from 'node:path';

export const ASSETS_DIR = join(__dirname, 'assets');
const TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Answers GET /assets/<path> from ASSETS_DIR; false when the path is not an asset request. */
export async function serveAsset(method: string | undefined, pathname: string, res: ServerResponse): Promise<boolean> {
  if (!pathname.startsWith('/assets/') || (method !== 'GET' && method !== 'HEAD')) return false;
  const relative = normalize(decodeURIComponent(pathname.slice('/assets/'.length)));
  const type = TYPES[relative.split('.').pop()?.toLowerCase() ?? ''];
  if (!type || relative.startsWith('..') || relative.includes('\0') || !/^[A-Za-z0-9_/-]+\.[a-z]+$/.test(relative)) {
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"code":"NOT_FOUND"}');
    return true;
  }
  try {
    const body = await readFile(join(ASSETS_DIR, relative));
    res
      .writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'public, max-age=3600' })
      .end(method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"code":"NOT_FOUND"}');
  }
  return true;
}

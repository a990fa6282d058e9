/**
 * The official WeChat Pay test vectors live in ../shared/wechatpay-vectors beside the project (CI always has it).
 * They are read from there, never copied in; where the folder is absent the vector cases are skipped, saying so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const VECTORS_DIR = process.env.WECHATPAY_VECTORS_DIR ?? resolve(__dirname, '../../../shared/wechatpay-vectors');
export const vectorsPresent = existsSync(join(VECTORS_DIR, 'README.md'));

if (!vectorsPresent) {
  console.warn(`WeChat Pay vectors not found at ${VECTORS_DIR}: vector cases are skipped (CI always has them).`);
}

/** `describe` when the vectors are here, `describe.skip` otherwise. */
export const describeVectors: jest.Describe = vectorsPresent ? describe : describe.skip;

export function vectorText(file: string): string {
  return readFileSync(join(VECTORS_DIR, file), 'utf8');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function vector<T = any>(file: string): T {
  return JSON.parse(vectorText(file)) as T;
}

/** The checkout page exported for static hosting (scripts/release/checkout-static.ts): its API and policy in meta tags. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKOUT_PAGE } from '../../../cloudfunctions/checkout/page';
import { exportCheckoutPage } from '../../../scripts/release/checkout-static';

const dir = mkdtempSync(join(tmpdir(), 'checkout-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the served page with the API URL and a CSP that lets it reach only that origin', () => {
  const html = readFileSync(exportCheckoutPage('https://env-1a2b.service.tcloudbase.com/checkout', dir), 'utf8');
  expect(html).toContain('<meta name="checkout-api" content="https://env-1a2b.service.tcloudbase.com/checkout/">');
  expect(html).toMatch(
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; img-src data:; connect-src https:\/\/env-1a2b\.service\.tcloudbase\.com; base-uri 'none'; form-action 'none'">/,
  );
  expect(html.replace(/<meta http-equiv[^>]+>\n<meta name="checkout-api"[^>]+>/, '<!-- checkout-api -->')).toBe(
    CHECKOUT_PAGE,
  );
});

test('https only (http for 127.0.0.1), no query', () => {
  expect(() => exportCheckoutPage('http://shop.example.com/checkout/', dir)).toThrow(/https/);
  expect(() => exportCheckoutPage('not a url', dir)).toThrow(/--api/);
  expect(() => exportCheckoutPage('https://shop.example.com/checkout/?x=1', dir)).toThrow(/query/);
  expect(() => exportCheckoutPage('http://127.0.0.1:8787/http/checkout/', dir)).not.toThrow();
});

/**
 * The Native checkout page as a static file for cloud static hosting (静态网站托管), talking to the checkout function
 * on its HTTP access URL:
 *
 *   npx tsx scripts/release/checkout-static.ts --api https://<env-id>.service.tcloudbase.com/checkout/ [--out dist/checkout-static]
 *
 * writes <out>/index.html: the same page the function serves, with the API's URL and a Content-Security-Policy in meta
 * tags. Upload the folder to static hosting, and set the function's CHECKOUT_ALLOWED_ORIGINS to the hosting origin
 * (https://<env-id>-<n>.tcloudbaseapp.com, or your own domain) so the API answers the page's cross-origin calls.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { staticCheckoutPage } from '../../cloudfunctions/checkout/page';

export function exportCheckoutPage(apiUrl: string, outDir: string): string {
  let api: URL;
  try {
    api = new URL(apiUrl);
  } catch {
    throw new Error(
      `--api must be the checkout function's URL, e.g. https://<env-id>.service.tcloudbase.com/checkout/ (got ${apiUrl})`,
    );
  }
  const local = api.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(api.hostname);
  if (api.protocol !== 'https:' && !local)
    throw new Error('--api must be https (http only for 127.0.0.1 while trying it locally)');
  if (api.search || api.hash) throw new Error('--api takes no query or fragment');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'index.html');
  writeFileSync(file, staticCheckoutPage(api.href.endsWith('/') ? api.href : `${api.href}/`));
  return file;
}

if (require.main === module) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const api = arg('--api');
  if (!api) {
    console.error(
      'usage: npx tsx scripts/release/checkout-static.ts --api https://<env-id>.service.tcloudbase.com/checkout/ [--out dist/checkout-static]',
    );
    process.exit(2);
  }
  try {
    const file = exportCheckoutPage(api, resolve(arg('--out') ?? 'dist/checkout-static'));
    console.log(`wrote ${file}`);
    console.log(
      "upload its folder to static hosting; set the checkout function's CHECKOUT_ALLOWED_ORIGINS to the hosting origin",
    );
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}

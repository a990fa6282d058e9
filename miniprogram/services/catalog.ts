/** The catalogue, kept for the session once loaded: the confirm page shows names and prices from it without a call. */
import type { Product } from '../../typings/api';
import { callApi } from './api';

let cached: Product[] | undefined;

/** The products on sale; `fresh` asks the backend even when a list is kept. */
export async function listProducts(options: { fresh?: boolean } = {}): Promise<Product[]> {
  if (cached && !options.fresh) return cached;
  cached = (await callApi('catalog.list', {})).products;
  return cached;
}

/** Tests start each case with nothing kept. */
export function resetCatalog(): void {
  cached = undefined;
}

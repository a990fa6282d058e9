/** catalog: the products on sale, prices in fen (the Native checkout's catalogue answers the same products). */
import type { Fen } from '../money';
import type { ProductKind } from './fulfilment';

export interface Product {
  id: string;
  title: string;
  description: string;
  priceFen: Fen;
  image?: string;
  maxPerOrder: number;
  /** how it reaches the buyer: picked up at the counter, shipped by express, or a service given by a staff member */
  kind: ProductKind;
  /** for services and events: when it starts (ms since epoch); user refunds close before it */
  serviceStartsAt?: number;
}

/** The catalogue takes nothing but its action. */
export type CatalogListRequest = Record<string, never>;
export interface CatalogListResponse {
  products: Product[];
}

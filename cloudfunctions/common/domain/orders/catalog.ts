/** The catalogue: products with prices in fen, read on the server (prices never come from the client). */
import type { CatalogListRequest, CatalogListResponse, Product, ProductKind } from '../../../../typings/api';
import { COLLECTIONS } from '../../store/store';
import type { Deps } from '../deps';
import { asObject, onlyKeys, readEnum } from '../validate';

export interface ProductDoc {
  _id: string;
  title: string;
  description: string;
  priceFen: number;
  image?: string;
  onSale: boolean;
  maxPerOrder: number;
  sort: number;
  serviceStartsAt?: number;
  /** absent on products stored before kinds existed: those were all counter goods */
  kind?: ProductKind;
}

export const CATALOG_LIMIT = 100;

export const productKind = (doc: Pick<ProductDoc, 'kind'>): ProductKind => doc.kind ?? 'pickup';

export function toProduct(doc: ProductDoc): Product {
  return {
    id: doc._id,
    title: doc.title,
    description: doc.description,
    priceFen: doc.priceFen,
    ...(doc.image ? { image: doc.image } : {}),
    maxPerOrder: doc.maxPerOrder,
    kind: productKind(doc),
    ...(doc.serviceStartsAt !== undefined ? { serviceStartsAt: doc.serviceStartsAt } : {}),
  };
}

/** catalog.list takes nothing but its action. */
function parseCatalogList(event: unknown): CatalogListRequest {
  const obj = asObject(event);
  onlyKeys(obj, ['action']);
  readEnum(obj, 'action', ['list'] as const);
  return {};
}

export async function listCatalog(deps: Deps, event: unknown): Promise<CatalogListResponse> {
  parseCatalogList(event);
  const docs = await deps.store.find<ProductDoc>(
    COLLECTIONS.products,
    { onSale: true },
    { orderBy: [['sort', 'asc']], limit: CATALOG_LIMIT },
  );
  return { products: docs.map(toProduct) };
}

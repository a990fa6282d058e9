import type { Product } from '../../typings/api';
import { callApi } from './api';

export async function listProducts(): Promise<Product[]> {
  return (await callApi('catalog.list', { action: 'list' })).products;
}

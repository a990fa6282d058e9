/** The seed catalogue the local cloud creates on first start (prices in fen). */
import type { ProductDoc } from '../cloudfunctions/common/domain/orders/catalog';
import type { LocalDatabase } from './db/database';
import { COLLECTIONS } from '../cloudfunctions/common/store/store';

export function seedProducts(now: number): ProductDoc[] {
  const day = 24 * 3600 * 1000;
  return [
    {
      _id: 'latte',
      kind: 'pickup',
      image: '/assets/products/latte.png',
      title: '拿铁咖啡',
      description: '现磨浓缩与鲜牛奶，中杯',
      priceFen: 1990,
      onSale: true,
      maxPerOrder: 10,
      sort: 1,
    },
    {
      _id: 'americano',
      kind: 'pickup',
      image: '/assets/products/americano.png',
      title: '美式咖啡',
      description: '双份浓缩，中杯',
      priceFen: 1500,
      onSale: true,
      maxPerOrder: 10,
      sort: 2,
    },
    {
      _id: 'croissant',
      kind: 'pickup',
      image: '/assets/products/croissant.png',
      title: '黄油可颂',
      description: '法国黄油，每日现烤',
      priceFen: 1200,
      onSale: true,
      maxPerOrder: 5,
      sort: 3,
    },
    {
      _id: 'beans-250g',
      kind: 'shipping',
      image: '/assets/products/beans-250g.png',
      title: '云南咖啡豆 250g',
      description: '中度烘焙，保山小粒',
      priceFen: 6800,
      onSale: true,
      maxPerOrder: 3,
      sort: 4,
    },
    {
      _id: 'class-latte-art',
      kind: 'service',
      image: '/assets/products/class-latte-art.png',
      title: '拉花体验课',
      description: '周末小班课，含两杯咖啡',
      priceFen: 19900,
      onSale: true,
      maxPerOrder: 2,
      sort: 5,
      serviceStartsAt: now + 7 * day,
    },
    {
      _id: 'sample-1fen',
      kind: 'pickup',
      title: '一分钱测试商品',
      description: '用于联调支付流程',
      priceFen: 1,
      onSale: true,
      maxPerOrder: 1,
      sort: 6,
    },
    {
      _id: 'mooncake-gift',
      kind: 'shipping',
      title: '月饼礼盒（已下架）',
      description: '季节限定',
      priceFen: 16800,
      onSale: false,
      maxPerOrder: 2,
      sort: 7,
    },
  ];
}

/** Adds the seed products when the catalogue is empty; returns how many were added. */
export async function seedCatalogue(db: LocalDatabase, now: number): Promise<number> {
  const products = db.collection(COLLECTIONS.products);
  if ((await products.count()).total > 0) return 0;
  const seed = seedProducts(now);
  for (const product of seed) await products.add({ data: { ...product } });
  return seed.length;
}

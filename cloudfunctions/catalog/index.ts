/** catalog: { action: 'list' } → products on sale, prices in fen. */
import { listCatalog } from '../common/domain/orders/catalog';
import { cloudRuntime } from '../common/runtime/cloud';
import { callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime('catalog'), (deps, _caller, event) => listCatalog(deps, event));

/**
 * merchants (partner mode): sub-merchants as data, `save` (callers listed in ADMIN_OPENIDS) and `list` (a sub-merchant
 * admin: its own). Apart from `admin`, whose bundle this would take past its 100 KB budget.
 */
import { listMerchants, saveMerchant } from '../common/domain/admin/merchants';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime('merchants'), byAction<unknown>({ save: saveMerchant, list: listMerchants }));

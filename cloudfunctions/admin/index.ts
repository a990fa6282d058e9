/** admin: refund any order fully or in part (callers listed in ADMIN_OPENIDS only). */
import { adminRefund } from '../common/domain/refunds';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime, byAction<unknown>({ refund: adminRefund }));

/** reconcile: timer trigger; settles what notifications missed (refunds first), closes expired orders. */
import { reconcile } from '../common/domain/money/reconcile';
import { cloudRuntime } from '../common/runtime/cloud';
import { timer } from '../common/runtime/handler';

export const main = timer(cloudRuntime('reconcile'), (deps) => reconcile(deps));

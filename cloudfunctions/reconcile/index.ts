/** reconcile: timer trigger; closes expired orders and settles payments and refunds whose notification is late. */
import { reconcile } from '../common/domain/reconcile';
import { cloudRuntime } from '../common/runtime/cloud';

export const main = async () => reconcile(cloudRuntime().deps);

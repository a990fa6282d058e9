/** reconcile: timer trigger; settles what notifications missed (refunds first), closes expired orders; fulfilment's notices and shipping uploads. */
import { fulfilmentTimer } from '../common/domain/fulfilment/timer';
import { reconcile } from '../common/domain/money/reconcile';
import { cloudRuntime } from '../common/runtime/cloud';
import { timer } from '../common/runtime/handler';

// money first (its own time budget), then fulfilment: new-order notices, late alerts, shipping uploads due
export const main = timer(cloudRuntime('reconcile'), async (deps) => ({
  ...(await reconcile(deps)),
  fulfilment: await fulfilmentTimer(deps),
}));

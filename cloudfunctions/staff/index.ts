/** staff: the queue of paid orders and the staff's fulfilment moves (callers listed in STAFF_OPENIDS only). */
import {
  staffAccept,
  staffComplete,
  staffDecline,
  staffDeliveryCompanies,
  staffGet,
  staffHandOver,
  staffMe,
  staffMine,
  staffQueue,
  staffReady,
  staffShip,
  staffStart,
  staffSubscribe,
} from '../common/domain/fulfilment/staff';
import { cloudRuntime } from '../common/runtime/cloud';
import { byAction, callable } from '../common/runtime/handler';

export const main = callable(
  cloudRuntime('staff'),
  byAction<unknown>({
    me: staffMe,
    queue: staffQueue,
    mine: staffMine,
    get: staffGet,
    accept: staffAccept,
    decline: staffDecline,
    ready: staffReady,
    handOver: staffHandOver,
    ship: staffShip,
    start: staffStart,
    complete: staffComplete,
    subscribe: staffSubscribe,
    deliveryCompanies: staffDeliveryCompanies,
  }),
);

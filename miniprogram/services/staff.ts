/**
 * The staff's side of fulfilment (the `staff` function; the backend lets only STAFF_OPENIDS in and checks every move):
 * the queue, the caller's orders in hand, and the moves. Every move answers the order as it now is.
 */
import type {
  DeliveryCompany,
  StaffMeResponse,
  StaffOrderView,
  StaffQueueResponse,
  StaffSubscribeResponse,
} from '../../typings/api';
import { callApi } from './api';

export const staffMe = (): Promise<StaffMeResponse> => callApi('staff.me', {});
export const staffQueue = (cursor?: string): Promise<StaffQueueResponse> =>
  callApi('staff.queue', cursor ? { cursor } : {});
export const staffMine = (cursor?: string): Promise<StaffQueueResponse> =>
  callApi('staff.mine', cursor ? { cursor } : {});
export const staffGet = (orderId: string): Promise<StaffOrderView> => callApi('staff.get', { orderId });
export const acceptOrder = (orderId: string): Promise<StaffOrderView> => callApi('staff.accept', { orderId });
export const declineOrder = (orderId: string, reason?: string): Promise<StaffOrderView> =>
  callApi('staff.decline', reason ? { orderId, reason } : { orderId });
export const markReady = (orderId: string): Promise<StaffOrderView> => callApi('staff.ready', { orderId });
export const handOver = (orderId: string, pickupCode: string): Promise<StaffOrderView> =>
  callApi('staff.handOver', { orderId, pickupCode });
export const shipOrder = (orderId: string, expressCompany: string, trackingNo: string): Promise<StaffOrderView> =>
  callApi('staff.ship', { orderId, expressCompany, trackingNo });
export const startService = (orderId: string): Promise<StaffOrderView> => callApi('staff.start', { orderId });
export const completeService = (orderId: string): Promise<StaffOrderView> => callApi('staff.complete', { orderId });
export const recordNewOrderAcceptance = (accepted: number): Promise<StaffSubscribeResponse> =>
  callApi('staff.subscribe', { accepted });

let companies: DeliveryCompany[] | undefined;
/** WeChat's express companies (the backend's list of delivery ids), read once a session. */
export async function deliveryCompanies(): Promise<DeliveryCompany[]> {
  companies ??= (await callApi('staff.deliveryCompanies', {})).companies;
  return companies;
}

/** Tests start each case with nothing cached. */
export function resetStaff(): void {
  companies = undefined;
}

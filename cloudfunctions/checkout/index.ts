/**
 * checkout: the Native (PC, scan-a-QR-code) checkout through the cloud HTTP access service: the page at the root and its
 * JSON API (http.ts, domain/orders/checkout.ts). Guests have no WeChat login; an order's token is its bearer. Not callable from
 * the mini-program (a call carrying a user's identity is refused).
 */
import { cloudRuntime } from '../common/runtime/cloud';
import { httpAccess } from '../common/runtime/handler';
import { handleCheckout } from './http';

export const main = httpAccess(cloudRuntime('checkout'), (deps, event) => handleCheckout(deps, event), {
  methods: ['GET', 'POST', 'OPTIONS'],
});

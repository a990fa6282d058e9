/**
 * payNotify: WeChat Pay payment and refund notifications, through the cloud HTTP access service. In certificate mode a
 * notification signed with a certificate this instance does not know first gives the keeper a chance to learn it
 * (at most one download per few minutes), then is judged as usual.
 */
import { handleNotification } from '../common/domain/money/notify';
import { learnNotificationSerial } from '../common/runtime/certificates';
import { cloudRuntime } from '../common/runtime/cloud';
import { httpAccess } from '../common/runtime/handler';

export const main = httpAccess(cloudRuntime('payNotify'), async (deps, event, context) => {
  await learnNotificationSerial(context.keeper, event.headers);
  return handleNotification(deps, event);
});

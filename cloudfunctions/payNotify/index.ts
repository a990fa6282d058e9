/** payNotify: WeChat Pay payment and refund notifications, through the cloud HTTP access service. */
import { handleNotification } from '../common/domain/notify';
import { cloudRuntime } from '../common/runtime/cloud';
import { httpAccess } from '../common/runtime/handler';

export const main = httpAccess(cloudRuntime, handleNotification);

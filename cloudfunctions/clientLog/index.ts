/** clientLog: { action: 'report', kind, message, page, … } → what the mini-program could not explain, rate-limited. */
import { reportClientLog } from '../common/domain/attention/client-log';
import { cloudRuntime } from '../common/runtime/cloud';
import { callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime('clientLog'), (deps, caller, event) => reportClientLog(deps, caller, event));

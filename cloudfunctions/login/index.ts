/** login: { code } from wx.login → Profile. */
import { login } from '../common/domain/users';
import { cloudRuntime } from '../common/runtime/cloud';
import { callable } from '../common/runtime/handler';

export const main = callable(cloudRuntime('login'), login);

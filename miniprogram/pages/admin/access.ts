/** How admin pages treat a refusal: the backend decides who is an admin on every call; a refused page shows nothing to do. */
import { ApiFailure, showError } from '../../services/errors';

export const FORBIDDEN_TEXT = '没有管理权限';

/** true when the call was refused for want of admin rights (the page then shows no actions); other errors are shown. */
export function handleAdminError(error: unknown): boolean {
  if (error instanceof ApiFailure && (error.code === 'FORBIDDEN' || error.code === 'UNAUTHENTICATED')) return true;
  showError(error);
  return false;
}

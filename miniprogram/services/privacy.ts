/**
 * WeChat's privacy authorisation. Until the user agrees to the 隐私保护指引, a privacy API call (the copy buttons'
 * wx.setClipboardData) makes WeChat call the `onNeedPrivacyAuthorization` listener and wait; the app registers one
 * listener at launch, and it hands the question to the privacy dialog of the page on screen (each page that calls a
 * privacy API carries one). The dialog answers with `agree` (its button is `open-type="agreePrivacyAuthorization"`,
 * as WeChat requires) or `disagree`, and the waiting call then goes on or fails.
 */
export type PrivacyAnswer =
  | { event: 'agree'; buttonId: string }
  | { event: 'disagree' }
  /** tells WeChat the dialog is on screen, before the answer */
  | { event: 'exposureAuthorization' };
export type PrivacyResolve = (answer: PrivacyAnswer) => void;

export interface PrivacyAsker {
  ask(resolve: PrivacyResolve, api: string): void;
}

/** The dialogs attached, the page on screen's last. */
const askers: PrivacyAsker[] = [];

export function addPrivacyAsker(asker: PrivacyAsker): () => void {
  askers.push(asker);
  return () => {
    const at = askers.indexOf(asker);
    if (at >= 0) askers.splice(at, 1);
  };
}

/** Brings a page's dialog to the top again when its page is shown. */
export function raisePrivacyAsker(asker: PrivacyAsker): void {
  const at = askers.indexOf(asker);
  if (at < 0 || at === askers.length - 1) return;
  askers.splice(at, 1);
  askers.push(asker);
}

let listening = false;

/** Called once at launch; base libraries before 2.32.3 have no privacy authorisation and need none. */
export function listenForPrivacyAuthorization(): void {
  if (listening || typeof wx.onNeedPrivacyAuthorization !== 'function') return;
  listening = true;
  // WeChat calls the listener with (resolve, { referrer }); the typings (miniprogram-api-typings 5.2.3) give it one argument
  const listener = (resolve: PrivacyResolve, info?: { referrer?: string }) => {
    const asker = askers[askers.length - 1];
    // no dialog on screen: WeChat must not be left waiting; the call fails and the page says so
    if (!asker) resolve({ event: 'disagree' });
    else asker.ask(resolve, info?.referrer ?? '');
  };
  wx.onNeedPrivacyAuthorization(listener as unknown as WechatMiniprogram.OnNeedPrivacyAuthorizationCallback);
}

/** Opens WeChat's page for the merchant's 隐私保护指引. */
export function openPrivacyContract(): void {
  if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({});
}

/** Tests start with no listener and no dialog. */
export function resetPrivacy(): void {
  listening = false;
  askers.length = 0;
}

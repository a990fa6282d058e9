/**
 * The privacy dialog a page shows when WeChat asks for the user's agreement before a privacy API (see
 * services/privacy.ts). It names what the call is for (from constants/privacy.ts), links the guide, and answers
 * WeChat with 同意 (an agreePrivacyAuthorization button, the only way WeChat accepts an agreement) or 拒绝.
 */
import { PRIVACY_DECLARATIONS, PRIVACY_GUIDE_NAME } from '../../constants/privacy';
import {
  addPrivacyAsker,
  openPrivacyContract,
  raisePrivacyAsker,
  type PrivacyAsker,
  type PrivacyResolve,
} from '../../services/privacy';

const pending = new WeakMap<object, PrivacyResolve>();
const askers = new WeakMap<object, { asker: PrivacyAsker; remove: () => void }>();

Component({
  data: { visible: false, purpose: '', guideName: PRIVACY_GUIDE_NAME },
  lifetimes: {
    attached() {
      const asker: PrivacyAsker = {
        ask: (resolve, api) => {
          pending.get(this)?.({ event: 'disagree' });
          pending.set(this, resolve);
          const declared = PRIVACY_DECLARATIONS.find((d) => api.includes(d.api));
          this.setData({ visible: true, purpose: declared ? `为了${declared.purpose}` : '这项功能会处理你的个人信息' });
          resolve({ event: 'exposureAuthorization' });
        },
      };
      askers.set(this, { asker, remove: addPrivacyAsker(asker) });
    },
    detached() {
      askers.get(this)?.remove();
      this.finish({ event: 'disagree' });
    },
  },
  pageLifetimes: {
    show() {
      const entry = askers.get(this);
      if (entry) raisePrivacyAsker(entry.asker);
    },
  },
  methods: {
    finish(answer: Parameters<PrivacyResolve>[0]) {
      const resolve = pending.get(this);
      pending.delete(this);
      this.setData({ visible: false });
      resolve?.(answer);
    },
    onAgree() {
      this.finish({ event: 'agree', buttonId: 'privacy-agree' });
    },
    onDisagree() {
      this.finish({ event: 'disagree' });
    },
    onOpenContract() {
      openPrivacyContract();
    },
  },
});

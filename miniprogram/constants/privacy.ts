/**
 * The privacy APIs the mini-program calls, each with the 用户隐私保护指引 entry the merchant declares for it (mp admin →
 * 设置 → 服务内容声明 → 用户隐私保护指引). An undeclared one fails on a phone ("api scope is not declared in the privacy
 * agreement", errno 112); test/miniprogram/privacy.test.ts fails when the client calls one not listed here, and when
 * one listed here is no longer called. docs/miniprogram.md lists the same entries for the merchant.
 */
export interface PrivacyDeclaration {
  /** the wx API (or open-type) that WeChat treats as a privacy API */
  api: string;
  /** privacy_key in WeChat's privacy settings */
  privacyKey: string;
  /** 处理的信息, as the guide's form words it */
  info: string;
  /** 用途, what the merchant writes in the guide */
  purpose: string;
}

export const PRIVACY_DECLARATIONS: readonly PrivacyDeclaration[] = [
  {
    api: 'setClipboardData',
    privacyKey: 'Clipboard',
    info: '剪切板',
    purpose: '复制订单号、交易单号，方便你联系客服或核对账目',
  },
  {
    api: 'scanCode',
    privacyKey: 'Camera',
    info: '摄像头',
    purpose: '店员扫描买家的取餐码，交付订单',
  },
];

/** The title of the guide as the pages name it ("提交即同意《隐私保护指引》"). */
export const PRIVACY_GUIDE_NAME = '《隐私保护指引》';

/**
 * The payment domain's words: what each wx.requestPayment failure means to a buyer. WeChat answers
 * `requestPayment:fail <reason>`, the reason often in English or in the merchant's terms; each known reason gets a
 * plain message and what the page should do next. Anything not listed here is "unknown": it says so, and its raw text
 * goes to the backend's client log.
 */
export type PayFailureAction = 'retry' | 'check' | 'reorder' | 'contact';

export interface PayFailureRule {
  /** matched against the errMsg without its `requestPayment:fail` prefix */
  pattern: RegExp;
  message: string;
  /** retry: try again; check: it may have gone through, ask the server; reorder: the order cannot be paid; contact: the shop must fix something */
  action: PayFailureAction;
}

export const PAY_FAILURE_RULES: readonly PayFailureRule[] = [
  {
    pattern: /订单已支付|ORDERPAID|already paid|重复支付/i,
    message: '这笔订单已经支付过了，正在为你确认结果',
    action: 'check',
  },
  {
    pattern: /prepay_id.*(失效|过期|expire)|(失效|过期).*prepay_id|无效的\s*prepay_id|invalid prepay/i,
    message: '支付信息已过期，请重新支付',
    action: 'retry',
  },
  {
    pattern: /订单已(关闭|过期)|ORDER_(CLOSED|EXPIRED)|无法支付/i,
    message: '订单已关闭或已过期，请重新下单',
    action: 'reorder',
  },
  {
    pattern: /no permission|not authori[sz]ed|permission denied|无权限|没有权限|未开通/i,
    message: '商家暂未开通微信支付，请稍后再试或联系商家',
    action: 'contact',
  },
  {
    pattern: /appid.*(不一致|不匹配|mismatch)|mch_?id.*appid|商户号.*appid/i,
    message: '商家的支付设置有误，请联系商家',
    action: 'contact',
  },
  {
    pattern: /签名|paySign|sign(ature)? (error|fail)/i,
    message: '支付校验没有通过，请稍后重试；多次失败请联系商家',
    action: 'contact',
  },
  { pattern: /parameter|参数/i, message: '支付参数有误，请稍后重试；多次失败请联系商家', action: 'contact' },
  { pattern: /余额不足|insufficient|balance/i, message: '余额不足，请换一张银行卡或其他方式支付', action: 'retry' },
  { pattern: /network|网络|timeout|timed out|超时/i, message: '网络不给力，请检查网络后重试', action: 'retry' },
  { pattern: /system error|系统(错误|繁忙)|服务繁忙|busy/i, message: '微信支付系统繁忙，请稍后重试', action: 'retry' },
];

export const UNKNOWN_PAY_FAILURE = '支付没有成功，原因暂不明确（已记录，我们会尽快排查），请稍后重试';

/**
 * STAFF_OPENIDS and the fulfilment settings (domain/config.ts): members with their name and the services they may take,
 * problems named by variable, and the profiles that give the settings to the functions that read them.
 */
import { AppConfigError, loadAppConfig } from '../../../cloudfunctions/common/domain/config';
import { settingsOf } from '../../../cloudfunctions/common/runtime/profiles';
import { WECHATPAY_ENV } from '../../../cloudfunctions/common/wechatpay/config';

const load = (env: Record<string, string>) => loadAppConfig(env, { wxLogin: false });

test('members: openid, the name buyers see, the services they may take; a bare openid gets a default name', () => {
  const config = load({ STAFF_OPENIDS: ' oStaffAAAA1:小王:class-latte-art|class-pour-over , oStaffBBBB2 ' });
  expect([...config.staff]).toEqual([
    ['oStaffAAAA1', { name: '小王', services: ['class-latte-art', 'class-pour-over'] }],
    ['oStaffBBBB2', { name: '店员BBB2', services: [] }],
  ]);
  expect(config.fulfilAcceptAlertMinutes).toBe(15);
  expect(load({ FULFIL_ACCEPT_ALERT_MINUTES: '5' }).fulfilAcceptAlertMinutes).toBe(5);
  expect(load({}).staff.size).toBe(0);
});

test.each([
  ['not an openid', 'o!'],
  ['an empty name', 'oStaffAAAA1:'],
  ['a bad product id', 'oStaffAAAA1:小王:class latte'],
])('%s is a configuration problem named by the variable', (_what, raw) => {
  expect(() => load({ STAFF_OPENIDS: raw })).toThrow(AppConfigError);
  expect(() => load({ STAFF_OPENIDS: raw })).toThrow(/STAFF_OPENIDS/);
});

test('every function reads the staff settings; staff and msgPush get the merchant id and AppID but no WeChat Pay secret', () => {
  for (const fn of ['orders', 'admin', 'reconcile', 'staff', 'msgPush'])
    expect(settingsOf(fn)).toEqual(expect.arrayContaining(['STAFF_OPENIDS', 'FULFIL_ACCEPT_ALERT_MINUTES']));
  for (const fn of ['staff', 'msgPush']) {
    expect(settingsOf(fn)).toEqual(expect.arrayContaining(['WECHATPAY_MCHID', 'WECHATPAY_APPID']));
    expect(settingsOf(fn)).not.toContain(WECHATPAY_ENV.apiV3Key);
    expect(settingsOf(fn)).not.toContain(WECHATPAY_ENV.merchantPrivateKey);
  }
});

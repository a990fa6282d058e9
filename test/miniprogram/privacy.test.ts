/**
 * Privacy compliance. Every privacy API the client (or a TDesign component it uses) calls is declared in
 * constants/privacy.ts, and nothing is declared that is not called; a page that calls one carries the privacy dialog;
 * and the dialog answers WeChat's onNeedPrivacyAuthorization: 同意 through an agreePrivacyAuthorization button with
 * its id, 拒绝 as a disagreement, the guide opened with wx.openPrivacyContract.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PRIVACY_DECLARATIONS } from '../../miniprogram/constants/privacy';
import {
  FakeBackend,
  MINIPROGRAM,
  attr,
  TDESIGN,
  flush,
  launchApp,
  loadComponent,
  renderPage,
  resetClient,
  tap,
} from './harness';
import { orderView } from './fixtures';

/**
 * WeChat's privacy APIs and components (用户隐私保护指引 · 开发者处理的信息, and the clipboard, which WeChat added as
 * privacy_key Clipboard), as the platform lists them.
 */
const PRIVACY_APIS = [
  'setClipboardData',
  'getClipboardData',
  'chooseAddress',
  'chooseInvoiceTitle',
  'chooseInvoice',
  'chooseLicensePlate',
  'chooseImage',
  'chooseMedia',
  'chooseVideo',
  'chooseMessageFile',
  'saveImageToPhotosAlbum',
  'saveVideoToPhotosAlbum',
  'scanCode',
  'getLocation',
  'getFuzzyLocation',
  'chooseLocation',
  'choosePoi',
  'startLocationUpdate',
  'startLocationUpdateBackground',
  'getWeRunData',
  'startRecord',
  'getRecorderManager',
  'createCameraContext',
  'createVKSession',
  'openBluetoothAdapter',
  'addPhoneContact',
  'addPhoneCalendar',
  'addPhoneRepeatCalendar',
  'getUserProfile',
  'getUserInfo',
];
const PRIVACY_OPEN_TYPES = ['getPhoneNumber', 'getRealtimePhoneNumber', 'chooseAvatar'];

/** The privacy APIs a source text calls (`wx.x(`) or privacy open-types it renders. */
export function privacyCalls(source: string): string[] {
  const found = new Set<string>();
  for (const api of PRIVACY_APIS) if (new RegExp(`\\bwx\\.${api}\\s*\\(`).test(source)) found.add(api);
  for (const type of PRIVACY_OPEN_TYPES) if (new RegExp(`open-type=["']${type}["']`).test(source)) found.add(type);
  return [...found];
}

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'miniprogram_npm' || name === 'node_modules') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) files(full, out);
    else if (/\.(ts|wxml|js)$/.test(name)) out.push(full);
  }
  return out;
}

/** Every privacy API called, by where: the client's files and the TDesign components its pages use. */
function callsInClient(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  const add = (file: string, api: string) => where.set(api, [...(where.get(api) ?? []), file]);
  const sources = files(MINIPROGRAM);
  for (const file of sources)
    for (const api of privacyCalls(readFileSync(file, 'utf8'))) add(relative(MINIPROGRAM, file), api);
  const tdesign = new Set<string>();
  for (const json of files(MINIPROGRAM).map((f) => f.replace(/\.(ts|wxml)$/, '.json'))) {
    let using: Record<string, string> = {};
    try {
      using =
        (JSON.parse(readFileSync(json, 'utf8')) as { usingComponents?: Record<string, string> }).usingComponents ?? {};
    } catch {
      continue;
    }
    for (const target of Object.values(using))
      if (target.startsWith('tdesign-miniprogram/')) tdesign.add(target.slice('tdesign-miniprogram/'.length));
  }
  for (const component of tdesign) {
    const js = readFileSync(`${TDESIGN}/${component}.js`, 'utf8');
    for (const api of privacyCalls(js)) add(`tdesign ${component}`, api);
  }
  return where;
}

describe('the declaration list', () => {
  const declared = PRIVACY_DECLARATIONS.map((d) => d.api);

  test('finds a privacy call, and only a call (negative controls in memory)', () => {
    expect(privacyCalls('wx.chooseAddress({ success })')).toEqual(['chooseAddress']);
    expect(privacyCalls('<button open-type="getPhoneNumber">')).toEqual(['getPhoneNumber']);
    expect(privacyCalls('// chooseAddress is not called; wx.chooseAddressBook()')).toEqual([]);
  });

  test('every privacy API the client calls is declared', () => {
    const undeclared = [...callsInClient()].filter(([api]) => !declared.includes(api));
    expect(undeclared).toEqual([]);
  });

  test('every declared API is still called (the guide lists nothing the mini-program does not do)', () => {
    const called = [...callsInClient().keys()];
    expect(declared.filter((api) => !called.includes(api))).toEqual([]);
  });

  test('each declaration has a privacy_key, the information and a purpose in Chinese', () => {
    for (const d of PRIVACY_DECLARATIONS) {
      expect(d.privacyKey).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(d.info).toMatch(/[\u4e00-\u9fff]/);
      expect(d.purpose).toMatch(/[\u4e00-\u9fff]{4,}/);
    }
  });

  test('the docs list each declaration for the merchant', () => {
    const doc = readFileSync(`${__dirname}/../../docs/miniprogram.md`, 'utf8');
    for (const d of PRIVACY_DECLARATIONS) {
      expect(doc).toContain(`\`${d.api}\``);
      expect(doc).toContain(d.privacyKey);
      expect(doc).toContain(d.purpose);
    }
  });

  test('a page that calls a privacy API carries the privacy dialog', () => {
    for (const [api, where] of callsInClient()) {
      for (const file of where.filter((f) => f.startsWith('pages/'))) {
        const json = JSON.parse(readFileSync(join(MINIPROGRAM, file.replace(/\.(ts|wxml)$/, '.json')), 'utf8'));
        expect([api, file, json.usingComponents?.['privacy-dialog']]).toEqual([
          api,
          file,
          '/components/privacy-dialog/index',
        ]);
        expect(readFileSync(join(MINIPROGRAM, file.replace(/\.(ts|wxml)$/, '.wxml')), 'utf8')).toContain(
          '<privacy-dialog',
        );
      }
    }
  });
});

const platformWx = () => (globalThis as unknown as { wx: Record<string, jest.Mock> }).wx;

describe('the privacy dialog', () => {
  let pageId: string;
  let listener: ((resolve: jest.Mock, info: { referrer: string }) => void) | undefined;
  let client: ReturnType<typeof resetClient>;

  beforeAll(() => {
    pageId = loadComponent('pages/order/detail/index');
  });

  beforeEach(() => {
    listener = undefined;
    client = resetClient(
      new FakeBackend().on('orders.get', () => orderView()),
      { mode: 'local' },
    );
    Object.assign(platformWx(), {
      onNeedPrivacyAuthorization: jest.fn((l: typeof listener) => (listener = l)),
      openPrivacyContract: jest.fn(),
    });
    launchApp();
  });

  async function copyAndAsk() {
    const page = renderPage(pageId);
    page.instance.onLoad({ id: orderView().id });
    await flush(20);
    const resolve = jest.fn();
    // the clipboard is a privacy API: before an agreement WeChat holds the call and asks the app's listener
    (client.setClipboardData as jest.Mock).mockImplementation(() =>
      listener!(resolve, { referrer: 'setClipboardData' }),
    );
    await tap(page, '.detail__copy');
    await flush(5);
    const dialog = page.querySelector('#privacy')!;
    return { page, dialog, resolve };
  }

  test('the app listens at launch, once', () => {
    launchApp();
    expect(platformWx().onNeedPrivacyAuthorization).toHaveBeenCalledTimes(1);
  });

  test('a copy before agreeing shows the dialog with its purpose; 同意 answers agree with the button id', async () => {
    const { dialog, resolve } = await copyAndAsk();
    expect(dialog.instance.data.visible).toBe(true);
    expect(dialog.dom.textContent).toContain(PRIVACY_DECLARATIONS[0]!.purpose);
    expect(resolve).toHaveBeenCalledWith({ event: 'exposureAuthorization' });
    const agree = dialog.querySelector('.privacy__agree')!;
    const button = agree.querySelector('.t-button')!;
    // WeChat checks that the button named by buttonId, an agreePrivacyAuthorization button, was tapped
    expect([attr(button, 'id'), attr(button, 'open-type')]).toEqual(['privacy-agree', 'agreePrivacyAuthorization']);
    button.dispatchEvent('agreeprivacyauthorization');
    await flush(5);
    expect(resolve).toHaveBeenLastCalledWith({ event: 'agree', buttonId: 'privacy-agree' });
    expect(dialog.instance.data.visible).toBe(false);
  });

  test("拒绝 answers disagree; the guide link opens WeChat's privacy contract page", async () => {
    const { dialog, resolve } = await copyAndAsk();
    await tap(dialog, '.privacy__link');
    expect(platformWx().openPrivacyContract).toHaveBeenCalled();
    await tap(dialog, '.privacy__disagree');
    expect(resolve).toHaveBeenLastCalledWith({ event: 'disagree' });
    expect(dialog.instance.data.visible).toBe(false);
  });

  test('with no page dialog on screen WeChat is answered at once, never left waiting', () => {
    const resolve = jest.fn();
    listener!(resolve, { referrer: 'setClipboardData' });
    expect(resolve).toHaveBeenCalledWith({ event: 'disagree' });
  });
});

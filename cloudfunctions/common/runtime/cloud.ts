/**
 * The cloud runtime: builds each function's dependencies from wx-server-sdk, its environment variables and the key
 * files shipped in its folder. The only module that imports wx-server-sdk. On the local cloud, `wx-server-sdk`
 * resolves to the local cloud's implementation, so this same code runs there.
 *
 * A function gets what its profile (profiles.ts) says it uses: `login` and `catalog` never read a WeChat Pay setting.
 * In a paying function, a WeChat Pay configuration problem is logged once, clearly, by variable name, and fails only
 * the calls that reach WeChat Pay (an order list still answers). Built dependencies are kept between invocations of a
 * warm instance and rebuilt when the function's settings change.
 */
import * as cloud from 'wx-server-sdk';
import { loadAppConfig, type AppConfig } from '../domain/config';
import type { AlertSink, Caller, Deps, Logger, PayGateway, WxAnswer, WxApi, WxOrderApi } from '../domain/deps';
import type { CloudDatabase } from '../store/database';
import { Store } from '../store/store';
import {
  createWechatPay,
  loadWechatPayConfig,
  WECHATPAY_ENV,
  WechatPayConfigError,
  type Env,
  type PlatformCertificate,
} from '../wechatpay';
import { alertSink } from './alerts';
import { CertificateKeeper, CertificateStore, withCertificateLearning, type StoredCertificate } from './certificates';
import { bootstrapEnv, readPemSetting, resolveKeyMaterial, type KeyMaterial } from './key-files';
import { jsonLogger } from './log';
import { profileOf, settingsOf, type FunctionName } from './profiles';
import { httpWxApi } from './wxapi';

/** The deployed function's folder: index.js (this module, bundled) and the key files beside it. */
const FUNCTION_DIR = __dirname;

export interface RuntimeContext {
  name: FunctionName;
  deps: Deps;
  caller: Caller;
  /** what triggered this run, as getWXContext's SOURCE says (a chain, comma-separated: `wx_client,scf`) */
  source: string;
  alerts: AlertSink;
  material?: KeyMaterial;
  /** certificate and migration modes only */
  keeper?: CertificateKeeper;
  /** set when the WeChat Pay configuration did not load */
  payProblems?: string[];
}

export type Runtime = () => Promise<RuntimeContext>;

interface Built {
  deps: Omit<Deps, 'store'>;
  material?: KeyMaterial;
  keeper?: CertificateKeeper;
  payProblems?: string[];
  /** a failure that may pass (the database, the network): rebuilt at the next call */
  transient: boolean;
}

let initialised = false;
const cache = new Map<string, { key: string; built: Promise<Built> }>();

/**
 * WeChat's order shipping management through cloud calls (wxa.sec.order.*, listed in the function's config.json).
 * convertCase: false keeps the bodies as WeChat names them (wx-server-sdk would otherwise snake/camel-convert them);
 * a non-zero errcode comes back as a thrown error carrying errCode, which the domain reads as the answer.
 */
function cloudWxOrder(env: Env): WxOrderApi {
  type Api = Record<string, (body: unknown) => Promise<WxAnswer>>;
  const order = () =>
    (cloud.openapi as unknown as (o: { convertCase: boolean }) => { wxa: { sec: { order: Api } } })({
      convertCase: false,
    }).wxa.sec.order;
  const callAs =
    <B, R extends WxAnswer>(name: string) =>
    async (body: B): Promise<R> =>
      (await order()[name]!(body)) as R;
  return {
    mchid: env[WECHATPAY_ENV.mchid]?.trim() ?? '',
    appid: env[WECHATPAY_ENV.appid]?.trim() ?? '',
    isTradeManaged: callAs('isTradeManaged'),
    uploadShippingInfo: callAs('uploadShippingInfo'),
    getOrder: callAs('getOrder'),
    notifyConfirmReceive: callAs('notifyConfirmReceive'),
    setMsgJumpPath: callAs('setMsgJumpPath'),
  };
}

const messenger: Deps['messenger'] = {
  async sendSubscribeMessage(message) {
    await (cloud.openapi as { subscribeMessage: { send(p: unknown): Promise<unknown> } }).subscribeMessage.send({
      touser: message.touser,
      templateId: message.templateId,
      page: message.page,
      data: message.data,
    });
  },
};

/** A dependency the function does not have: any use is a programming error, reported as such. */
function absent<T extends object>(fn: string, what: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then') return undefined;
      throw new Error(`${fn} has no ${what} dependency (cloudfunctions/common/runtime/profiles.ts)`);
    },
  });
}

/**
 * WeChat Pay that could not be built: every use throws why (a configuration error names the variables), and says so
 * in the log at most once a minute, since the domain may turn the error into a plain "unavailable" for the caller.
 */
function failing<T extends object>(fn: string, error: unknown, log: Logger, clock: () => number): T {
  let loggedAt = Number.NEGATIVE_INFINITY;
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'then') return undefined;
      if (clock() - loggedAt >= 60_000) {
        loggedAt = clock();
        const why =
          error instanceof WechatPayConfigError ? { problems: error.problems } : { error: (error as Error).message };
        log.error('WeChat Pay unavailable in this function', { function: fn, ...why });
      }
      throw error;
    },
  });
}

export function cloudRuntime(name: FunctionName, options: { dir?: string; clock?: () => number } = {}): Runtime {
  const profile = profileOf(name);
  const settings = settingsOf(name);
  const clock = options.clock ?? Date.now;
  return async () => {
    if (!initialised) {
      cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV as unknown as string });
      initialised = true;
    }
    const db = cloud.database({ throwOnNotFound: false } as never) as unknown as CloudDatabase;
    const key = settings.map((n) => process.env[n] ?? '').join('\u0000');
    let entry = cache.get(name);
    if (!entry || entry.key !== key) {
      entry = { key, built: build(name, profile, db, options.dir ?? FUNCTION_DIR, clock) };
      cache.set(name, entry);
    }
    const current = entry;
    let built: Built;
    try {
      built = await current.built;
    } catch (error) {
      if (cache.get(name) === current) cache.delete(name);
      throw error;
    }
    if (built.transient && cache.get(name) === current) cache.delete(name);
    if (built.keeper) await built.keeper.reloadIfStale();
    const context = cloud.getWXContext();
    const deps: Deps = { ...built.deps, store: new Store(db) };
    deps.alerts = alertSink(deps);
    return {
      name,
      deps,
      caller: {
        ...(context.OPENID ? { openid: context.OPENID } : {}),
        ...(context.APPID ? { appid: context.APPID } : {}),
        ...(context.SOURCE ? { source: context.SOURCE } : {}),
      },
      source: context.SOURCE ?? '',
      alerts: deps.alerts,
      ...(built.material ? { material: built.material } : {}),
      ...(built.keeper ? { keeper: built.keeper } : {}),
      ...(built.payProblems ? { payProblems: built.payProblems } : {}),
    };
  };
}

async function build(
  name: FunctionName,
  profile: ReturnType<typeof profileOf>,
  db: CloudDatabase,
  dir: string,
  clock: () => number,
): Promise<Built> {
  const env = process.env;
  const log = jsonLogger;
  // the shared settings: a problem here fails every function, and toApiError logs it by name
  const config = loadAppConfig(env, { wxLogin: profile.wxLogin });
  const wxApi: WxApi = profile.wxLogin ? httpWxApi(config) : absent<WxApi>(name, 'WeChat login (jscode2session)');
  const base = { config, clock, wxApi, messenger, log, ...(profile.shipping ? { wxOrder: cloudWxOrder(env) } : {}) };
  if (!profile.pay) return { deps: { ...base, pay: absent<PayGateway>(name, 'WeChat Pay') }, transient: false };

  const material = resolveKeyMaterial(env, dir);
  try {
    const { pay, keeper } = await buildPay(material, config, db, clock, log);
    return { deps: { ...base, pay }, material, ...(keeper ? { keeper } : {}), transient: false };
  } catch (error) {
    if (error instanceof WechatPayConfigError) {
      log.error(
        'WeChat Pay configuration invalid: this function cannot reach WeChat Pay until it is fixed (login and the catalogue are not affected)',
        {
          function: name,
          problems: error.problems,
        },
      );
      return {
        deps: { ...base, pay: failing<PayGateway>(name, error, log, clock) },
        material,
        payProblems: error.problems,
        transient: false,
      };
    }
    log.error('WeChat Pay dependencies could not be built: retried at the next call', {
      function: name,
      error: (error as Error).message,
    });
    return { deps: { ...base, pay: failing<PayGateway>(name, error, log, clock) }, material, transient: true };
  }
}

async function buildPay(
  material: KeyMaterial,
  config: AppConfig,
  db: CloudDatabase,
  clock: () => number,
  log: Logger,
): Promise<{ pay: PayGateway; keeper?: CertificateKeeper }> {
  if (material.problems.length) throw new WechatPayConfigError(material.problems);
  const options = { timeoutMs: config.wechatpayTimeoutMs };
  if (material.mode !== 'certificate' && material.mode !== 'both') {
    // public-key mode (or nothing configured, which the loader reports): no certificate is ever downloaded
    return { pay: createWechatPay(loadWechatPayConfig(material.env), options) };
  }
  const store = new CertificateStore(db);
  let stored: Pick<StoredCertificate, 'pem'>[] = await store.load();
  if (material.mode === 'certificate' && !material.hasCertificates && stored.length === 0) {
    const downloaded = await bootstrapCertificates(material.env, options);
    await store.save(downloaded, clock());
    log.info('platform certificates downloaded for the first time', { serials: downloaded.map((c) => c.serialNo) });
    stored = downloaded;
  }
  const loadEnv: Env =
    material.hasCertificates || stored.length === 0
      ? material.env
      : { ...material.env, [WECHATPAY_ENV.platformCertificates]: stored.map((c) => c.pem).join('\n') };
  const wechatpayConfig = loadWechatPayConfig(loadEnv);
  const keeper: CertificateKeeper = new CertificateKeeper({
    keys: wechatpayConfig.platformKeys,
    download: () => pay.client.downloadCertificates(),
    store,
    clock,
    log,
  });
  keeper.add([readPemSetting(loadEnv, WECHATPAY_ENV.platformCertificates) ?? '', ...stored.map((c) => c.pem)]);
  const pay = createWechatPay(wechatpayConfig, { ...options, sensitiveKey: () => keeper.sensitiveKey() });
  return { pay: { ...pay, client: withCertificateLearning(pay.client, keeper) }, keeper };
}

/**
 * Certificate mode with no certificate configured or stored yet: the first download. Its answer cannot be checked
 * against a key known before; it is trusted because its certificates decrypt under the APIv3 key (the AES-GCM tag
 * proves WeChat Pay wrote them) and the answer verifies with the certificate it carries, as every official SDK's
 * downloader does.
 */
async function bootstrapCertificates(env: Env, options: { timeoutMs: number }): Promise<PlatformCertificate[]> {
  return createWechatPay(loadWechatPayConfig(bootstrapEnv(env)), options).client.downloadCertificates();
}

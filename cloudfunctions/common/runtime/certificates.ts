/**
 * Certificate mode kept current. WeChat Pay platform certificates last five years; a new one is published before the
 * old one expires and both stay valid for a while. A function in `certificate` or `both` mode therefore:
 *   - starts from the certificates configured (secrets/wechatpay/platform_cert.pem) plus those stored in
 *     `wechatpay_certificates` (a collection only cloud functions read), re-read hourly by a warm instance;
 *   - downloads /v3/certificates daily (the wechatpayKeys timer): the answer is decrypted with the APIv3 key (the
 *     AES-GCM tag proves WeChat Pay wrote it) and its signature verified, then every certificate is stored;
 *   - on a notification signed with a serial it does not know, re-reads the collection and, at most once per
 *     REFRESH_GAP_MS across all instances, downloads before the notification is judged (and rejected if still unknown);
 *   - likewise on an answer signed with an unknown serial, and then repeats the call once.
 * Public-key mode needs none of this. Expired certificates are dropped from the verifying keys.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Logger } from '../domain/deps';
import type { CloudDatabase } from '../store/database';
import {
  getHeader,
  selectSensitiveKey,
  splitPemBlocks,
  WechatPayVerificationError,
  type HeaderBag,
  type PlatformCertificate,
  type SensitiveKey,
} from '../wechatpay';

export const CERTIFICATE_COLLECTION = 'wechatpay_certificates';
/** "re-download at most once per few minutes": across every instance of every function */
export const REFRESH_GAP_MS = 5 * 60_000;
/** a warm instance re-reads the stored certificates this often (another instance may have downloaded new ones) */
export const RELOAD_MS = 60 * 60_000;
const PUBLIC_KEY_ID = /^PUB_KEY_ID_/;

export interface StoredCertificate {
  _id: string;
  kind: 'certificate';
  pem: string;
  effectiveTime: string;
  expireTime: string;
  downloadedAt: number;
}

interface RefreshState {
  _id: 'refresh';
  kind: 'state';
  lastAttemptAt: number;
  lastSuccessAt?: number;
  lastError?: string;
}

/** The collection: one document per serial, and one `refresh` document (the cross-instance gap). */
export class CertificateStore {
  constructor(private readonly db: CloudDatabase) {}

  private get collection() {
    return this.db.collection(CERTIFICATE_COLLECTION);
  }

  async load(): Promise<StoredCertificate[]> {
    const { data } = await this.collection.where({ kind: 'certificate' }).limit(100).get();
    return data as StoredCertificate[];
  }

  async save(certificates: readonly PlatformCertificate[], now: number): Promise<void> {
    for (const c of certificates) {
      await this.collection.doc(c.serialNo).set({
        data: {
          kind: 'certificate',
          pem: c.pem,
          effectiveTime: c.effectiveTime,
          expireTime: c.expireTime,
          downloadedAt: now,
        },
      });
    }
  }

  /** Compare-and-set on the `refresh` document: true for the one caller allowed to download now. */
  async claimRefresh(now: number, gapMs: number): Promise<boolean> {
    const _ = this.db.command;
    const { stats } = await this.collection
      .where({ _id: 'refresh', lastAttemptAt: _.lte(now - gapMs) })
      .update({ data: { lastAttemptAt: now } });
    if (stats.updated > 0) return true;
    if ((await this.collection.doc('refresh').get()).data) return false;
    try {
      await this.collection.add({ data: { _id: 'refresh', kind: 'state', lastAttemptAt: now } satisfies RefreshState });
      return true;
    } catch {
      return false; // another instance created it first
    }
  }

  async recordOutcome(now: number, error?: string): Promise<void> {
    const data = error ? { lastError: error.slice(0, 300) } : { lastSuccessAt: now, lastError: '' };
    const { stats } = await this.collection.where({ _id: 'refresh' }).update({ data: { lastAttemptAt: now, ...data } });
    if (stats.updated === 0)
      await this.collection
        .add({ data: { _id: 'refresh', kind: 'state', lastAttemptAt: now, ...data } })
        .catch(() => undefined);
  }
}

export interface CertificateInfo {
  serial: string;
  validFrom: number;
  validTo: number;
}

export interface CertificateKeeperOptions {
  /** the verifier's serial → key map, updated in place (the client and the notification parser share it) */
  keys: Map<string, KeyObject>;
  download: () => Promise<PlatformCertificate[]>;
  store: CertificateStore;
  clock: () => number;
  log: Logger;
  refreshGapMs?: number;
  reloadMs?: number;
}

export class CertificateKeeper {
  private readonly certificates = new Map<string, X509Certificate>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private lastUnknownAt = Number.NEGATIVE_INFINITY;
  private readonly refreshGapMs: number;
  private readonly reloadMs: number;

  constructor(private readonly options: CertificateKeeperOptions) {
    this.refreshGapMs = options.refreshGapMs ?? REFRESH_GAP_MS;
    this.reloadMs = options.reloadMs ?? RELOAD_MS;
  }

  /** Adds certificates (PEM, one or several) still valid now; returns the serials that were new. */
  add(pems: readonly string[]): string[] {
    const now = this.options.clock();
    const added: string[] = [];
    for (const block of pems.flatMap((pem) => splitPemBlocks(pem, 'CERTIFICATE'))) {
      const cert = new X509Certificate(block);
      const serial = cert.serialNumber.toUpperCase();
      if (Date.parse(cert.validTo) <= now) {
        // an expired certificate verifies nothing, even when configured
        this.certificates.delete(serial);
        this.options.keys.delete(serial);
        continue;
      }
      if (!this.options.keys.has(serial)) added.push(serial);
      this.certificates.set(serial, cert);
      this.options.keys.set(serial, cert.publicKey);
    }
    this.prune(now);
    return added;
  }

  private prune(now: number): void {
    for (const [serial, cert] of this.certificates) {
      if (Date.parse(cert.validTo) > now) continue;
      this.certificates.delete(serial);
      this.options.keys.delete(serial);
      this.options.log.warn('platform certificate expired: no longer verifies', { serial });
    }
  }

  /** The platform certificates known now (configured, stored or downloaded), for the key watch. */
  list(): CertificateInfo[] {
    return [...this.certificates.values()].map((c) => ({
      serial: c.serialNumber.toUpperCase(),
      validFrom: Date.parse(c.validFrom),
      validTo: Date.parse(c.validTo),
    }));
  }

  knows(serial: string): boolean {
    return this.options.keys.has(serial);
  }

  /** The key sensitive fields are encrypted with: the public key if configured, else the newest certificate. */
  sensitiveKey(): SensitiveKey {
    return selectSensitiveKey(this.options.keys, [...this.certificates.values()]);
  }

  /** Re-reads the stored certificates. */
  async reload(): Promise<string[]> {
    const stored = await this.options.store.load();
    this.loadedAt = this.options.clock();
    return this.add(stored.map((c) => c.pem));
  }

  /** Re-reads the stored certificates when the last read is older than RELOAD_MS; a failure is logged, not thrown. */
  async reloadIfStale(): Promise<void> {
    if (this.options.clock() - this.loadedAt < this.reloadMs) return;
    try {
      const added = await this.reload();
      if (added.length) this.options.log.info('platform certificates loaded from storage', { serials: added });
    } catch (error) {
      this.loadedAt = this.options.clock(); // not on every call while the database is unwell
      this.options.log.warn('stored platform certificates could not be read', { error: (error as Error).message });
    }
  }

  /** Downloads, verifies, decrypts and stores /v3/certificates; returns every serial WeChat Pay listed and the new ones. */
  async refresh(reason: string): Promise<{ serials: string[]; added: string[] }> {
    const now = this.options.clock();
    let downloaded: PlatformCertificate[];
    try {
      downloaded = await this.options.download();
    } catch (error) {
      await this.options.store.recordOutcome(now, (error as Error).message).catch(() => undefined);
      throw error;
    }
    await this.options.store.save(downloaded, now);
    await this.options.store.recordOutcome(now);
    const added = this.add(downloaded.map((c) => c.pem));
    const serials = downloaded.map((c) => c.serialNo);
    this.options.log.info('platform certificates downloaded', { reason, serials, added });
    return { serials, added };
  }

  /**
   * After an answer signed with an unknown serial (the client does not say which): re-read storage, then download if
   * no instance did within the gap. True when a certificate was learned.
   */
  async learnFromAnswer(): Promise<boolean> {
    const now = this.options.clock();
    if (now - this.lastUnknownAt < this.refreshGapMs) return false;
    this.lastUnknownAt = now;
    try {
      if ((await this.reload()).length > 0) return true;
      if (!(await this.options.store.claimRefresh(now, this.refreshGapMs))) return false;
      return (await this.refresh('answer signed with an unknown serial')).added.length > 0;
    } catch (error) {
      this.options.log.error('platform certificate refresh failed', { error: (error as Error).message });
      return false;
    }
  }

  /**
   * Called before a notification is verified: true when `serial` is (or has just become) a known key. An unknown
   * certificate serial re-reads storage, then downloads if no instance did so within the gap; an unknown public key id
   * cannot be downloaded (the merchant must configure the new public key), so it is only reported.
   */
  async ensureKnown(serial: string): Promise<boolean> {
    if (this.knows(serial)) return true;
    const { log } = this.options;
    if (PUBLIC_KEY_ID.test(serial)) {
      log.error('notification signed with an unknown WeChat Pay public key id: configure the new public key', {
        serial,
      });
      return false;
    }
    const now = this.options.clock();
    if (now - this.lastUnknownAt < this.refreshGapMs) return false;
    this.lastUnknownAt = now;
    try {
      await this.reload();
      if (this.knows(serial)) return true;
      if (!(await this.options.store.claimRefresh(now, this.refreshGapMs))) {
        log.warn('unknown platform certificate serial: certificates were refreshed moments ago, not again', { serial });
        return false;
      }
      await this.refresh(`unknown serial ${serial}`);
    } catch (error) {
      log.error('platform certificate refresh failed', { serial, error: (error as Error).message });
      return false;
    }
    if (!this.knows(serial))
      log.warn('unknown platform certificate serial: not among those WeChat Pay lists', { serial });
    return this.knows(serial);
  }
}

/**
 * The client, learning from its answers: an answer signed with a certificate this instance does not know (WeChat Pay
 * switched before the daily download reached this instance) re-reads storage or downloads, within the same gap as
 * notifications, and the call is made once more if a certificate was learned. Every call is safe to repeat: WeChat
 * Pay keys them by out_trade_no / out_refund_no, and the client already repeats them on network errors.
 */
export function withCertificateLearning<T extends object>(client: T, keeper: CertificateKeeper): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'downloadCertificates' || property === 'constructor')
        return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        try {
          return await method.apply(target, args);
        } catch (error) {
          if (
            error instanceof WechatPayVerificationError &&
            error.reason === 'UNKNOWN_SERIAL' &&
            (await keeper.learnFromAnswer())
          )
            return method.apply(target, args);
          throw error;
        }
      };
    },
  });
}

/**
 * Before a notification is judged: if it names a certificate serial this instance does not know, give the keeper its
 * one chance to learn it. A signature probe (WECHATPAY/SIGNTEST/) is rejected by the verifier anyway and asks nothing.
 */
export async function learnNotificationSerial(
  keeper: CertificateKeeper | undefined,
  headers: HeaderBag | undefined,
): Promise<void> {
  if (!keeper || !headers) return;
  const serial = getHeader(headers, 'Wechatpay-Serial');
  if (!serial || keeper.knows(serial)) return;
  if (getHeader(headers, 'Wechatpay-Signature')?.startsWith('WECHATPAY/SIGNTEST/')) return;
  await keeper.ensureKnown(serial);
}

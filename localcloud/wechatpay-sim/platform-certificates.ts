/**
 * The platform certificates WeChat Pay holds for a merchant in certificate mode, and which one signs. It starts with
 * the one in the local keys (keys.json, platform_cert.pem). A rotation goes as WeChat Pay's does: a new certificate,
 * with its own key pair, is issued and listed by /v3/certificates beside the old one while the old still signs; later
 * signing moves to the new one (`signWith`); the old one stays listed until it expires. `issue({ signNow: true })`
 * does both at once.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { LocalKeys } from '../keys';

export interface PlatformCertificate {
  serial: string;
  pem: string;
  key: KeyObject;
  validFrom: number;
  validTo: number;
}

const DAY = 24 * 3600 * 1000;

function describe(pem: string, key: KeyObject): PlatformCertificate {
  const cert = new X509Certificate(pem);
  return {
    serial: cert.serialNumber.toUpperCase(),
    pem,
    key,
    validFrom: Date.parse(cert.validFrom),
    validTo: Date.parse(cert.validTo),
  };
}

export class PlatformCertificates {
  private readonly issued: PlatformCertificate[];
  private signing: string;

  constructor(keys: LocalKeys) {
    const first = describe(keys.platformCertificatePem, createPrivateKey(keys.platformPrivateKeyPem));
    this.issued = [first];
    this.signing = first.serial;
  }

  /** The certificate that signs certificate-mode answers and notifications. */
  current(): PlatformCertificate {
    return this.get(this.signing)!;
  }

  get(serial: string): PlatformCertificate | undefined {
    return this.issued.find((c) => c.serial === serial);
  }

  /** What /v3/certificates lists at `now`: every certificate not yet expired, the newest first. */
  list(now: number): PlatformCertificate[] {
    return this.issued.filter((c) => c.validTo > now).sort((a, b) => b.validFrom - a.validFrom);
  }

  /**
   * Issues a new certificate on a new RSA key, valid from `validFrom` (default a day before now) for `days` (default
   * five years, as WeChat Pay's), listed from now on; with `signNow` it also signs from now on.
   */
  issue(options: { now: number; validFrom?: number; days?: number; signNow?: boolean }): PlatformCertificate {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = `${((randomBytes(1)[0]! & 0x3f) | 0x40).toString(16)}${randomBytes(19).toString('hex')}`;
    const from = options.validFrom ?? options.now - DAY;
    cert.validity.notBefore = new Date(from);
    cert.validity.notAfter = new Date(from + (options.days ?? 5 * 365) * DAY);
    const attrs = [
      { name: 'commonName', value: 'Tenpay.com Root CA (simulated, rotated)' },
      { name: 'organizationName', value: 'Local Cloud (simulated)' },
      { name: 'countryName', value: 'CN' },
    ];
    cert.setSubject(attrs);
    cert.setIssuer(attrs);
    cert.sign(
      forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      forge.md.sha256.create(),
    );
    const issued = describe(forge.pki.certificateToPem(cert), privateKey);
    this.issued.push(issued);
    if (options.signNow) this.signing = issued.serial;
    return issued;
  }

  /** Moves signing to an issued certificate. */
  signWith(serial: string): void {
    if (!this.get(serial)) throw new Error(`no platform certificate ${serial}`);
    this.signing = serial;
  }
}

/**
 * Local key material, generated on the first start into the data folder and reused afterwards. Nothing here is
 * ever committed: each machine makes its own. Formats are the ones WeChat Pay hands a merchant, so an outside tool
 * can act as either side:
 *   merchant/apiclient_key.pem       merchant API private key (PKCS#8)
 *   merchant/apiclient_cert.pem      merchant API certificate (its serial is the Authorization serial_no)
 *   wechatpay/pub_key.pem            WeChat Pay public key (public-key mode), id in keys.json
 *   wechatpay/platform_cert.pem      WeChat Pay platform certificate (certificate mode), serial in keys.json
 *   wechatpay/platform_key.pem       the simulator's private key behind both (WeChat Pay's side; never a merchant's)
 *   keys.json                        mchid, appid, app secret, APIv3 key, serials and ids
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface LocalKeys {
  mchid: string;
  appid: string;
  appSecret: string;
  apiV3Key: string;
  merchantSerialNo: string;
  merchantPrivateKeyPem: string;
  merchantCertificatePem: string;
  publicKeyId: string;
  platformPublicKeyPem: string;
  platformCertificateSerial: string;
  platformCertificatePem: string;
  platformPrivateKeyPem: string;
}

interface Manifest {
  mchid: string;
  appid: string;
  appSecret: string;
  apiV3Key: string;
  merchantSerialNo: string;
  publicKeyId: string;
  platformCertificateSerial: string;
}

const FILES = {
  manifest: 'keys.json',
  merchantKey: 'merchant/apiclient_key.pem',
  merchantCert: 'merchant/apiclient_cert.pem',
  platformPublicKey: 'wechatpay/pub_key.pem',
  platformCert: 'wechatpay/platform_cert.pem',
  platformKey: 'wechatpay/platform_key.pem',
} as const;

const alnum = (n: number) => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(n), (b) => chars[b % chars.length]).join('');
};
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

/** A self-signed certificate over a node:crypto key (node has no certificate builder; node-forge signs it). */
function selfSignedCertificate(
  privateKeyPem: string,
  publicKeyPem: string,
  commonName: string,
): { pem: string; serial: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  const serial = `${((randomBytes(1)[0]! & 0x3f) | 0x40).toString(16)}${randomBytes(19).toString('hex')}`.toUpperCase();
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Local Cloud (simulated)' },
    { name: 'countryName', value: 'CN' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return { pem: forge.pki.certificateToPem(cert), serial };
}

function rsaPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Loads the keys under `dir`, creating them on first use. Returns `created: true` the first time. */
export function loadOrCreateKeys(dir: string): { keys: LocalKeys; created: boolean } {
  const path = (f: string) => join(dir, f);
  if (existsSync(path(FILES.manifest))) {
    const m = JSON.parse(readFileSync(path(FILES.manifest), 'utf8')) as Manifest;
    return {
      created: false,
      keys: {
        ...m,
        merchantPrivateKeyPem: readFileSync(path(FILES.merchantKey), 'utf8'),
        merchantCertificatePem: readFileSync(path(FILES.merchantCert), 'utf8'),
        platformPublicKeyPem: readFileSync(path(FILES.platformPublicKey), 'utf8'),
        platformCertificatePem: readFileSync(path(FILES.platformCert), 'utf8'),
        platformPrivateKeyPem: readFileSync(path(FILES.platformKey), 'utf8'),
      },
    };
  }
  mkdirSync(path('merchant'), { recursive: true });
  mkdirSync(path('wechatpay'), { recursive: true });
  const merchant = rsaPair();
  const platform = rsaPair();
  const merchantCert = selfSignedCertificate(merchant.privatePem, merchant.publicPem, 'Local Merchant');
  const platformCert = selfSignedCertificate(platform.privatePem, platform.publicPem, 'Tenpay.com Root CA (simulated)');
  const manifest: Manifest = {
    mchid: `19${digits(8)}`,
    appid: `wx${randomBytes(8).toString('hex')}`,
    appSecret: randomBytes(16).toString('hex'),
    apiV3Key: alnum(32),
    merchantSerialNo: merchantCert.serial,
    publicKeyId: `PUB_KEY_ID_01${digits(30)}`,
    platformCertificateSerial: platformCert.serial,
  };
  const secret = { mode: 0o600 };
  writeFileSync(path(FILES.merchantKey), merchant.privatePem, secret);
  writeFileSync(path(FILES.merchantCert), merchantCert.pem);
  writeFileSync(path(FILES.platformPublicKey), platform.publicPem);
  writeFileSync(path(FILES.platformCert), platformCert.pem);
  writeFileSync(path(FILES.platformKey), platform.privatePem, secret);
  writeFileSync(path(FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, secret);
  return {
    created: true,
    keys: {
      ...manifest,
      merchantPrivateKeyPem: merchant.privatePem,
      merchantCertificatePem: merchantCert.pem,
      platformPublicKeyPem: platform.publicPem,
      platformCertificatePem: platformCert.pem,
      platformPrivateKeyPem: platform.privatePem,
    },
  };
}

export const KEY_FILES = FILES;

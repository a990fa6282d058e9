/** Self-signed test certificates with a chosen serial and start of validity (node has no certificate builder). */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { TestKeyPair } from './keys';

export function testCertificate(
  pair: TestKeyPair,
  serial: string,
  notBefore: Date,
): { pem: string; x509: X509Certificate } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicPem);
  cert.serialNumber = serial;
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + 5 * 365 * 24 * 3600 * 1000);
  const attrs = [{ name: 'commonName', value: `Tenpay.com test ${serial}` }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(pair.privatePem), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { pem, x509: new X509Certificate(pem) };
}

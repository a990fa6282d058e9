/**
 * The certificates API: `GET /v3/certificates`, the platform certificates encrypted with the APIv3 key
 * (associated_data "certificate"). A merchant in public-key mode has none: 404 RESOURCE_NOT_EXISTS 无可用的平台证书,
 * as WeChat Pay answers merchants created since it introduced the public key.
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from '../http';
import { chinaTime } from './clock';
import type { Room, RoomRoute, SimContext } from './context';
import { encryptResource } from './signing';

export class CertificatesApi implements Room {
  constructor(private readonly ctx: SimContext) {}

  route(method: string, path: string): RoomRoute | undefined {
    if (method === 'GET' && path === '/v3/certificates')
      return { target: 'certificates', run: () => this.certificates() };
    return undefined;
  }

  private async certificates(): Promise<{ status: number; body: unknown }> {
    const { keys, settings, clock, signing } = this.ctx;
    if (settings.signingMode === 'publicKey') throw new HttpError(404, 'RESOURCE_NOT_EXISTS', '无可用的平台证书');
    // every certificate not expired, a rotated one beside the old (platform-certificates.ts)
    return {
      status: 200,
      body: {
        data: signing.certificates.list(clock.now()).map((cert) => {
          const nonce = randomBytes(6).toString('hex');
          return {
            serial_no: cert.serial,
            effective_time: chinaTime(cert.validFrom),
            expire_time: chinaTime(cert.validTo),
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              associated_data: 'certificate',
              nonce,
              ciphertext: encryptResource(keys.apiV3Key, nonce, 'certificate', cert.pem),
            },
          };
        }),
      },
    };
  }
}

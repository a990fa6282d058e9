/**
 * Product pictures are never packaged: in the cloud they are cloud storage file ids (`cloud://…`, which <image>
 * loads directly) or https URLs; the local cloud serves them under its own address (`/assets/…`). Anything this
 * build cannot load becomes '' and the page shows its placeholder.
 */
import { appConfig, backendMode } from '../config';

export function productImageUrl(image: string | undefined): string {
  if (!image) return '';
  if (/^https:\/\//.test(image)) return image;
  const local = backendMode() === 'local';
  if (image.startsWith('cloud://')) return local ? '' : image;
  if (image.startsWith('/assets/')) return local ? `${appConfig.localCloudUrl}${image}` : '';
  return '';
}

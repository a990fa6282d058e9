import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateKeys, type LocalKeys } from '../../localcloud/keys';

/** Fresh local keys in a temporary folder (generated at run time, as on a first `npm start`). */
export function freshLocalKeys(): { keys: LocalKeys; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'localkeys-'));
  return { keys: loadOrCreateKeys(dir).keys, dir };
}

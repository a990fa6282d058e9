/**
 * The pictures (`npm run screenshots`) as a measuring instrument: every tappable target of every page in every state
 * shown is at least 88rpx (44 CSS px) in both directions, measured by Chromium on the rendered WXSS; and the clock is
 * frozen, so a second run gives the same PNG bytes (first screen and full height).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, describeInBrowser } from './support';

const ROOT = join(__dirname, '..', '..', '..');

function pictures(dir: string, only?: string): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/pictures/screenshots.ts'], {
    cwd: ROOT,
    env: { ...process.env, PICTURES_DIR: dir, ...(only ? { PICTURES_ONLY: only } : {}), CHROMIUM_PATH: CHROMIUM },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (run.status !== 0) throw new Error(`screenshots failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

describeInBrowser('the pictures', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pictures-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  let first = '';
  let firstOut = '';
  beforeAll(() => {
    first = tmp();
    firstOut = pictures(first);
  }, 250_000);

  test('every page is taken at its first screen and at its full height', () => {
    const shots = readdirSync(first).filter((f) => f.endsWith('.png'));
    expect(shots.length).toBeGreaterThan(20);
    expect(readdirSync(join(first, 'full')).sort()).toEqual(shots.sort());
  });

  test('every tappable target is at least 88rpx', () => {
    expect(firstOut.split('\n').filter((l) => l.includes('small target'))).toEqual([]);
  });

  test('a second run gives the same pictures (a frozen clock)', () => {
    const second = tmp();
    pictures(second, '08-order-detail-pending');
    for (const file of ['08-order-detail-pending.png', 'full/08-order-detail-pending.png'])
      expect(readFileSync(join(second, file)).equals(readFileSync(join(first, file)))).toBe(true);
  }, 250_000);
});

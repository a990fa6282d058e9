/**
 * jest's globalSetup and globalTeardown (jest.config.js): a run leaves no new 32-hex folder at the repository root.
 * miniprogram-ci made one in the working directory at each compile (scripts/release/ci-cache.ts moves it to the OS
 * temp folder). The setup notes the folders already there; the teardown throws, failing the run, naming new ones.
 */
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const HEX = /^[0-9a-f]{32}$/;

function hexFolders() {
  return readdirSync(ROOT).filter((name) => HEX.test(name) && statSync(join(ROOT, name)).isDirectory());
}

/** globalSetup and globalTeardown share globalThis (and only they). */
const KEY = '__rootHexFolders';

module.exports = {
  ROOT,
  hexFolders,
  setup() {
    globalThis[KEY] = hexFolders();
  },
  teardown() {
    const before = new Set(globalThis[KEY] ?? []);
    const added = hexFolders().filter((name) => !before.has(name));
    if (added.length)
      throw new Error(
        `the run left ${added.length} new 32-hex folder(s) at the repository root (${ROOT}): ${added.join(', ')}`,
      );
  },
};

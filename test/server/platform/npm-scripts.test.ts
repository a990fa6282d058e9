/**
 * package.json's scripts name files that exist (the scripts moved into scripts/release/, scripts/pictures/ and
 * scripts/bench/ by purpose), and nothing is left at the top of scripts/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

/** the files an npm script runs with tsx or node */
const filesOf = (command: string) => [...command.matchAll(/\b(?:tsx|node)\s+(\S+\.[cm]?[jt]s)\b/g)].map((m) => m[1]!);

test('every file an npm script runs exists', () => {
  const missing = Object.entries(scripts).flatMap(([name, command]) =>
    filesOf(command)
      .filter((f) => !existsSync(join(ROOT, f)))
      .map((f) => `${name}: ${f}`),
  );
  expect(missing).toEqual([]);
});

test('the scripts by purpose: release, pictures, bench, test', () => {
  expect(
    Object.fromEntries(
      Object.entries(scripts)
        .filter(([, c]) => /scripts\//.test(c))
        .map(([name, c]) => [name, filesOf(c)]),
    ),
  ).toEqual({
    build: ['scripts/release/build-functions.ts'],
    deploy: ['scripts/release/deploy.ts'],
    upload: ['scripts/release/upload.ts'],
    'check:miniprogram': ['scripts/release/check-miniprogram.ts'],
    size: ['scripts/release/size.ts'],
    screenshots: ['scripts/pictures/screenshots.ts'],
    'screenshots:web': ['scripts/pictures/web-screenshots.ts'],
    bench: ['scripts/bench/index.ts'],
    test: ['scripts/test/run.ts'],
  });
  const top = readdirSync(join(ROOT, 'scripts')).filter(
    (name) =>
      !statSync(join(ROOT, 'scripts', name)).isDirectory() || !['release', 'pictures', 'bench', 'test'].includes(name),
  );
  expect(top).toEqual([]);
});

test('negative control: a missing file is found', () => {
  expect(filesOf('tsx scripts/nosuch.ts --flag && node x/y.js')).toEqual(['scripts/nosuch.ts', 'x/y.js']);
  expect(existsSync(join(ROOT, 'scripts/nosuch.ts'))).toBe(false);
});

/** The offline platform checks catch what DevTools would reject: each one shown failing on a broken copy. */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSchemas, checkWxml, ROOT } from '../../../scripts/release/miniprogram-ci';

jest.setTimeout(90_000);

let copy: string;
beforeEach(() => {
  copy = mkdtempSync(join(tmpdir(), 'mpcheck-'));
  cpSync(join(ROOT, 'project.config.json'), join(copy, 'project.config.json'));
  cpSync(join(ROOT, 'miniprogram'), join(copy, 'miniprogram'), {
    recursive: true,
    filter: (src) => !src.includes('miniprogram_npm'),
  });
});
afterEach(() => rmSync(copy, { recursive: true, force: true }));

const edit = (file: string, change: (text: string) => string) =>
  writeFileSync(join(copy, file), change(readFileSync(join(copy, file), 'utf8')));

test('the project as committed passes the schema and wcc checks', () => {
  expect(checkSchemas(copy)).toEqual([]);
  expect(checkWxml(copy)).toEqual([]);
});

test('schemas: a wrong type in app.json, a malformed page JSON', () => {
  edit('miniprogram/app.json', (t) => t.replace('"navigationBarTitleText": "咖啡小馆"', '"navigationBarTitleText": 3'));
  edit('miniprogram/pages/mine/orders/index.json', (t) =>
    t.replace('"enablePullDownRefresh": true', '"enablePullDownRefresh": "yes"'),
  );
  edit('miniprogram/pages/order/result/index.json', () => '{ not json');
  const problems = checkSchemas(copy);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        check: 'schema',
        file: 'miniprogram/app.json',
        message: expect.stringContaining('window.navigationBarTitleText'),
      }),
      expect.objectContaining({ check: 'schema', file: 'miniprogram/pages/mine/orders/index.json' }),
      expect.objectContaining({ check: 'json', file: 'miniprogram/pages/order/result/index.json' }),
    ]),
  );
});

test('wcc: an orphan wx:else', () => {
  edit('miniprogram/pages/order/result/index.wxml', (t) => `<view wx:else>孤立的 else</view>\n${t}`);
  expect(checkWxml(copy)).toEqual([
    expect.objectContaining({ check: 'wcc', message: expect.stringContaining('wx:else') }),
  ]);
});

test('wcc: an expression the 2020 compiler cannot parse', () => {
  edit('miniprogram/pages/home/index/index.wxml', (t) => t.replace('{{item.priceText}}', '{{item.priceText ?? "-"}}'));
  expect(checkWxml(copy)).toHaveLength(1);
});

test('miniprogram-ci: a usingComponents path that resolves nowhere fails the whole check', async () => {
  edit('miniprogram/pages/order/detail/index.json', (t) =>
    t.replace('/components/cashier-sheet/index', '/components/missing-sheet/index'),
  );
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    // through tsx's CLI: `node --import tsx` is inherited by miniprogram-ci's forked compiler, which then fails
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(ROOT, 'scripts/release/check-miniprogram.ts'), copy],
      { cwd: ROOT, timeout: 80_000 },
      (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('[miniprogram-ci] miniprogram/pages/order/detail/index.json');
  expect(result.stderr).toContain('missing-sheet');
});

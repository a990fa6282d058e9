/**
 * Offline platform checks (part of `npm test`): what WeChat DevTools would reject, without DevTools or network.
 *   1. JSON files against WeChat's schemas (project.config.json, app.json, sitemap.json, every page and component)
 *   2. every WXML through WeChat's wcc compiler
 *   3. the whole project compiled by miniprogram-ci (JSON, usingComponents paths, app.json pages, WXSS, TS syntax,
 *      WXML structure), after building miniprogram_npm as DevTools' "Build npm" does
 * Usage: tsx scripts/release/check-miniprogram.ts [projectDir]   (default: this project)
 */
import { rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkSchemas, checkWxml, compile, packNpm, ROOT, wxmlFiles, type Problem } from './miniprogram-ci';

// written synchronously: the process exits right after (miniprogram-ci's forked compiler would keep it alive)
const out = (line: string) => writeSync(1, `${line}\n`);
const err = (line: string) => writeSync(2, `${line}\n`);

async function main(): Promise<number> {
  const projectDir = resolve(process.argv[2] ?? ROOT);
  const started = Date.now();
  const problems: Problem[] = [];
  await packNpm(projectDir);
  problems.push(...checkSchemas(projectDir));
  problems.push(...checkWxml(projectDir));
  let compiledFiles = 0;
  try {
    compiledFiles = Object.keys(await compile(projectDir)).length;
  } catch (error) {
    const e = error as Error & { code?: number; path?: string };
    problems.push({ check: 'miniprogram-ci', file: e.path ?? '?', message: `${e.code ?? ''} ${e.message}`.trim() });
  } finally {
    rmSync(join(projectDir, '.compiled.zip'), { force: true });
  }
  if (problems.length) {
    err(`mini-program checks FAILED (${problems.length}):`);
    for (const p of problems) err(`  [${p.check}] ${p.file}: ${p.message.split('\n').slice(0, 4).join(' | ')}`);
    return 1;
  }
  out(
    `mini-program checks passed: schemas, wcc over ${wxmlFiles(projectDir).length} WXML files, miniprogram-ci compiled ${compiledFiles} files (${Date.now() - started} ms)`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    err(String((error as Error)?.stack ?? error));
    process.exit(1);
  },
);

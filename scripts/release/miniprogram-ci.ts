/**
 * Offline use of WeChat's own tools (no network): miniprogram-ci builds miniprogram_npm and compiles the project as
 * DevTools would before an upload; its schemas check the JSON files; wcc (shipped in miniprogram-compiler) compiles
 * every WXML. miniprogram-ci forks a compiler that keeps node alive: callers end with process.exit().
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../cloudfunctions/functions';
import { loadMiniprogramCi } from './ci-cache';

// miniprogram-ci and miniprogram-compiler ship no types for these entry points
const ci = loadMiniprogramCi<{
  Project: new (options: Record<string, unknown>) => unknown;
  DefaultProjectAttr: unknown;
  packNpmManually(options: { packageJsonPath: string; miniprogramNpmDistDir: string }): Promise<unknown>;
  getCompiledResult(
    options: { project: unknown; setting: Record<string, unknown> },
    zipPath: string,
  ): Promise<Record<string, string | Uint8Array>>;
  schemaValidate(
    kind: string,
    value: unknown,
  ): { error: { errorType: string; errorProperty: string; correctType?: string[]; requireProperty?: string }[] };
}>();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wcc = require('miniprogram-compiler') as { wxmlToJs(root: string): string };

export { ROOT };

export interface Problem {
  check: string;
  file: string;
  message: string;
}

function walk(dir: string, ext: string, skip = 'miniprogram_npm'): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === skip || name === 'node_modules') continue;
    if (statSync(full).isDirectory()) out.push(...walk(full, ext, skip));
    else if (name.endsWith(ext)) out.push(full);
  }
  return out;
}

export async function packNpm(projectDir: string): Promise<void> {
  await ci.packNpmManually({
    packageJsonPath: join(ROOT, 'package.json'),
    miniprogramNpmDistDir: join(projectDir, 'miniprogram'),
  });
}

export function checkSchemas(projectDir: string): Problem[] {
  const problems: Problem[] = [];
  const check = (kind: string, file: string) => {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push({ check: 'json', file: relative(projectDir, file), message: (error as Error).message });
      return;
    }
    for (const e of ci.schemaValidate(kind, value).error) {
      problems.push({
        check: 'schema',
        file: relative(projectDir, file),
        message: `${e.errorType} ${e.errorProperty || e.requireProperty || ''}${e.correctType ? ` (expected ${e.correctType.join('|')})` : ''}`,
      });
    }
  };
  const mp = join(projectDir, 'miniprogram');
  check('projectconfig', join(projectDir, 'project.config.json'));
  check('app', join(mp, 'app.json'));
  check('sitemap', join(mp, 'sitemap.json'));
  for (const file of walk(mp, '.json')) if (!/(^|\/)(app|sitemap)\.json$/.test(relative(mp, file))) check('page', file);
  return problems;
}

/** wcc compiles every WXML under the mini-program root (TDesign's too): bad expressions, orphan wx:else, broken wxs. */
export function checkWxml(projectDir: string): Problem[] {
  try {
    wcc.wxmlToJs(join(projectDir, 'miniprogram'));
    return [];
  } catch (error) {
    return [{ check: 'wcc', file: 'miniprogram', message: (error as Error).message }];
  }
}

export async function compile(projectDir: string): Promise<Record<string, string | Uint8Array>> {
  const project = new ci.Project({
    appid: 'touristappid',
    type: 'miniProgram',
    projectPath: projectDir,
    privateKey: 'offline',
    attr: async () => ci.DefaultProjectAttr,
  });
  return ci.getCompiledResult(
    { project, setting: { useProjectConfig: true, minifyWXML: true } },
    join(projectDir, '.compiled.zip'),
  );
}

export function wxmlFiles(projectDir: string): string[] {
  return walk(join(projectDir, 'miniprogram'), '.wxml');
}

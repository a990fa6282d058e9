/**
 * The deploy through Tencent CloudBase's own management SDK (`@cloudbase/manager-node`, the library of the `tcb`
 * CLI): what the environment should hold (every function of cloudfunctions/ with its config.json and its profile's
 * settings, the HTTP access routes, every collection of database.json with its indexes and security rule), what it
 * holds, the difference as a plan, and the calls that apply it. One source of truth: listFunctions(), each
 * config.json, database.json, runtime/profiles.ts; cloudbaserc.json is generated from the same desired state.
 *
 * Values of settings are never printed: a plan names variables. The Tencent Cloud API keys are given to the SDK only
 * (which signs with them, TC3-HMAC-SHA256) and are never part of a function's environment.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltFunction } from './build-functions';
import type { DatabaseSetup } from './config-checks';

/** The runtime every function is created with (global fetch needs Node.js 18; SCF's Node.js 18 is 18.15). */
export const RUNTIME = 'Nodejs18.15';
export const DEFAULT_TIMEOUT_S = 3;
export const DEFAULT_MEMORY_MB = 256;
/** Kept in each function's description: the bundle it runs, so that an unchanged bundle is not uploaded again. */
const BUNDLE_MARK = /bundle ([0-9a-f]{16})/;

export interface Trigger {
  name: string;
  type: string;
  config: string;
}

/** cloudfunctions/<name>/config.json */
export interface FunctionConfig {
  timeout?: number;
  /** MB; default 256 */
  memorySize?: number;
  permissions?: { openapi?: string[] };
  triggers?: Trigger[];
  /** an HTTP access route to the function; `auth: false` (identity verification off) for callers such as WeChat Pay */
  http?: { path: string; auth?: boolean };
}

export interface DesiredFunction {
  name: string;
  timeout: number;
  memorySize: number;
  /** names and values (values never printed) */
  env: Record<string, string>;
  triggers: Trigger[];
  http?: { path: string; auth: boolean };
  bundle: string;
}

export interface DesiredIndex {
  name: string;
  keys: { Name: string; Direction: string }[];
}

export interface DesiredCollection {
  name: string;
  indexes: DesiredIndex[];
  rule: string;
}

export interface Desired {
  functions: DesiredFunction[];
  collections: DesiredCollection[];
}

export function readFunctionConfig(sourceDir: string, name: string): FunctionConfig {
  return JSON.parse(readFileSync(join(sourceDir, name, 'config.json'), 'utf8')) as FunctionConfig;
}

/** Problems of a config.json the deploy would refuse (each names the file and the fix). */
export function functionConfigProblems(name: string, config: FunctionConfig): string[] {
  const problems: string[] = [];
  if (config.timeout !== undefined && (!Number.isInteger(config.timeout) || config.timeout < 1 || config.timeout > 60))
    problems.push(`${name}/config.json: timeout must be 1-60 s`);
  if (config.memorySize !== undefined && ![64, 128, 256, 512, 1024, 2048, 3072].includes(config.memorySize))
    problems.push(`${name}/config.json: memorySize must be one of 64, 128, 256, 512, 1024, 2048, 3072 (MB)`);
  const triggers = config.triggers ?? [];
  if (triggers.length > 1)
    problems.push(`${name}/config.json: one timer trigger per function (miniprogram-ci's limit)`);
  for (const t of triggers)
    if (t.type !== 'timer' || t.config.trim().split(/\s+/).length !== 7)
      problems.push(`${name}/config.json: trigger ${t.name} must be a timer with a 7-field cron`);
  if (config.http && !/^\/[A-Za-z0-9/_-]*$/.test(config.http.path))
    problems.push(`${name}/config.json: http.path must start with / (letters, digits, / _ -)`);
  return problems;
}

/** The bundle's identity: every file of the built folder, by path and content. */
export function bundleHash(built: BuiltFunction): string {
  const hash = createHash('sha256');
  for (const file of built.files) {
    hash.update(`${file.path}\0`);
    hash.update(readFileSync(join(built.dir, file.path)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const DIRECTION = { asc: '1', desc: '-1' } as const;

export function desiredState(
  built: readonly BuiltFunction[],
  configs: ReadonlyMap<string, FunctionConfig>,
  database: DatabaseSetup,
): Desired {
  return {
    functions: built.map((f) => {
      const config = configs.get(f.name) ?? {};
      return {
        name: f.name,
        timeout: config.timeout ?? DEFAULT_TIMEOUT_S,
        memorySize: config.memorySize ?? DEFAULT_MEMORY_MB,
        env: f.env.values,
        triggers: config.triggers ?? [],
        ...(config.http ? { http: { path: config.http.path, auth: config.http.auth ?? true } } : {}),
        bundle: bundleHash(f),
      };
    }),
    collections: database.collections.map((c) => ({
      name: c.name,
      indexes: c.indexes.map((i) => ({
        name: i.name,
        keys: i.fields.map(([field, direction]) => ({ Name: field, Direction: DIRECTION[direction] })),
      })),
      rule: JSON.stringify(database.rules),
    })),
  };
}

// ---- what the environment holds -----------------------------------------------------------------------------------

export interface CurrentFunction {
  runtime: string;
  timeout: number;
  memorySize: number;
  env: Record<string, string>;
  triggers: Trigger[];
  bundle?: string;
  version: string;
  modTime: string;
  status: string;
}

export interface CurrentRoute {
  apiId: string;
  path: string;
  name: string;
  auth: boolean;
}

export interface CurrentCollection {
  indexes: DesiredIndex[];
  rule?: string;
}

export interface Current {
  functions: Map<string, CurrentFunction>;
  routes: CurrentRoute[];
  collections: Map<string, CurrentCollection>;
}

/** The part of `@cloudbase/manager-node` (5.6) the deploy calls; each method is the SDK's, named as it names it. */
export interface CloudBaseManager {
  functions: {
    listAllFunctions(options: { envId: string }): Promise<{ FunctionName: string }[]>;
    getFunctionDetail(name: string): Promise<Record<string, unknown>>;
    createFunction(param: Record<string, unknown>): Promise<unknown>;
    updateFunctionCode(param: Record<string, unknown>): Promise<unknown>;
    updateFunctionConfig(func: Record<string, unknown>): Promise<unknown>;
    createFunctionTriggers(name: string, triggers: Trigger[]): Promise<unknown>;
    deleteFunctionTrigger(name: string, triggerName: string): Promise<unknown>;
    deleteFunction(name: string): Promise<unknown>;
  };
  access: {
    getAccessList(options?: { path?: string; name?: string }): Promise<{ APISet?: Record<string, unknown>[] }>;
    createAccess(options: { name: string; path: string; auth: boolean }): Promise<unknown>;
    switchPathAuth(options: { apiIds: string[]; auth: boolean }): Promise<unknown>;
    deleteAccess(options: { name: string; apiId: string }): Promise<unknown>;
  };
  database: {
    listCollections(options: { MgoLimit: number; MgoOffset: number }): Promise<{
      Collections?: { CollectionName: string }[];
    }>;
    describeCollection(
      name: string,
    ): Promise<{ Indexes?: { Name: string; Keys?: { Name?: string; Direction?: string }[] }[] }>;
    createCollection(name: string): Promise<unknown>;
    updateCollection(name: string, info: Record<string, unknown>): Promise<unknown>;
    deleteCollection(name: string): Promise<unknown>;
  };
  permission: {
    describeResourcePermission(options: { resourceType: 'collection'; resources?: string[] }): Promise<{
      Data?: { PermissionList?: { Resource?: string; Permission?: string; SecurityRule?: string }[] };
    }>;
    modifyResourcePermission(options: {
      resourceType: 'collection';
      resource: string;
      permission: 'CUSTOM';
      securityRule: string;
    }): Promise<unknown>;
  };
}

export interface ManagerOptions {
  envId: string;
  secretId: string;
  secretKey: string;
  region?: string;
}

export function openManager(options: ManagerOptions): CloudBaseManager {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a deploy, not for a plan
  const CloudBase = require('@cloudbase/manager-node') as new (config: Record<string, unknown>) => CloudBaseManager;
  return new CloudBase({
    envId: options.envId,
    secretId: options.secretId,
    secretKey: options.secretKey,
    ...(options.region ? { region: options.region } : {}),
  });
}

/** SCF answers a timer's TriggerDesc as `{"cron":"…"}`; config.json holds the cron itself. */
const cronOf = (desc: unknown): string => {
  if (typeof desc !== 'string') return '';
  try {
    const parsed = JSON.parse(desc) as { cron?: string };
    return parsed.cron ?? desc;
  } catch {
    return desc;
  }
};

export function functionFromDetail(detail: Record<string, unknown>): CurrentFunction {
  const variables = ((detail.Environment as { Variables?: { Key: string; Value: string }[] } | undefined)?.Variables ??
    []) as { Key: string; Value: string }[];
  const triggers = ((detail.Triggers as Record<string, unknown>[] | undefined) ?? []).map((t) => ({
    name: String(t.TriggerName),
    type: String(t.Type),
    config: cronOf(t.TriggerDesc),
  }));
  const bundle = BUNDLE_MARK.exec(String(detail.Description ?? ''))?.[1];
  return {
    runtime: String(detail.Runtime ?? ''),
    timeout: Number(detail.Timeout ?? 0),
    memorySize: Number(detail.MemorySize ?? 0),
    env: Object.fromEntries(variables.map((v) => [v.Key, v.Value])),
    triggers,
    ...(bundle ? { bundle } : {}),
    version: String(detail.FunctionVersion ?? ''),
    modTime: String(detail.ModTime ?? ''),
    status: String(detail.Status ?? ''),
  };
}

const PAGE = 100;

/** Reads what the environment holds of what the deploy manages (and what else is there, for `would delete`). */
export async function readCurrent(manager: CloudBaseManager, envId: string, desired: Desired): Promise<Current> {
  const functions = new Map<string, CurrentFunction>();
  const listed = await manager.functions.listAllFunctions({ envId });
  const names = listed.map((f) => f.FunctionName);
  for (const name of names) functions.set(name, functionFromDetail(await manager.functions.getFunctionDetail(name)));
  const access = await manager.access.getAccessList();
  const routes = (access.APISet ?? []).map((api) => ({
    apiId: String(api.APIId),
    path: String(api.Path),
    name: String(api.Name),
    auth: api.EnableAuth === true,
  }));
  const collections = new Map<string, CurrentCollection>();
  const collectionNames: string[] = [];
  // a page at a time (ListTables' default page is 100), bounded
  for (let page = 0; page < 50; page++) {
    const listed = await manager.database.listCollections({ MgoLimit: PAGE, MgoOffset: page * PAGE });
    const names = (listed.Collections ?? []).map((c) => c.CollectionName);
    collectionNames.push(...names);
    if (names.length < PAGE) break;
  }
  const rules = new Map<string, string>();
  const wanted = desired.collections.map((c) => c.name).filter((n) => collectionNames.includes(n));
  if (wanted.length) {
    const permissions = await manager.permission.describeResourcePermission({
      resourceType: 'collection',
      resources: wanted,
    });
    for (const p of permissions.Data?.PermissionList ?? [])
      if (p.Resource && p.Permission === 'CUSTOM' && p.SecurityRule) rules.set(p.Resource, p.SecurityRule);
  }
  for (const name of collectionNames) {
    const described = await manager.database.describeCollection(name);
    collections.set(name, {
      indexes: (described.Indexes ?? [])
        .filter((i) => i.Name !== '_id_') // every collection's own index, not ours to manage
        .map((i) => ({
          name: i.Name,
          keys: (i.Keys ?? []).map((k) => ({ Name: String(k.Name), Direction: String(k.Direction) })),
        })),
      ...(rules.has(name) ? { rule: rules.get(name)! } : {}),
    });
  }
  return { functions, routes, collections };
}

/** An SDK error as a refusal that names what to fix (the message is Tencent's, which carries no key). */
export function sdkProblem(error: unknown): string {
  const e = error as { code?: string; message?: string; action?: string };
  const message = String(e.message ?? error)
    .split('\n')
    .filter(Boolean)
    .join(' ');
  if (e.code === 'AuthFailure.UnauthorizedOperation')
    return `the Tencent Cloud sub-account may not do this (${e.code}: ${message}): grant it QcloudTCBFullAccess and QcloudSCFFullAccess in CAM (访问管理 → 用户 → 关联策略), then deploy again`;
  if (e.code?.startsWith('AuthFailure'))
    return `the Tencent Cloud API keys were refused (${e.code}): check TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY and the machine's clock`;
  if (e.code === 'ResourceNotFound.Env' || /Environment .* not found/.test(message))
    return `no CloudBase environment ${message}: check --env (and --region) against the environment id the cloud console shows`;
  return `the CloudBase API answered ${e.code ? `${e.code}: ` : ''}${message}`;
}

// ---- the plan ------------------------------------------------------------------------------------------------------

export type ChangeKind = 'create' | 'update' | 'would delete' | 'delete' | 'refuse';

export interface Change {
  kind: ChangeKind;
  /** "function payNotify", "route /wxpay/notify", "collection orders", "index orders.createdAt" */
  what: string;
  /** what differs, by name (never a value) */
  details: string[];
  apply?: (manager: CloudBaseManager) => Promise<void>;
}

export interface Plan {
  changes: Change[];
  unchanged: string[];
}

const sameRule = (a: string | undefined, b: string): boolean => {
  if (a === undefined) return false;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

const sameKeys = (a: DesiredIndex['keys'], b: DesiredIndex['keys']) =>
  a.length === b.length && a.every((k, i) => k.Name === b[i]!.Name && k.Direction === b[i]!.Direction);

const describeKeys = (keys: DesiredIndex['keys']) =>
  keys.map((k) => `${k.Name} ${k.Direction === '-1' ? 'desc' : 'asc'}`).join(', ');

const description = (f: DesiredFunction) => `deployed by npm run deploy, bundle ${f.bundle}`;

/** The function's configuration as the SDK takes it (updateFunctionConfig and createFunction's func). */
const functionParams = (f: DesiredFunction): Record<string, unknown> => ({
  name: f.name,
  runtime: RUNTIME,
  handler: 'index.main',
  timeout: f.timeout,
  memorySize: f.memorySize,
  envVariables: f.env,
  description: description(f),
  installDependency: true, // wx-server-sdk installed in the cloud from the bundle's package.json
});

export interface PlanOptions {
  prune: boolean;
  /** where the built folders are: <outDir>/<name> */
  outDir: string;
}

export function planChanges(desired: Desired, current: Current, options: PlanOptions): Plan {
  const changes: Change[] = [];
  const unchanged: string[] = [];
  const drop = (what: string, details: string[], apply: Change['apply']): Change =>
    options.prune ? { kind: 'delete', what, details, apply } : { kind: 'would delete', what, details };

  for (const f of desired.functions) {
    const what = `function ${f.name}`;
    const have = current.functions.get(f.name);
    const code = {
      func: { name: f.name, runtime: RUNTIME, installDependency: true },
      functionRootPath: options.outDir,
    };
    if (!have) {
      changes.push({
        kind: 'create',
        what,
        details: [
          `runtime ${RUNTIME}, timeout ${f.timeout} s, memory ${f.memorySize} MB, bundle ${f.bundle}`,
          `environment ${Object.keys(f.env).join(', ') || '(none)'}`,
          ...f.triggers.map((t) => `trigger ${t.name} "${t.config}"`),
        ],
        apply: async (m) => {
          await m.functions.createFunction({
            func: { ...functionParams(f), triggers: f.triggers },
            functionRootPath: options.outDir,
            deployMode: 'zip',
            force: false,
          });
        },
      });
      continue;
    }
    if (have.runtime !== RUNTIME) {
      changes.push({
        kind: 'refuse',
        what,
        details: [
          `runs on ${have.runtime}; a runtime is chosen when a function is created: delete ${f.name} in the cloud console (云函数 → 删除) and deploy again`,
        ],
      });
      continue;
    }
    const details: string[] = [];
    const codeChanged = have.bundle !== f.bundle;
    if (codeChanged) details.push(`code: bundle ${have.bundle ?? '(not deployed by this script)'} → ${f.bundle}`);
    if (have.timeout !== f.timeout) details.push(`timeout ${have.timeout} → ${f.timeout} s`);
    if (have.memorySize !== f.memorySize) details.push(`memory ${have.memorySize} → ${f.memorySize} MB`);
    const added = Object.keys(f.env).filter((k) => !(k in have.env));
    const removed = Object.keys(have.env).filter((k) => !(k in f.env));
    const changed = Object.keys(f.env).filter((k) => k in have.env && have.env[k] !== f.env[k]);
    if (added.length) details.push(`environment: add ${added.join(', ')}`);
    if (changed.length) details.push(`environment: new value of ${changed.join(', ')}`);
    // the SDK sends no Environment for an empty set of variables (it would keep the old ones): only a person can
    const emptied = removed.length > 0 && Object.keys(f.env).length === 0;
    if (removed.length && !emptied) details.push(`environment: remove ${removed.join(', ')}`);
    if (emptied)
      changes.push({
        kind: 'would delete',
        what: `environment variables of ${f.name}`,
        details: [
          `${removed.join(', ')}: remove them in the cloud console (版本与配置 → 环境变量); the SDK cannot empty an environment`,
        ],
      });
    const configChanged = details.some((d) => !d.startsWith('code:'));
    const triggerKey = (t: Trigger) => `${t.name}\0${t.type}\0${t.config}`;
    const haveTriggers = new Set(have.triggers.map(triggerKey));
    const wantTriggers = new Set(f.triggers.map(triggerKey));
    const newTriggers = f.triggers.filter((t) => !haveTriggers.has(triggerKey(t)));
    const oldTriggers = have.triggers.filter((t) => !wantTriggers.has(triggerKey(t)));
    for (const t of newTriggers) details.push(`trigger ${t.name} "${t.config}": create`);
    for (const t of oldTriggers) details.push(`trigger ${t.name} "${t.config}": delete`);
    if (!details.length) {
      unchanged.push(what);
      continue;
    }
    changes.push({
      kind: 'update',
      what,
      details,
      apply: async (m) => {
        if (codeChanged) await m.functions.updateFunctionCode({ ...code, deployMode: 'zip' });
        // the description carries the bundle mark: written after the code, so a failed upload is retried next run
        if (codeChanged || configChanged) await m.functions.updateFunctionConfig(functionParams(f));
        for (const t of oldTriggers) await m.functions.deleteFunctionTrigger(f.name, t.name);
        if (newTriggers.length) await m.functions.createFunctionTriggers(f.name, newTriggers);
      },
    });
  }
  const names = new Set(desired.functions.map((f) => f.name));
  for (const name of current.functions.keys())
    if (!names.has(name))
      changes.push(
        drop(`function ${name}`, ['not in cloudfunctions/'], (m) => m.functions.deleteFunction(name).then()),
      );

  // HTTP access routes
  const routed = desired.functions.filter((f) => f.http);
  for (const f of routed) {
    const http = f.http!;
    const what = `route ${http.path} → ${f.name}`;
    const have = current.routes.find((r) => r.path === http.path);
    const auth = `identity verification ${http.auth ? 'on' : 'off'}`;
    if (!have)
      changes.push({
        kind: 'create',
        what,
        details: [auth],
        apply: (m) => m.access.createAccess({ name: f.name, path: http.path, auth: http.auth }).then(),
      });
    else if (have.name !== f.name)
      changes.push({
        kind: 'refuse',
        what,
        details: [
          `${http.path} already routes to ${have.name}: delete that route in the cloud console (HTTP访问服务) or change ${f.name}/config.json http.path`,
        ],
      });
    else if (have.auth !== http.auth)
      changes.push({
        kind: 'update',
        what,
        details: [`identity verification ${have.auth ? 'on' : 'off'} → ${http.auth ? 'on' : 'off'}`],
        apply: (m) => m.access.switchPathAuth({ apiIds: [have.apiId], auth: http.auth }).then(),
      });
    else unchanged.push(what);
  }
  for (const r of current.routes)
    if (!routed.some((f) => f.http!.path === r.path && f.name === r.name) && names.has(r.name))
      changes.push(
        drop(`route ${r.path} → ${r.name}`, ['not in any config.json'], (m) =>
          m.access.deleteAccess({ name: r.name, apiId: r.apiId }).then(),
        ),
      );

  // the database
  for (const c of desired.collections) {
    const have = current.collections.get(c.name);
    const what = `collection ${c.name}`;
    const setRule = (m: CloudBaseManager) =>
      m.permission
        .modifyResourcePermission({
          resourceType: 'collection',
          resource: c.name,
          permission: 'CUSTOM',
          securityRule: c.rule,
        })
        .then();
    const createIndexes = (m: CloudBaseManager, indexes: DesiredIndex[]) =>
      indexes.length
        ? m.database
            .updateCollection(c.name, {
              CreateIndexes: indexes.map((i) => ({
                IndexName: i.name,
                MgoKeySchema: { MgoIsUnique: false, MgoIndexKeys: i.keys },
              })),
            })
            .then()
        : Promise.resolve();
    if (!have) {
      changes.push({
        kind: 'create',
        what,
        details: [`security rule ${c.rule}`, ...c.indexes.map((i) => `index ${i.name}(${describeKeys(i.keys)})`)],
        apply: async (m) => {
          await m.database.createCollection(c.name);
          await createIndexes(m, c.indexes);
          await setRule(m);
        },
      });
      continue;
    }
    const details: string[] = [];
    if (!sameRule(have.rule, c.rule)) details.push(`security rule ${have.rule ?? '(not custom)'} → ${c.rule}`);
    const missing = c.indexes.filter((i) => !have.indexes.some((h) => h.name === i.name));
    const differing = c.indexes.filter((i) => have.indexes.some((h) => h.name === i.name && !sameKeys(h.keys, i.keys)));
    const extra = have.indexes.filter((h) => !c.indexes.some((i) => i.name === h.name));
    for (const i of missing) details.push(`index ${i.name}(${describeKeys(i.keys)}): create`);
    for (const i of differing) details.push(`index ${i.name}: fields → ${describeKeys(i.keys)} (dropped and created)`);
    if (details.length)
      changes.push({
        kind: 'update',
        what,
        details,
        apply: async (m) => {
          if (differing.length)
            await m.database.updateCollection(c.name, { DropIndexes: differing.map((i) => ({ IndexName: i.name })) });
          await createIndexes(m, [...missing, ...differing]);
          if (!sameRule(have.rule, c.rule)) await setRule(m);
        },
      });
    else unchanged.push(what);
    for (const i of extra)
      changes.push(
        drop(`index ${c.name}.${i.name}`, [`(${describeKeys(i.keys)}) not in database.json`], (m) =>
          m.database.updateCollection(c.name, { DropIndexes: [{ IndexName: i.name }] }).then(),
        ),
      );
  }
  const collectionNames = new Set(desired.collections.map((c) => c.name));
  for (const name of current.collections.keys())
    if (!collectionNames.has(name))
      changes.push(
        drop(`collection ${name}`, ['not in database.json (its documents would be deleted with it)'], (m) =>
          m.database.deleteCollection(name).then(),
        ),
      );
  return { changes, unchanged };
}

export function planLines(plan: Plan): string[] {
  const lines: string[] = [];
  const sign: Record<ChangeKind, string> = {
    create: '+ create',
    update: '~ update',
    'would delete': '- would delete (run with --prune to delete)',
    delete: '- delete',
    refuse: '✗ refused',
  };
  for (const c of plan.changes) {
    lines.push(`  ${sign[c.kind]}  ${c.what}`);
    for (const d of c.details) lines.push(`      ${d}`);
  }
  if (plan.unchanged.length) lines.push(`  = unchanged  ${plan.unchanged.join(', ')}`);
  return lines;
}

/** The changes a run applies (creates, updates, and deletes asked for with --prune), in the plan's order. */
export const applicable = (plan: Plan): Change[] => plan.changes.filter((c) => c.apply);

/** Runs `tasks` with at most `limit` at a time (SCF's own calls wait a second or more for each function). */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

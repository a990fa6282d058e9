/**
 * The contract is the code's: every request and response type typings/api/ exports is used by a side, the client
 * (miniprogram/) or the cloud (cloudfunctions/), so editing one changes what compiles; every request type is what a
 * cloud operation parses; and the `Actions` map (typings/api/index.ts) names exactly the actions the callable functions
 * route. Files are parsed with TypeScript's own parser: a use is an identifier (comments and strings are not), or on
 * the client a `callApi('<function>.<action>', …)` call, which the compiler checks against that key's request and
 * response types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../../..');
const CONTRACT_DIR = 'typings/api';
const CONTRACT_INDEX = `${CONTRACT_DIR}/index.ts`;

/** Source files by path relative to the repository root, `/`-separated. */
type Tree = Map<string, string>;

function walk(dir: string, keep: (name: string) => boolean, skip: readonly string[] = []): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || skip.includes(path) ? [] : walk(path, keep, skip);
    return keep(entry.name) ? [path] : [];
  });
}

/** The contract, the cloud side (with each function's config.json, which makes a folder a function) and the client side. */
function repositoryTree(): Tree {
  const paths = [
    ...walk(CONTRACT_DIR, (n) => n.endsWith('.ts')),
    ...walk('cloudfunctions', (n) => n.endsWith('.ts') || n === 'config.json'),
    ...walk('miniprogram', (n) => n.endsWith('.ts'), ['miniprogram/miniprogram_npm']),
  ];
  return new Map(paths.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')]));
}

const parse = (path: string, text: string) =>
  ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

function visit(node: ts.Node, fn: (node: ts.Node) => void): void {
  fn(node);
  ts.forEachChild(node, (child) => visit(child, fn));
}

const isContract = (path: string) => path.startsWith(`${CONTRACT_DIR}/`);
const sideOf = (path: string): 'cloud' | 'client' | undefined =>
  path.startsWith('cloudfunctions/') ? 'cloud' : path.startsWith('miniprogram/') ? 'client' : undefined;
const sourceFiles = (tree: Tree) => [...tree].filter(([path]) => path.endsWith('.ts'));

/** The exported types and interfaces of typings/api/ whose name ends in Request or Response. */
function contractTypes(tree: Tree): string[] {
  const names: string[] = [];
  for (const [path, text] of sourceFiles(tree)) {
    if (!isContract(path)) continue;
    for (const statement of parse(path, text).statements) {
      if (!ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement)) continue;
      const exported = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (exported && /(Request|Response)$/.test(statement.name.text)) names.push(statement.name.text);
    }
  }
  return names.sort();
}

const nameText = (name: ts.PropertyName): string | undefined =>
  ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;

/** The `Actions` map: key → the names of its request and response types. */
function actionsMap(tree: Tree): Map<string, { request: string; response: string }> {
  const map = new Map<string, { request: string; response: string }>();
  const index = tree.get(CONTRACT_INDEX);
  if (index === undefined) return map;
  for (const statement of parse(CONTRACT_INDEX, index).statements) {
    if (!ts.isInterfaceDeclaration(statement) || statement.name.text !== 'Actions') continue;
    for (const member of statement.members) {
      if (!ts.isPropertySignature(member) || !member.type || !ts.isTypeLiteralNode(member.type)) continue;
      const key = nameText(member.name);
      const part = (which: string) => {
        const m =
          member.type && ts.isTypeLiteralNode(member.type)
            ? member.type.members.find((x) => x.name && nameText(x.name) === which)
            : undefined;
        return m && ts.isPropertySignature(m) && m.type ? m.type.getText() : '';
      };
      if (key !== undefined) map.set(key, { request: part('request'), response: part('response') });
    }
  }
  return map;
}

/** How each side uses the contract: the identifiers its files name, and (the client) the keys its callApi calls pass. */
function usesBySide(tree: Tree): Record<'cloud' | 'client', Set<string>> {
  const uses = { cloud: new Set<string>(), client: new Set<string>() };
  const actions = actionsMap(tree);
  for (const [path, source] of sourceFiles(tree)) {
    const side = sideOf(path);
    if (!side) continue;
    visit(parse(path, source), (node) => {
      if (ts.isIdentifier(node)) uses[side].add(node.text);
      if (
        side === 'client' &&
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'callApi'
      ) {
        const key = node.arguments[0];
        const entry = key && ts.isStringLiteralLike(key) ? actions.get(key.text) : undefined;
        if (entry) for (const name of [entry.request, entry.response]) uses.client.add(name);
      }
    });
  }
  return uses;
}

/** The contract's request and response types neither side uses. */
function unusedContractTypes(tree: Tree): string[] {
  const { cloud, client } = usesBySide(tree);
  return contractTypes(tree).filter((name) => !cloud.has(name) && !client.has(name));
}

/** The request types of the Actions map the cloud side never names (no operation types what it parses with it). */
function requestsNotParsed(tree: Tree): string[] {
  const { cloud } = usesBySide(tree);
  return [...actionsMap(tree)]
    .filter(([, { request }]) => !cloud.has(request))
    .map(([key, { request }]) => `${key}: ${request}`);
}

function resolveIn(tree: Tree, from: string, specifier: string): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  return [`${base}.ts`, `${base}/index.ts`].find((p) => tree.has(p));
}

interface FunctionRoutes {
  callable: boolean;
  /** byAction's keys; for a callable without byAction, the action its operation reads (`readEnum(obj, 'action', ['list'])`), or none */
  actions: string[];
}

/** What each function folder (index.ts and config.json) routes, read from its index.ts. */
function functionRoutes(tree: Tree): Map<string, FunctionRoutes> {
  const routes = new Map<string, FunctionRoutes>();
  for (const [path, source] of sourceFiles(tree)) {
    const match = /^cloudfunctions\/([^/]+)\/index\.ts$/.exec(path);
    if (!match || !tree.has(`cloudfunctions/${match[1]}/config.json`)) continue;
    const file = parse(path, source);
    let callable = false;
    let routed: string[] | undefined;
    visit(file, (node) => {
      if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression)) return;
      if (node.expression.text === 'callable') callable = true;
      const table = node.arguments[0];
      if (node.expression.text === 'byAction' && table && ts.isObjectLiteralExpression(table)) {
        routed = table.properties.flatMap((p) =>
          p.name &&
          (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) &&
          nameText(p.name) !== undefined
            ? [nameText(p.name)!]
            : [],
        );
      }
    });
    if (!routed) {
      // one operation: the action it checks, in the domain modules index.ts imports
      routed = [];
      for (const statement of file.statements) {
        if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
        const target = resolveIn(tree, path, statement.moduleSpecifier.text);
        if (!target?.startsWith('cloudfunctions/common/domain/')) continue;
        visit(parse(target, tree.get(target)!), (node) => {
          if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'readEnum')
            return;
          const [, key, values] = node.arguments;
          const list = values && ts.isAsExpression(values) ? values.expression : values;
          if (key && ts.isStringLiteral(key) && key.text === 'action' && list && ts.isArrayLiteralExpression(list)) {
            routed!.push(...list.elements.filter(ts.isStringLiteral).map((e) => e.text));
          }
        });
      }
    }
    routes.set(match[1]!, { callable, actions: routed });
  }
  return routes;
}

/** Keys of the Actions map that name no callable function, or an action it does not route (`login`: a function taking none). */
function keysNotRouted(tree: Tree): string[] {
  const routes = functionRoutes(tree);
  return [...actionsMap(tree).keys()].filter((key) => {
    const [fn, action, ...rest] = key.split('.');
    const route = routes.get(fn!);
    if (!route || !route.callable || rest.length > 0) return true;
    return action === undefined ? route.actions.length > 0 : !route.actions.includes(action);
  });
}

/** Actions a callable function routes that the Actions map lacks (and a callable taking no action, when its name is no key). */
function routesNotInContract(tree: Tree): string[] {
  const keys = new Set(actionsMap(tree).keys());
  return [...functionRoutes(tree)].flatMap(([fn, route]) => {
    if (!route.callable) return [];
    const wanted = route.actions.length ? route.actions.map((a) => `${fn}.${a}`) : [fn];
    return wanted.filter((k) => !keys.has(k));
  });
}

// ---- the repository ---------------------------------------------------------------------------------------------

describe('the contract (typings/api/) against both sides', () => {
  const tree = repositoryTree();

  test('the scan sees the contract, the Actions map, the functions and both sides', () => {
    expect([...tree.keys()].filter(isContract).sort()).toEqual(
      [
        'admin',
        'books',
        'catalog',
        'client-log',
        'errors',
        'fulfilment',
        'index',
        'login',
        'orders',
        'payment',
        'shapes',
        'staff',
      ].map((f) => `${CONTRACT_DIR}/${f}.ts`),
    );
    expect(contractTypes(tree)).toEqual(
      expect.arrayContaining(['ConfirmOrderRequest', 'ListOrdersResponse', 'LoginRequest', 'ClientLogResponse']),
    );
    expect(actionsMap(tree).get('orders.confirm')).toEqual({ request: 'ConfirmOrderRequest', response: 'OrderView' });
    const routes = functionRoutes(tree);
    expect(routes.get('orders')).toEqual({
      callable: true,
      actions: ['confirm', 'get', 'list', 'cancel', 'requestRefund'],
    });
    expect(routes.get('catalog')).toEqual({ callable: true, actions: ['list'] });
    expect(routes.get('clientLog')).toEqual({ callable: true, actions: ['report'] });
    expect(routes.get('login')).toEqual({ callable: true, actions: [] });
    expect(routes.get('books')).toEqual({ callable: false, actions: [] });
    expect(routes.has('common')).toBe(false);
    const { cloud, client } = usesBySide(tree);
    expect(cloud.has('parseConfirm')).toBe(true);
    expect(client.has('confirmOrder')).toBe(true);
    expect(client.has('ListExceptionsResponse')).toBe(true);
  });

  test('every request and response type is used by a side', () => {
    expect(unusedContractTypes(tree)).toEqual([]);
  });

  test('every request type of the Actions map is named on the cloud side (its operation parses into it)', () => {
    expect(requestsNotParsed(tree)).toEqual([]);
  });

  test('every key of the Actions map is an action a callable function routes', () => {
    expect(keysNotRouted(tree)).toEqual([]);
  });

  test('every action a callable function routes is in the Actions map', () => {
    expect(routesNotInContract(tree)).toEqual([]);
  });
});

// ---- negative controls ------------------------------------------------------------------------------------------

describe('the checks (negative controls, in memory)', () => {
  const index = `
    import type { UsedRequest, UsedResponse } from './x';
    export * from './x';
    export interface Actions {
      'orders.get': { request: UsedRequest; response: UsedResponse };
      'orders.nope': { request: UsedRequest; response: UsedResponse };
      'nowhere.list': { request: UsedRequest; response: UsedResponse };
      'books.run': { request: UsedRequest; response: UsedResponse };
      'login.login': { request: UsedRequest; response: UsedResponse };
      login: { request: UsedRequest; response: UsedResponse };
      'catalog.list': { request: ClientOnlyRequest; response: UsedResponse };
    }`;
  const contract = `
    export interface UnusedRequest { a: string }
    export type UnusedResponse = { b: number };
    export interface MentionedRequest { c: string }
    export interface UsedRequest { orderId: string }
    export interface UsedResponse { ok: boolean }
    export interface ClientOnlyRequest { d: string }
    export interface ByKeyResponse { e: string }
    export interface NotAType { f: string }
    interface LocalRequest { g: string }`;
  const tree: Tree = new Map([
    [CONTRACT_INDEX, index],
    [`${CONTRACT_DIR}/x.ts`, contract],
    [
      'cloudfunctions/orders/index.ts',
      "import { byAction, callable } from '../common/runtime/handler';\nexport const main = callable(rt, byAction<unknown>({ get: getOrder, list }));",
    ],
    ['cloudfunctions/orders/config.json', '{}'],
    [
      'cloudfunctions/catalog/index.ts',
      "import { listCatalog } from '../common/domain/catalog';\nexport const main = callable(rt, (d, _c, e) => listCatalog(d, e));",
    ],
    ['cloudfunctions/catalog/config.json', '{}'],
    [
      'cloudfunctions/common/domain/catalog.ts',
      "export function listCatalog(obj) { readEnum(obj, 'action', ['list'] as const); }",
    ],
    [
      'cloudfunctions/login/index.ts',
      "import { login } from '../common/domain/users';\nexport const main = callable(rt, login);",
    ],
    ['cloudfunctions/login/config.json', '{}'],
    [
      'cloudfunctions/common/domain/users.ts',
      "export function login(obj: UsedRequest): UsedResponse { readString(obj, 'code'); }",
    ],
    ['cloudfunctions/books/index.ts', 'export const main = timer(rt, run);'],
    ['cloudfunctions/books/config.json', '{}'],
    // a folder without config.json is no function
    ['cloudfunctions/nowhere/index.ts', 'export const main = callable(rt, byAction({ list }));'],
    [
      'miniprogram/services/x.ts',
      "// MentionedRequest in a comment\nconst s = 'MentionedRequest';\nexport const f = (r: ClientOnlyRequest) => callApi('orders.get', { orderId: 'x' });",
    ],
    ['test/x.ts', 'export type T = UnusedRequest;'],
    [`${CONTRACT_DIR}/y.ts`, 'export type Z = UnusedResponse;'],
  ]);

  test('an exported request or response no side names is reported, even when a comment, a string, a test or the contract names it', () => {
    expect(contractTypes(tree)).toEqual([
      'ByKeyResponse',
      'ClientOnlyRequest',
      'MentionedRequest',
      'UnusedRequest',
      'UnusedResponse',
      'UsedRequest',
      'UsedResponse',
    ]);
    expect(unusedContractTypes(tree)).toEqual(['ByKeyResponse', 'MentionedRequest', 'UnusedRequest', 'UnusedResponse']);
  });

  test('a callApi key uses its request and response on the client', () => {
    const withCall = new Map(tree).set(
      'miniprogram/services/y.ts',
      "callApi('orders.nope', {});\nnotCallApi('catalog.list', {});",
    );
    const uses = usesBySide(withCall).client;
    expect(uses.has('UsedRequest') && uses.has('UsedResponse')).toBe(true);
    const byKey = new Map(withCall).set(
      CONTRACT_INDEX,
      index.replace(
        "'orders.nope': { request: UsedRequest; response: UsedResponse }",
        "'orders.nope': { request: UsedRequest; response: ByKeyResponse }",
      ),
    );
    expect(unusedContractTypes(byKey)).toEqual(['MentionedRequest', 'UnusedRequest', 'UnusedResponse']);
  });

  test('a request the cloud side never names is reported by its key', () => {
    expect(requestsNotParsed(tree)).toEqual(['catalog.list: ClientOnlyRequest']);
  });

  test('keys naming a missing function, an action not routed, a timer, or an action of a function taking none are reported', () => {
    expect(functionRoutes(tree)).toEqual(
      new Map([
        ['orders', { callable: true, actions: ['get', 'list'] }],
        ['catalog', { callable: true, actions: ['list'] }],
        ['login', { callable: true, actions: [] }],
        ['books', { callable: false, actions: [] }],
      ]),
    );
    expect(keysNotRouted(tree)).toEqual(['orders.nope', 'nowhere.list', 'books.run', 'login.login']);
  });

  test('an action routed but missing from the map is reported, and so is a callable taking none whose name is no key', () => {
    expect(routesNotInContract(tree)).toEqual(['orders.list']);
    const noLogin = new Map(tree).set(
      CONTRACT_INDEX,
      index.replace('      login: { request: UsedRequest; response: UsedResponse };\n', ''),
    );
    expect(routesNotInContract(noLogin)).toEqual(['orders.list', 'login']);
  });
});

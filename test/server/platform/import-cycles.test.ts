/**
 * No import cycles under cloudfunctions/. Every .ts file is parsed with TypeScript's own parser; each static
 * `import … from`, `import type … from`, `import '…'`, `import x = require('…')` and `export … from` with a relative
 * specifier is an edge to the file it resolves to. Type-only edges count: a cycle of types still couples the modules
 * (they can no longer be understood, changed or moved one at a time). Cycles are found with a depth-first search and
 * listed one per line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../../..');
const SCANNED = join(ROOT, 'cloudfunctions');

/** The module specifiers a source file imports or re-exports statically, type-only ones included. */
function staticSpecifiers(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  for (const statement of file.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      specifiers.push(statement.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      ts.isStringLiteral(statement.moduleReference.expression)
    ) {
      specifiers.push(statement.moduleReference.expression.text);
    }
  }
  return specifiers;
}

/** A relative specifier → the file it names (`x.ts`, `x/index.ts`, or `x.js` written for `x.ts`), or undefined. */
function resolveRelative(fromFile: string, specifier: string, exists: (path: string) => boolean): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base, `${base}.ts`, join(base, 'index.ts')];
  if (/\.[cm]?js$/.test(base)) candidates.unshift(base.replace(/\.([cm]?)js$/, '.$1ts'));
  return candidates.find((c) => c.endsWith('.ts') && exists(c));
}

type Graph = Map<string, string[]>;

/** The cycles a depth-first search closes (one per back edge, so at least one in every tangle), each once, rotated to start at its smallest node. */
function findCycles(graph: Graph): string[][] {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = rotated.join(' → ');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(rotated);
        }
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFilesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The import graph of the files under `dir`, following relative imports into any file they reach (typings/ too). */
function importGraph(dir: string): { graph: Graph; unresolved: string[] } {
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  const pending = tsFilesUnder(dir);
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const edges: string[] = [];
    graph.set(file, edges);
    for (const specifier of staticSpecifiers(file, readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue; // packages and node built-ins cannot import our files
      const target = resolveRelative(file, specifier, isFile);
      if (!target) {
        unresolved.push(`${relative(ROOT, file)}: ${specifier}`);
        continue;
      }
      edges.push(target);
      if (!graph.has(target)) pending.push(target);
    }
  }
  return { graph, unresolved };
}

const show = (cycle: string[]) => [...cycle, cycle[0]!].map((f) => relative(ROOT, f)).join(' → ');

describe('import cycles under cloudfunctions/', () => {
  const { graph, unresolved } = importGraph(SCANNED);
  const rel = (f: string) => relative(ROOT, f);

  test('every relative import resolves to a file (an edge the scan cannot see would hide a cycle)', () => {
    expect(unresolved).toEqual([]);
  });

  test('the scan sees the tree: every function, the domain, and type-only edges', () => {
    const files = [...graph.keys()].map(rel);
    expect(files.filter((f) => f.startsWith('cloudfunctions/')).length).toBe(tsFilesUnder(SCANNED).length);
    expect(files).toEqual(
      expect.arrayContaining([
        'cloudfunctions/payNotify/index.ts',
        'cloudfunctions/common/domain/money/refunds.ts',
        'typings/api/index.ts',
      ]),
    );
    const edgesOf = (f: string) => (graph.get(join(ROOT, f)) ?? []).map(rel);
    // a value import
    expect(edgesOf('cloudfunctions/common/domain/money/settlement.ts')).toContain(
      'cloudfunctions/common/domain/money/refunds.ts',
    );
    // type-only imports count
    expect(edgesOf('cloudfunctions/common/domain/deps.ts')).toEqual(
      expect.arrayContaining([
        'cloudfunctions/common/wechatpay/index.ts',
        'cloudfunctions/common/store/store.ts',
        'cloudfunctions/common/domain/config.ts',
      ]),
    );
    // re-exports count
    expect(edgesOf('cloudfunctions/common/wechatpay/index.ts')).toContain('cloudfunctions/common/wechatpay/errors.ts');
  });

  test('there is none', () => {
    expect(findCycles(graph).map(show)).toEqual([]);
  });
});

describe('the detector (negative controls)', () => {
  test('finds a cycle in a small in-memory graph, each cycle once, and none in a DAG', () => {
    const graph: Graph = new Map([
      ['orders', ['payments', 'records']],
      ['payments', ['refunds', 'records']],
      ['refunds', ['orders', 'records']],
      ['records', []],
      ['self', ['self']],
      ['a', ['b']],
      ['b', ['a']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b'], ['orders', 'payments', 'refunds'], ['self']]);
    const dag: Graph = new Map([
      ['orders', ['records', 'table']],
      ['payments', ['records', 'table']],
      ['refunds', ['records', 'table']],
      ['settlement', ['refunds', 'records']],
      ['records', ['table']],
      ['table', []],
    ]);
    expect(findCycles(dag)).toEqual([]);
  });

  test('a cycle made only of `import type` and `export … from` is found from source text', () => {
    const sources: Record<string, string> = {
      '/m/orders.ts': "import type { PaymentDoc } from './payments';\nexport const x = 1;",
      '/m/payments.ts': "export { refund } from './refunds';\nexport interface PaymentDoc { id: string }",
      '/m/refunds.ts':
        "import { type OrderDoc } from './orders.js';\nimport { readFileSync } from 'node:fs';\nexport const refund = 1;",
      '/m/leaf.ts': "import './orders';",
    };
    const graph: Graph = new Map();
    for (const [file, source] of Object.entries(sources)) {
      graph.set(
        file,
        staticSpecifiers(file, source)
          .filter((s) => s.startsWith('.'))
          .map((s) => resolveRelative(file, s, (p) => p in sources)!),
      );
    }
    expect(graph.get('/m/leaf.ts')).toEqual(['/m/orders.ts']);
    expect(findCycles(graph)).toEqual([['/m/orders.ts', '/m/payments.ts', '/m/refunds.ts']]);
  });

  test('comments and strings that look like imports are not edges', () => {
    const source =
      "// import { a } from './a';\nconst s = \"import b from './b'\";\n/* export * from './c' */\nexport const t = `from './d'`;";
    expect(staticSpecifiers('/m/x.ts', source)).toEqual([]);
  });
});

// ---- layers: the domain's kernel and its concern folders ----------------------------------------------------------

const DOMAIN = join(ROOT, 'cloudfunctions/common/domain');

/** The concern folder a file lies in (`orders` for domain/orders/x.ts), '' for the kernel (domain/x.ts), undefined outside the domain. */
function concernOf(file: string, domain = DOMAIN): string | undefined {
  const rel = relative(domain, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(/[\\/]/);
  return parts.length === 1 ? '' : parts[0];
}

/** Kernel files that import a concern folder, as `kernel → concern file` lines. */
function kernelBreaches(graph: Graph, domain = DOMAIN): string[] {
  const out: string[] = [];
  for (const [file, edges] of graph) {
    if (concernOf(file, domain) !== '') continue;
    for (const target of edges)
      if (concernOf(target, domain)) out.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
  }
  return out.sort();
}

/** The graph of concern folders: an edge a → b when a file of a imports a file of b. */
function concernGraph(graph: Graph, domain = DOMAIN): Graph {
  const folders: Graph = new Map();
  for (const [file, edges] of graph) {
    const from = concernOf(file, domain);
    if (!from) continue;
    const targets = folders.get(from) ?? [];
    folders.set(from, targets);
    for (const target of edges) {
      const to = concernOf(target, domain);
      if (to && to !== from && !targets.includes(to)) targets.push(to);
    }
  }
  return folders;
}

describe('layers', () => {
  const { graph } = importGraph(SCANNED);

  test('the domain kernel (the files at the root of domain/) imports no concern folder', () => {
    expect(kernelBreaches(graph)).toEqual([]);
  });

  test('no two concern folders import each other, directly or in a loop', () => {
    const folders = concernGraph(graph);
    expect([...folders.keys()].sort()).toEqual(
      expect.arrayContaining(['admin', 'attention', 'books', 'money', 'orders']),
    );
    expect(findCycles(folders).map((c) => [...c, c[0]].join(' → '))).toEqual([]);
  });

  test('the WeChat Pay protocol module imports only itself (node built-ins aside)', () => {
    const protocol = join(ROOT, 'cloudfunctions/common/wechatpay');
    const outside = [...graph].flatMap(([file, edges]) =>
      file.startsWith(protocol)
        ? edges.filter((t) => !t.startsWith(protocol)).map((t) => `${rel(file)} → ${rel(t)}`)
        : [],
    );
    expect(outside).toEqual([]);
  });

  test("the platform's HTTP shapes (common/http.ts) are the ground floor: they import nothing", () => {
    const http = join(ROOT, 'cloudfunctions/common/http.ts');
    expect(graph.has(http)).toBe(true);
    expect(staticSpecifiers(http, readFileSync(http, 'utf8'))).toEqual([]);
  });

  test('nothing under cloudfunctions/ or localcloud/ reaches scripts/ (starting the cloud never loads the build tool)', () => {
    const scripts = join(ROOT, 'scripts');
    const local = importGraph(join(ROOT, 'localcloud')).graph;
    const reach = [...graph, ...local]
      .filter(([file]) => !file.startsWith(scripts))
      .flatMap(([file, edges]) => edges.filter((t) => t.startsWith(scripts)).map((t) => `${rel(file)} → ${rel(t)}`));
    expect(reach).toEqual([]);
  });

  test('negative controls: a kernel file importing a folder, and a loop between two folders, are both found', () => {
    const d = '/d';
    const g: Graph = new Map([
      ['/d/records.ts', ['/d/money/refund-table.ts']],
      ['/d/money/refund-table.ts', []],
      ['/d/money/payments.ts', ['/d/orders/orders.ts', '/d/records.ts']],
      ['/d/orders/orders.ts', ['/d/money/payments.ts']],
      ['/d/books/books.ts', ['/d/money/payments.ts']],
    ]);
    expect(kernelBreaches(g, d)).toEqual([
      `${relative(ROOT, '/d/records.ts')} → ${relative(ROOT, '/d/money/refund-table.ts')}`,
    ]);
    expect(findCycles(concernGraph(g, d))).toEqual([['money', 'orders']]);
  });
});

const rel = (f: string) => relative(ROOT, f);

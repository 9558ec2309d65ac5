/**
 * Import cycles in the sources: every file-level cycle under src/ (relative imports only,
 * `import type` included since layering is about types too), and with --folders the
 * cycles among the folders directly under src/server (e.g. rooms -> realtime -> rooms).
 *
 *   tsx scripts/check-import-cycles.ts [--folders] [--runtime-only] [--root <dir>]
 *
 * Prints each cycle and exits 1 if there is one, else exits 0. `npm run lint` runs it
 * with --folders.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One import of a file: the file it resolves to and whether it is erased at run time. */
export interface ImportEdge {
  to: string;
  typeOnly: boolean;
}

/** File (absolute path) -> the source files under the root it imports, in source order. */
export type ImportGraph = Map<string, ImportEdge[]>;

/** A directed graph by name, for findCycles: node -> the nodes it points to. */
export type Graph = ReadonlyMap<string, Iterable<string>>;

const SOURCE = /\.(ts|tsx|mts|cts)$/;

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') files.push(...sourceFiles(path));
    } else if (SOURCE.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/**
 * Where a relative specifier leads, as NodeNext resolves the sources: `./x.js` is
 * `./x.ts` or `./x.tsx` (`.mjs`/`.cjs` likewise), `./x` may be `./x.ts` or `./x/index.ts`.
 * Undefined for bare specifiers (packages, node:) and for files that are not sources.
 */
export function resolveImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../') && specifier !== '.' && specifier !== '..') return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const candidates: string[] = [];
  const js = /\.(m|c)?jsx?$/.exec(base);
  if (js) {
    const stem = base.slice(0, -js[0].length);
    const m = js[1] ?? '';
    candidates.push(`${stem}.${m}ts`, ...(m === '' ? [`${stem}.tsx`] : []));
  }
  candidates.push(base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx'));
  return candidates.find((path) => SOURCE.test(path) && isFile(path));
}

/** The module specifiers of a file: imports, re-exports, import() and `typeof import()` types. */
export function importsOf(fileName: string, text: string): { specifier: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      // `import type …`, or `import { type A, type B }` (erased: no default, every name a type).
      const named = clause?.namedBindings;
      const allNamedTypes =
        !!clause && !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: !!clause && (clause.isTypeOnly || allNamedTypes) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const allNamedTypes = !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || allNamedTypes });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push({ specifier: expression.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) found.push({ specifier: argument.text, typeOnly: false });
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) found.push({ specifier: argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every source file under rootDir and the source files under rootDir it imports. */
export function buildImportGraph(rootDir: string): ImportGraph {
  const root = resolve(rootDir);
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root).sort()) {
    const edges: ImportEdge[] = [];
    for (const { specifier, typeOnly } of importsOf(file, readFileSync(file, 'utf8'))) {
      const to = resolveImport(file, specifier);
      if (to && !relative(root, to).startsWith('..')) edges.push({ to, typeOnly });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** The graph as names -> names; with runtimeOnly, imports erased at run time are left out. */
export function edgesOf(graph: ImportGraph, options: { runtimeOnly?: boolean } = {}): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const [from, imports] of graph) {
    edges.set(from, [...new Set(imports.filter((edge) => !(options.runtimeOnly && edge.typeOnly)).map((edge) => edge.to))]);
  }
  return edges;
}

/** Strongly connected components (Tarjan), each one's nodes sorted. */
function components(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  let next = 0;
  const targets = (node: string) => [...(graph.get(node) ?? [])];
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of targets(node)) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      result.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return result;
}

/**
 * Every elementary cycle of the graph, each as its nodes in import order starting from its
 * smallest node (a -> b -> a is ['a', 'b']; a file importing itself is ['a']). Sorted, and
 * at most `limit` of them (a tangle of many files has too many to list).
 */
export function findCycles(graph: Graph, limit = 1000): string[][] {
  const cycles: string[][] = [];
  for (const component of components(graph)) {
    const members = new Set(component);
    const targets = (node: string) => [...new Set(graph.get(node) ?? [])].filter((to) => members.has(to)).sort();
    if (component.length === 1 && !targets(component[0]!).includes(component[0]!)) continue;
    // Each cycle once: from its smallest node, through larger nodes only.
    for (const start of component) {
      const path = [start];
      const onPath = new Set(path);
      const walk = (node: string): void => {
        for (const to of targets(node)) {
          if (cycles.length >= limit) return;
          if (to === start) cycles.push([...path]);
          else if (to > start && !onPath.has(to)) {
            path.push(to);
            onPath.add(to);
            walk(to);
            path.pop();
            onPath.delete(to);
          }
        }
      };
      walk(start);
    }
  }
  return cycles.sort((a, b) => a.join('\0').localeCompare(b.join('\0')));
}

/**
 * The folders directly under `dir` as a graph: folder A -> folder B when a file under A
 * imports a file under B. Files directly in `dir` (the composition root) are not in a folder.
 * `witnesses` names, for each folder edge, the file imports that make it.
 */
export function folderGraph(graph: ImportGraph, dir: string, options: { runtimeOnly?: boolean } = {}) {
  const root = resolve(dir);
  const folderOf = (file: string): string | undefined => {
    const parts = relative(root, file).split(sep);
    return parts.length > 1 && parts[0] !== '..' ? parts[0] : undefined;
  };
  const folders = new Map<string, Set<string>>();
  const witnesses = new Map<string, [string, string][]>();
  for (const [from, targets] of edgesOf(graph, options)) {
    const a = folderOf(from);
    if (!a) continue;
    if (!folders.has(a)) folders.set(a, new Set());
    for (const to of targets) {
      const b = folderOf(to);
      if (!b || b === a) continue;
      folders.get(a)!.add(b);
      const key = `${a} -> ${b}`;
      witnesses.set(key, [...(witnesses.get(key) ?? []), [from, to]]);
    }
  }
  return { graph: folders as Graph, witnesses };
}

const show = (cycle: readonly string[], name: (node: string) => string) => [...cycle, cycle[0]!].map(name).join(' -> ');

/** The check: the lines to print and whether it found a cycle. */
export function checkImportCycles(options: { root: string; folders?: boolean; runtimeOnly?: boolean }): { ok: boolean; lines: string[] } {
  const root = resolve(options.root);
  const graph = buildImportGraph(root);
  const name = (file: string) => relative(process.cwd(), file);
  const lines: string[] = [];
  const kind = options.runtimeOnly ? 'run-time import' : 'import';

  const fileCycles = findCycles(edgesOf(graph, options));
  if (fileCycles.length > 0) {
    lines.push(`${fileCycles.length} file-level ${kind} cycle(s) in ${name(root) || '.'}:`);
    for (const cycle of fileCycles) lines.push(`  ${show(cycle, name)}`);
  }

  let folderCycles: string[][] = [];
  if (options.folders) {
    const server = join(root, 'server');
    const folders = folderGraph(graph, server, options);
    folderCycles = findCycles(folders.graph);
    if (folderCycles.length > 0) {
      lines.push(`${folderCycles.length} folder-level ${kind} cycle(s) among the folders of ${name(server)}:`);
      for (const cycle of folderCycles) {
        lines.push(`  ${show(cycle, (folder) => folder)}`);
        cycle.forEach((a, i) => {
          const b = cycle[(i + 1) % cycle.length]!;
          for (const [from, to] of folders.witnesses.get(`${a} -> ${b}`) ?? []) lines.push(`      ${a} -> ${b}: ${relative(server, from)} imports ${relative(server, to)}`);
        });
      }
    }
  }

  const ok = fileCycles.length === 0 && folderCycles.length === 0;
  if (ok) lines.push(`No ${options.folders ? 'file- or folder-level' : 'file-level'} ${kind} cycles in ${name(root) || '.'} (${graph.size} files).`);
  return { ok, lines };
}

function main(argv: string[]): number {
  let root = 'src';
  let folders = false;
  let runtimeOnly = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--folders') folders = true;
    else if (arg === '--runtime-only') runtimeOnly = true;
    else if (arg === '--root' && argv[i + 1]) root = argv[(i += 1)]!;
    else {
      console.error(`unknown argument ${arg}\nusage: tsx scripts/check-import-cycles.ts [--folders] [--runtime-only] [--root <dir>]`);
      return 2;
    }
  }
  const { ok, lines } = checkImportCycles({ root, folders, runtimeOnly });
  (ok ? console.log : console.error)(lines.join('\n'));
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The controller's folder rules: each top-level folder under src/ is one Nest module
 * (`<folder>/<folder>.module.ts`, the only module other folders' modules import), folders depend on each
 * other in one direction only (no cycle), and only platform/ may be @Global().
 * Reads the sources (src/, beside dist/), not the compiled output; spec files are left out.
 */

const SRC = resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    const isSource = entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts');
    return isSource && !/\.(integration-)?spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** The top-level folder of a file under src/, or undefined for the files at the root (main.ts, app.module.ts). */
function folderOf(file: string): string | undefined {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** Relative module specifiers of `import`/`export ... from` statements and dynamic imports. */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]*)['"]/g;
  for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** Folder → folders it imports from (its own folder and the root left out). */
export function folderGraph(files: string[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(resolve(dirname(file), spec));
      if (to !== undefined && to !== from) edges.add(to);
    }
  }
  return graph;
}

/** One cycle of the graph as a path `a -> b -> a`, or undefined when there is none. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('the cycle finder sees a loop and prints it, and passes a one-way graph', () => {
  const loop = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
  assert.deepEqual(findCycle(loop), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', new Set(['b'])], ['b', new Set<string>()]])), undefined);
  assert.deepEqual(relativeImports(`import { X } from '../apps/x';\nexport * from "./y";\nimport type { Z } from '@paas/contracts';`), ['../apps/x', './y']);
});

test('the controller folders import each other in one direction only', () => {
  const graph = folderGraph(sourceFiles(SRC));
  assert.ok(graph.size > 5, `found only ${graph.size} folders under ${SRC}`);
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `folder import cycle: ${cycle?.join(' -> ')}`);
});

test('only platform/ declares a @Global() module', () => {
  const globals = sourceFiles(SRC)
    .filter((file) => /@Global\(\)/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(SRC, file))
    .filter((file) => folderOf(join(SRC, file)) !== 'platform');
  assert.deepEqual(globals, [], `@Global() outside platform/: ${globals.join(', ')}`);
});

test('each folder is one Nest module: <folder>/<folder>.module.ts, the only module other folders\' modules import', () => {
  const files = sourceFiles(SRC);
  const folders = new Set(files.map(folderOf).filter((f): f is string => f !== undefined && f !== 'testing'));
  const missing = [...folders].filter((folder) => !files.includes(join(SRC, folder, `${folder}.module.ts`)));
  assert.deepEqual(missing, [], `folders without their <folder>.module.ts: ${missing.join(', ')}`);
  const reachingIn: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.module.ts'))) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      const folder = folderOf(target);
      if (!target.endsWith('.module') || folder === undefined || folder === folderOf(file)) continue;
      if (target !== join(SRC, folder, `${folder}.module`)) reachingIn.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(reachingIn, [], `modules imported past their folder's module: ${reachingIn.join('; ')}`);
});

/** True when the source reaches Postgres itself: injects PrismaService or opens a transaction or raw query. */
export function usesPrisma(text: string): boolean {
  return /\bPrismaService\b|\$(queryRaw|executeRaw|transaction)\b|\.(queryRawUnsafe|executeRawUnsafe)\(/.test(text);
}

/**
 * Where Prisma may be used: the repositories (named by what their queries mean), the app row lock,
 * the database platform (and the platform module that provides it), and the test harness.
 */
function mayUsePrisma(file: string): boolean {
  const path = relative(SRC, file).split(sep).join('/');
  return (
    path.endsWith('.repository.ts') ||
    path === 'apps/app-lock.ts' ||
    path.startsWith('platform/database/') ||
    path === 'platform/platform.module.ts' ||
    path === 'testing/controller-harness.ts'
  );
}

test('the Prisma detector sees an injected PrismaService, a transaction and a raw query, and passes a repository call', () => {
  assert.ok(usesPrisma('constructor(private readonly prisma: PrismaService) {}'));
  assert.ok(usesPrisma('return this.db.$transaction(async (tx) => work(tx));'));
  assert.ok(usesPrisma('await tx.$queryRaw`SELECT 1`;'));
  assert.ok(!usesPrisma('await this.apps.withLock(app.id, async (tx) => this.releases.get(id, tx));'));
});

test('only repositories, the app lock, platform/database and the test harness use Prisma', () => {
  const files = sourceFiles(SRC).filter((file) => folderOf(file) !== 'generated');
  assert.ok(files.some((file) => mayUsePrisma(file) && usesPrisma(readFileSync(file, 'utf8'))), 'found no repository using Prisma');
  const outside = files.filter((file) => !mayUsePrisma(file) && usesPrisma(readFileSync(file, 'utf8'))).map((file) => relative(SRC, file));
  assert.deepEqual(outside, [], `Prisma used outside a repository: ${outside.join(', ')}; move the queries into the module's *.repository.ts`);
});

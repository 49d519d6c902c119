/**
 * A small import scanner over src/: every module specifier of every .ts file
 * (static imports and exports, `import type`, `import()` and `typeof
 * import()` types), read with TypeScript's own pre-processor, so comments and
 * strings are never mistaken for imports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';

/** One import: the importing file and what it names, both relative to the scanned root (`core/policy.ts`). */
export interface ImportEdge {
  readonly from: string;
  /** The specifier as written (`../health/x.js`, `node:fs`, `undici`). */
  readonly specifier: string;
  /** For a relative specifier: the file it names, as a `.ts` path relative to the root; undefined for a package. */
  readonly target: string | undefined;
}

/** The root's source files, as paths relative to it with `/` separators, sorted. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(posix.join(root, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk('');
  return out.sort();
}

/** The module specifiers of one file's text. */
export function specifiersOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return [...new Set(info.importedFiles.map((file) => file.fileName))];
}

/** Every import of every source file under `root` (a directory path). */
export function scanImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(posix.join(root, file), 'utf8');
    for (const specifier of specifiersOf(text)) {
      const target = specifier.startsWith('.')
        ? posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts')
        : undefined;
      edges.push({ from: file, specifier, target });
    }
  }
  return edges;
}

/** The top folder of a path relative to the root (`core` for `core/policy.ts`; `''` for `index.ts`). */
export function folderOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/** The package an import names (`@grpc/grpc-js` for `@grpc/grpc-js/build/x`, `undici` for `undici`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/**
 * The import cycles among `files` (each an array of the files in one
 * strongly connected component, sorted), found with Tarjan's algorithm over
 * the relative imports between them.
 */
export function cyclesAmong(edges: readonly ImportEdge[], files: readonly string[]): string[][] {
  const inside = new Set(files);
  const next = new Map<string, string[]>(files.map((file) => [file, []]));
  for (const edge of edges) {
    if (edge.target !== undefined && inside.has(edge.from) && inside.has(edge.target)) next.get(edge.from)?.push(edge.target);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfImport = next.get(file)?.includes(file) ?? false;
    if (component.length > 1 || selfImport) cycles.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

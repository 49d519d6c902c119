// Type-checks Markdown ```ts blocks: each block becomes one module in a scratch
// directory inside the repo (so the repo's node_modules resolve), `meshkit` and
// its subpaths are mapped onto src/ (read from package.json `exports`), and one
// strict tsc run checks them all. Errors come back as `file.md:line:col`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CodeBlock } from './markdown.js';

/**
 * Placeholders the docs may use without declaring them: the reader's own RPC
 * function and request types. Kept small on purpose; everything else a block
 * uses it imports or declares itself.
 */
export const SNIPPET_PRELUDE = `// Placeholders for the docs type-check: the reader's own code.
declare global {
  /** The reader's RPC function (gRPC, Thrift, a driver): called with the picked endpoint and the attempt's signal. */
  function myRpc(host: string, port: number, options: { signal: AbortSignal }): Promise<unknown>;
}
export {};
`;

/** The options every block is checked under: what a strict ESM TypeScript project on Node uses. */
export const SNIPPET_COMPILER_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2023', 'ESNext.Disposable'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
} as const;

/** `paths` for tsconfig: every `exports` subpath of package.json onto its source under src/ (dist/x/index.d.ts -> src/x/index.ts). */
export function sourcePaths(repo: string): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, string | { types?: string }> };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || target.types === undefined) continue;
    const source = target.types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
    paths[subpath === '.' ? 'meshkit' : `meshkit/${subpath.replace(/^\.\//, '')}`] = [join(repo, source)];
  }
  return paths;
}

/** One compiler diagnostic, located in the Markdown when it falls inside a block. */
export interface SnippetDiagnostic {
  /** `docs/calls.md:42:7` for a block, else tsc's own location. */
  readonly where: string;
  /** `TS2345: Argument of type ...` with continuation lines. */
  readonly message: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && err.killed) reject(new Error(`${cmd} ${args.join(' ')} killed after 120 s`));
      else resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Writes `blocks` as modules under `dir` (emptied first) and type-checks them
 * with the repo's TypeScript. Resolves with every diagnostic (empty when all
 * compile); rejects only when tsc itself cannot run.
 */
export async function checkSnippets(repo: string, dir: string, blocks: readonly CodeBlock[]): Promise<SnippetDiagnostic[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const byName = new Map<string, CodeBlock>();
  const names: string[] = [];
  for (const block of blocks) {
    const name = `${block.file.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.ts`;
    byName.set(name, block);
    names.push(name);
    // `export {}` makes every block a module: its own scope, and top-level await.
    await writeFile(join(dir, name), `${block.code}\nexport {};\n`);
  }
  await writeFile(join(dir, 'prelude.d.ts'), SNIPPET_PRELUDE);
  const tsconfig = { compilerOptions: { ...SNIPPET_COMPILER_OPTIONS, paths: sourcePaths(repo) }, files: ['prelude.d.ts', ...names] };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));

  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  const out = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], dir);
  const diagnostics: SnippetDiagnostic[] = [];
  for (const line of `${out.stdout}\n${out.stderr}`.split('\n')) {
    const located = /^(.*?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (located) {
      const [, path = '', row = '0', col = '0', message = ''] = located;
      const block = byName.get(path.replace(/^.*[\\/]/, ''));
      const where = block ? `${block.file}:${block.line + Number(row) - 1}:${col}` : `${path}:${row}:${col}`;
      diagnostics.push({ where, message });
    } else if (/^error TS\d+/.test(line)) {
      diagnostics.push({ where: 'tsc', message: line });
    } else if (line.startsWith(' ') && diagnostics.length > 0) {
      const last = diagnostics.pop() as SnippetDiagnostic;
      diagnostics.push({ where: last.where, message: `${last.message}\n${line}` });
    }
  }
  if (out.code !== 0 && diagnostics.length === 0) diagnostics.push({ where: 'tsc', message: `exit ${out.code}\n${out.stdout}${out.stderr}` });
  return diagnostics;
}

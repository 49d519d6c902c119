// The TypeScript settings a consumer project may use, and the consumer file
// the packaging test type-checks under each: it imports every subpath of the
// package's `exports` (read at test time, so a new subpath is covered without
// touching this file) and uses a few public types.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One consumer project setting of the compile matrix. */
export interface ConsumerSetting {
  /** Names the scratch directory and the test. */
  readonly name: string;
  /** The consumer's package.json `type`: how Node and TypeScript read its .ts files. */
  readonly packageType: 'module' | 'commonjs';
  /** compilerOptions of the consumer's tsconfig.json (on top of strict, target, types and skipLibCheck). */
  readonly compilerOptions: Readonly<Record<string, string>>;
}

/**
 * The settings users run: the Node-aware modes, bundlers, and the classic
 * `commonjs` + `node` pair (TypeScript's `node10` resolution, which ignores
 * `exports` and finds subpath types through `typesVersions`). A CommonJS
 * project on `nodenext` may import the ESM-only package too (TypeScript 5.8+
 * models Node's require(esm)); on `node16` it must use `await import()`.
 */
export const CONSUMER_SETTINGS: readonly ConsumerSetting[] = [
  { name: 'nodenext', packageType: 'module', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  { name: 'node16', packageType: 'module', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
  { name: 'bundler', packageType: 'module', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
  { name: 'commonjs-node', packageType: 'commonjs', compilerOptions: { module: 'commonjs', moduleResolution: 'node' } },
  { name: 'commonjs-nodenext', packageType: 'commonjs', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
];

/** The import specifiers of every subpath in package.json `exports` (`meshkit`, `meshkit/consul`, ...), `./package.json` aside. */
export function exportedSubpaths(repo: string): string[] {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  return Object.keys(pkg.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? 'meshkit' : `meshkit/${subpath.replace(/^\.\//, '')}`));
}

/**
 * A consumer file valid as ESM and as CommonJS (no top-level await): a
 * namespace import per subpath, each proven typed (a missing member must be
 * an error, so a subpath whose types degrade to `any` fails the
 * `@ts-expect-error`), and a few calls through the public types.
 */
export function consumerSource(subpaths: readonly string[]): string {
  const local = (specifier: string): string => `ns_${specifier.replace(/[^A-Za-z0-9]/g, '_')}`;
  const imports = subpaths.map((s) => `import * as ${local(s)} from '${s}';`).join('\n');
  const typed = subpaths.map((s) => `// @ts-expect-error ${s} has real declarations: no such export\nvoid ${local(s)}.__notAnExport__;`).join('\n');
  return `${imports}
import { client, isMeshkitError, type Client, type MeshkitErrorCode } from 'meshkit';

${typed}

export async function main(): Promise<number> {
  const c: Client = client('smoke').endpoints(['127.0.0.1:1']).timeout({ total: '1s' }).build();
  try {
    const res = await c.request({ path: '/hello' });
    const text: string = await res.body.text();
    return res.statusCode + text.length;
  } catch (err) {
    if (isMeshkitError(err, 'ERR_UPSTREAM')) return err.attempts ?? 0;
    throw err;
  } finally {
    await c.close();
  }
}

export const code: MeshkitErrorCode = 'ERR_TIMEOUT';
// @ts-expect-error not an error code
export const bad: MeshkitErrorCode = 'ERR_NOT_A_CODE';
// @ts-expect-error endpoints takes a list
client('smoke').endpoints(42);
`;
}

/**
 * The direction of imports in src/ (see docs/architecture.md, "Layers"):
 * - `core/` is the floor: it imports only from `core/` (and packages);
 * - the core folders never import an integration: no meshkit integration
 *   folder, and no optional peer package (with the one reasoned exception);
 * - `core/` has no import cycles (type-only imports included).
 * Every folder under src/ must be placed in one of the lists below, so a new
 * folder is a decision, not an accident.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { cyclesAmong, folderOf, packageOf, scanImports, sourceFiles, type ImportEdge } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** The mesh itself: what every client runs, whatever it integrates with. */
const CORE_FOLDERS = ['core', 'client', 'attempts', 'balancing', 'breaker', 'discovery', 'health', 'policies', 'transports', 'server', 'security'] as const;

/** Integrations, each its own subpath export, loaded only by applications that use them. */
const INTEGRATION_FOLDERS = ['express', 'fastify', 'got', 'grpc', 'otel', 'status', 'consul', 'etcd', 'dns', 'dispatcher'] as const;

/** Folders that are neither: they may import anything, and nothing in the core folders depends on them. */
const OTHER_FOLDERS = ['registration', 'testing', 'sim'] as const;

/**
 * Imports of an optional peer package from a core folder that are allowed,
 * with the reason: file -> package.
 */
const PEER_EXCEPTIONS: Readonly<Record<string, { readonly package: string; readonly reason: string }>> = {
  'server/trace-context.ts': {
    package: '@opentelemetry/api',
    reason: 'loaded with import() only if installed, so inbound requests join the caller\'s trace with or without meshkit/otel',
  },
};

const edges = scanImports(SRC);
const describeEdge = (edge: ImportEdge): string => `${edge.from} imports '${edge.specifier}'`;

describe('import direction in src/', () => {
  it('the scanner sees the imports (a sanity check: it is not reading an empty tree)', () => {
    assert.ok(sourceFiles(SRC).length > 100, `only ${sourceFiles(SRC).length} files under ${SRC}`);
    assert.ok(edges.some((e) => e.from === 'client/client.ts' && e.target === 'core/clock.ts'), 'client/client.ts imports core/clock.ts');
    assert.ok(edges.some((e) => e.from === 'core/diagnostics.ts' && e.specifier === 'node:diagnostics_channel'));
  });

  it('every folder under src/ is placed: core, integration or other', () => {
    const placed = new Set<string>([...CORE_FOLDERS, ...INTEGRATION_FOLDERS, ...OTHER_FOLDERS, '']);
    const unplaced = [...new Set(sourceFiles(SRC).map(folderOf))].filter((folder) => !placed.has(folder));
    assert.deepEqual(unplaced, [], 'add each new folder to CORE_FOLDERS, INTEGRATION_FOLDERS or OTHER_FOLDERS in this test');
  });

  it('core/ imports nothing from another folder of src/', () => {
    const upward = edges.filter((e) => folderOf(e.from) === 'core' && e.target !== undefined && folderOf(e.target) !== 'core');
    assert.deepEqual(upward.map(describeEdge), [], 'core/ is the floor: move the shared type into core/ instead');
  });

  it('no core folder imports an integration folder', () => {
    const core = new Set<string>(CORE_FOLDERS);
    const integrations = new Set<string>(INTEGRATION_FOLDERS);
    const wrong = edges.filter((e) => core.has(folderOf(e.from)) && e.target !== undefined && integrations.has(folderOf(e.target)));
    assert.deepEqual(wrong.map(describeEdge), [], 'the core folders must load without any integration');
  });

  it('no core folder imports an optional peer package (the integrations\' libraries), except the listed exceptions', () => {
    const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { peerDependencies: Record<string, string> };
    const peers = new Set(Object.keys(pkg.peerDependencies));
    assert.ok(peers.has('express') && peers.has('@grpc/grpc-js'), 'package.json lists the integrations\' peers');
    const core = new Set<string>(CORE_FOLDERS);
    const wrong = edges.filter((e) => core.has(folderOf(e.from)) && e.target === undefined && peers.has(packageOf(e.specifier))
      && PEER_EXCEPTIONS[e.from]?.package !== packageOf(e.specifier));
    assert.deepEqual(wrong.map(describeEdge), []);
    for (const [file, exception] of Object.entries(PEER_EXCEPTIONS)) {
      assert.ok(exception.reason.length > 0);
      assert.ok(edges.some((e) => e.from === file && packageOf(e.specifier) === exception.package), `stale exception: ${file} no longer imports ${exception.package}`);
    }
  });
});

describe('import cycles in core/', () => {
  const coreFiles = sourceFiles(SRC).filter((file) => folderOf(file) === 'core');
  const cycles = cyclesAmong(edges, coreFiles);
  const key = (cycle: readonly string[]): string => [...cycle].sort().join(' <-> ');

  it('core/ has no import cycle', () => {
    assert.deepEqual(cycles.map(key), [], 'break the cycle: move the shared type into a file both import');
  });


  it('the cycle finder finds a cycle and ignores a chain', () => {
    const edge = (from: string, target: string): ImportEdge => ({ from, specifier: `./${target}`, target });
    const files = ['core/a.ts', 'core/b.ts', 'core/c.ts', 'core/d.ts'];
    const found = cyclesAmong([edge('core/a.ts', 'core/b.ts'), edge('core/b.ts', 'core/c.ts'), edge('core/c.ts', 'core/a.ts'), edge('core/c.ts', 'core/d.ts')], files);
    assert.deepEqual(found, [['core/a.ts', 'core/b.ts', 'core/c.ts']]);
    assert.deepEqual(cyclesAmong([edge('core/a.ts', 'core/b.ts'), edge('core/b.ts', 'core/c.ts')], files), []);
  });

  it('the src/ folders the lists name exist', () => {
    const missing = [...CORE_FOLDERS, ...INTEGRATION_FOLDERS, ...OTHER_FOLDERS].filter((folder) => !existsSync(`${SRC}${folder}`));
    assert.deepEqual(missing, []);
  });
});

// Installs the package the way a user gets it (npm pack -> npm install <tarball>)
// into a scratch project outside the repo, then imports it from ESM and CommonJS
// against a real server and type-checks a consumer file under every common
// TypeScript module setting. Catches a broken "exports"/"files"/"typesVersions"
// map, runtime imports of devDependencies, missing .d.ts, source maps pointing
// at files the package does not carry, and doc links that do not resolve from
// the installed package.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brokenLinks, findRepoRoot } from './markdown.js';
import { CONSUMER_SETTINGS, consumerSource, exportedSubpaths, type ConsumerSetting } from './consumer-matrix.js';

interface Run {
  stdout: string;
  stderr: string;
}

// Async on purpose: the server answering the child scripts lives in this process.
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = err.killed ? `killed after ${timeoutMs} ms (a handle left open?)` : `exit ${String(err.code)}`;
        reject(new Error(`${cmd} ${args.join(' ')} in ${cwd}: ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

// `npm test` exports lifecycle variables; npm_config_local_prefix in particular
// would point the scratch project's `npm install` back at the repo.
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    const lifecycle = k.startsWith('npm_lifecycle_') || k.startsWith('npm_package_') || k === 'npm_command';
    if (!lifecycle && k !== 'npm_config_local_prefix' && k !== 'init_cwd') env[key] = value;
  }
  return env;
}

const ESM_SCRIPT = `import { client } from 'meshkit';
const c = client('smoke').endpoints(['127.0.0.1:' + process.argv[2]]).build();
try {
  const res = await c.request({ path: '/hello' });
  console.log('resolved ' + import.meta.resolve('meshkit'));
  console.log('status ' + res.statusCode);
  console.log('body ' + (await res.body.text()));
} finally {
  await c.close();
}
`;

const CJS_SCRIPT = `const { pathToFileURL } = require('node:url');
const { client } = require('meshkit');
async function main() {
  const c = client('smoke').endpoints(['127.0.0.1:' + process.argv[2]]).build();
  try {
    const res = await c.request({ path: '/hello' });
    console.log('resolved ' + pathToFileURL(require.resolve('meshkit')).href);
    console.log('status ' + res.statusCode);
    console.log('body ' + (await res.body.text()));
  } finally {
    await c.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;

describe('installs from the packed tarball', { timeout: 300_000 }, () => {
  const repo = findRepoRoot();
  const token = randomUUID();
  const seen: string[] = [];
  let work = '';
  let app = '';
  let tarball = '';
  let entries: string[] = [];
  let server: Server | undefined;
  let port = 0;
  const installedEntry = (): string => pathToFileURL(join(app, 'node_modules/meshkit/dist/index.js')).href;

  before(async () => {
    work = await realpath(await mkdtemp(join(tmpdir(), 'meshkit-pack-')));
    const packDir = join(work, 'pack');
    app = join(work, 'app');
    await mkdir(packDir);
    await mkdir(app);

    // prepack runs the build, so this also proves dist/ builds from a clean state.
    await run('npm', ['pack', '--pack-destination', packDir, '--no-fund', '--no-audit'], repo, 120_000);
    const tgz = (await readdir(packDir)).filter((f) => f.endsWith('.tgz'));
    assert.equal(tgz.length, 1, `expected one tarball, got ${tgz.join(', ')}`);
    tarball = join(packDir, tgz[0] ?? '');
    entries = (await run('tar', ['-tzf', tarball], work, 30_000)).stdout.split('\n').filter(Boolean);

    const typesVersion = (JSON.parse(readFileSync(join(repo, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'meshkit-pack-smoke', version: '0.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${typesVersion}`], app, 150_000);
    await writeFile(join(app, 'esm.mjs'), ESM_SCRIPT);
    await writeFile(join(app, 'cjs.cjs'), CJS_SCRIPT);

    const srv = createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${token}`);
    });
    server = srv;
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    port = (srv.address() as AddressInfo).port;
  }, { timeout: 170_000 });

  after(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the tarball ships dist/ and no sources or tests', () => {
    for (const file of ['package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts']) {
      assert.ok(entries.includes(file), `${file} missing from tarball: ${entries.join(', ')}`);
    }
    const leaked = entries.filter((e) => /^package\/(src|test|\.build|bench|scripts|\.ci)\//.test(e) || /\.test\.[cm]?[jt]s$/.test(e));
    assert.deepEqual(leaked, []);
  });

  test('every subpath in the exports map ships its module and its types', () => {
    const exportsMap = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }> }).exports;
    for (const [subpath, target] of Object.entries(exportsMap)) {
      const files = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const file of files) assert.ok(entries.includes(`package/${file.replace(/^\.\//, '')}`), `${subpath}: ${file} missing from the tarball`);
    }
  });

  test('subpaths without optional peers load with none of the peers installed', async () => {
    // meshkit/server, meshkit/status, meshkit/testing and meshkit/sim need nothing beyond meshkit's own dependencies; the others name their peer.
    const script = "await import('meshkit/server'); await import('meshkit/status'); await import('meshkit/testing'); await import('meshkit/sim'); console.log('ok');";
    const out = await run(process.execPath, ['--input-type=module', '-e', script], app, 30_000);
    assert.equal(out.stdout.trim(), 'ok');
  });

  test('meshkit-sim runs from the installed package: lists the scenarios, runs one and writes its report', async () => {
    const bin = join(app, 'node_modules/.bin/meshkit-sim');
    const list = await run(bin, ['--list'], app, 30_000);
    const names = list.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0]);
    assert.deepEqual(names, ['linkerd-2016', 'linkerd-2017', 'tail-at-scale', 'retry-storm', 'fleet-scale']);
    const out = await run(bin, ['linkerd-2016', '--scale', '0.1', '--out', 'sim-out'], app, 120_000);
    assert.match(out.stdout, /linkerd-2016: published figures beside meshkit's/);
    const report = JSON.parse(readFileSync(join(app, 'sim-out/linkerd-2016.json'), 'utf8')) as { variants: { name: string }[] };
    assert.ok(report.variants.length >= 2, `variants: ${report.variants.map((v) => v.name).join(', ')}`);
    for (const variant of report.variants) assert.ok(existsSync(join(app, `sim-out/linkerd-2016.${variant.name}.html`)), `${variant.name}.html missing`);
  });

  test('ESM import works against a real server', async () => {
    const out = await run(process.execPath, ['esm.mjs', String(port)], app, 30_000);
    // Loaded from the installed tarball, not from the repo.
    assert.deepEqual(out.stdout.trim().split('\n'), [`resolved ${installedEntry()}`, 'status 200', `body hello ${token}`]);
    assert.ok(seen.includes('GET /hello'), `server saw ${seen.join(', ')}`);
  });

  test('CommonJS require works against a real server', async () => {
    const already = seen.length;
    const out = await run(process.execPath, ['cjs.cjs', String(port)], app, 30_000);
    assert.deepEqual(out.stdout.trim().split('\n'), [`resolved ${installedEntry()}`, 'status 200', `body hello ${token}`]);
    assert.deepEqual(seen.slice(already), ['GET /hello']);
  });

  test('typesVersions maps exactly the subpaths of the exports map (TypeScript on moduleResolution node reads only typesVersions)', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types?: string }>;
      typesVersions?: Record<string, Record<string, string[]>>;
    };
    const expected: Record<string, string[]> = {};
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === '.' || typeof target === 'string' || target.types === undefined) continue;
      expected[subpath.replace(/^\.\//, '')] = [target.types];
    }
    assert.deepEqual(pkg.typesVersions, { '*': expected }, 'add a typesVersions entry for every new exports subpath: "name": ["./dist/name/index.d.ts"]');
  });

  test('no source map points at a file the package does not carry', async () => {
    const maps = entries.filter((e) => e.endsWith('.map'));
    assert.ok(maps.length > 0, 'expected .js.map files in the tarball');
    // Declaration maps would send "go to definition" into src/, which is not shipped.
    assert.deepEqual(maps.filter((e) => e.endsWith('.d.ts.map')), []);
    const shipped = new Set(entries);
    const dangling: string[] = [];
    for (const entry of maps) {
      const file = join(app, 'node_modules/meshkit', entry.replace(/^package\//, ''));
      const map = JSON.parse(await readFile(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      map.sources.forEach((source, i) => {
        const inline = typeof map.sourcesContent?.[i] === 'string';
        const target = `package/${join(entry.replace(/^package\//, ''), '..', source)}`;
        if (!inline && !shipped.has(target)) dangling.push(`${entry}: ${source}`);
      });
    }
    assert.deepEqual(dangling, []);
  });

  test('every relative link in the shipped README and docs resolves to a shipped file (and heading)', async () => {
    const shipped = entries.map((e) => e.replace(/^package\//, ''));
    const texts = new Map<string, string>();
    for (const file of shipped.filter((f) => f.endsWith('.md'))) texts.set(file, await readFile(join(app, 'node_modules/meshkit', file), 'utf8'));
    const broken = brokenLinks(shipped, (file) => texts.get(file) ?? '');
    assert.ok(shipped.includes('README.md') && shipped.some((f) => f.startsWith('docs/')), 'README.md and docs/ must ship');
    assert.deepEqual(broken.map((b) => `${b.file}:${b.line}: ${b.target}: ${b.reason}`), []);
  });

  // One scratch project per setting, sharing the installed node_modules; two tsc runs at a time (2 cores).
  describe('consumer projects compile under every module setting', { concurrency: 2 }, () => {
    const subpaths = exportedSubpaths(repo);

    const compile = async (setting: ConsumerSetting): Promise<void> => {
      const dir = join(work, 'matrix', setting.name);
      await mkdir(dir, { recursive: true });
      await symlink(join(app, 'node_modules'), join(dir, 'node_modules'), 'dir');
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${setting.name}`, version: '0.0.0', private: true, type: setting.packageType }));
      await writeFile(join(dir, 'consumer.ts'), consumerSource(subpaths));
      const compilerOptions = { strict: true, target: 'es2022', types: ['node'], skipLibCheck: true, noEmit: true, ...setting.compilerOptions };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], dir, 90_000);
    };

    for (const setting of CONSUMER_SETTINGS) {
      test(`${setting.name} (${JSON.stringify(setting.compilerOptions)}, package type ${setting.packageType}): imports ${subpaths.join(', ')}`, () => compile(setting));
    }

    test('entry points without peers type-check with skipLibCheck off (their declarations need no devDependency types)', async () => {
      // meshkit's own dependencies and @types/node are installed; no peer and no @types of a devDependency is.
      const peerFree = ['meshkit', 'meshkit/dns', 'meshkit/server', 'meshkit/status', 'meshkit/testing'].filter((s) => subpaths.includes(s));
      const dir = join(work, 'matrix', 'lib-check');
      await mkdir(dir, { recursive: true });
      await symlink(join(app, 'node_modules'), join(dir, 'node_modules'), 'dir');
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer-lib-check', version: '0.0.0', private: true, type: 'module' }));
      await writeFile(join(dir, 'consumer.ts'), consumerSource(peerFree));
      const compilerOptions = { strict: true, target: 'es2022', types: ['node'], skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext' };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
      await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], dir, 90_000);
    });

    test('a commonjs + node project compiles to require() calls that run on Node >= 20.19 (require of ESM)', async () => {
      const dir = join(work, 'cjs-run');
      await mkdir(dir, { recursive: true });
      await symlink(join(app, 'node_modules'), join(dir, 'node_modules'), 'dir');
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer-cjs-run', version: '0.0.0', private: true, type: 'commonjs' }));
      await writeFile(join(dir, 'run.ts'), `import { client } from 'meshkit';
async function main(): Promise<void> {
  const c = client('smoke').endpoints(['127.0.0.1:' + process.argv[2]]).build();
  try {
    const res = await c.request({ path: '/from-cjs' });
    console.log('status ' + res.statusCode + ' ' + (await res.body.text()));
  } finally {
    await c.close();
  }
}
main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
`);
      const tsc = join(repo, 'node_modules/typescript/bin/tsc');
      await run(process.execPath, [tsc, '--strict', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'es2022', '--types', 'node', '--skipLibCheck', '--outDir', 'out', 'run.ts'], dir, 90_000);
      assert.match(await readFile(join(dir, 'out/run.js'), 'utf8'), /require\("meshkit"\)/);
      const out = await run(process.execPath, ['out/run.js', String(port)], dir, 30_000);
      assert.equal(out.stdout.trim(), `status 200 hello ${token}`);
      assert.ok(seen.includes('GET /from-cjs'), `server saw ${seen.join(', ')}`);
    });
  });
});

// Installs the package the way a user gets it (npm pack -> npm install <tarball>)
// into a scratch project outside the repo, then imports it from ESM and CommonJS
// against a real server and type-checks a consumer file. Catches a broken
// "exports"/"files" map, runtime imports of devDependencies, and missing .d.ts.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'meshkit') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('meshkit repo root not found above this test file');
    dir = parent;
  }
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

// Uses the public types the way a consumer would; the @ts-expect-error lines fail
// the check if the declarations degrade to \`any\`.
const TS_CONSUMER = `import { client, isMeshkitError, type MeshkitErrorCode } from 'meshkit';
const c = client('smoke').endpoints(['127.0.0.1:1']).build();
try {
  const res = await c.request({ path: '/hello' });
  const status: number = res.statusCode;
  const text: string = await res.body.text();
  console.log(status, text);
} catch (err) {
  if (isMeshkitError(err, 'ERR_NO_ENDPOINTS')) console.log(err.code);
} finally {
  await c.close();
}
const code: MeshkitErrorCode = 'ERR_TIMEOUT';
// @ts-expect-error not an error code
const bad: MeshkitErrorCode = 'ERR_NOT_A_CODE';
// @ts-expect-error endpoints takes a list
client('smoke').endpoints(42);
export { code, bad };
`;

describe('installs from the packed tarball', { timeout: 180_000 }, () => {
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
    await writeFile(join(app, 'consumer.ts'), TS_CONSUMER);

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
    // meshkit/server, meshkit/status and meshkit/testing need nothing beyond meshkit's own dependencies; the others name their peer.
    const script = "await import('meshkit/server'); await import('meshkit/status'); await import('meshkit/testing'); console.log('ok');";
    const out = await run(process.execPath, ['--input-type=module', '-e', script], app, 30_000);
    assert.equal(out.stdout.trim(), 'ok');
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

  test('type declarations resolve and type-check for a consumer', async () => {
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const args = [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipDefaultLibCheck', 'consumer.ts'];
    await run(process.execPath, args, app, 60_000);
  });
});

// Done-when for zero-code governance: a scratch project that installs the packed tarball
// and calls only global fetch is governed after one setGlobalDispatcher(...) line.
// The package is built into a staging directory (not the repo's dist/, which the
// package test builds at the same time) and packed from there with npm pack, then
// installed offline from the npm cache (CI's `npm ci` fills it), online only as a fallback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** npm's lifecycle variables of an enclosing `npm test` would point the scratch install back at the repo. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (k.startsWith('npm_lifecycle_') || k.startsWith('npm_package_') || k === 'npm_command' || k === 'npm_config_local_prefix' || k === 'init_cwd') continue;
    env[key] = value;
  }
  return env;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== 'meshkit') {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('meshkit repo root not found');
    dir = parent;
  }
  return dir;
}

/** The application: one setGlobalDispatcher line, then code that knows only global fetch. */
const APP = `import { setGlobalDispatcher } from 'undici';
import { client } from 'meshkit';
import { meshkitDispatcher } from 'meshkit/undici';

const [ordersA, ordersB, outside] = process.argv.slice(2);
const orders = client('orders').endpoints([ordersA, ordersB]).timeout({ total: '4s' }).retry({ attempts: 2, budget: false }).build();
setGlobalDispatcher(meshkitDispatcher({ routes: { 'http://orders': orders } }));

// Application code: global fetch only.
for (let i = 0; i < 4; i++) {
  const response = await fetch('http://orders/v1/orders/' + i);
  console.log('orders ' + response.status + ' ' + (await response.text()));
}
const plain = await fetch('http://' + outside + '/plain');
console.log('outside ' + plain.status + ' ' + (await plain.text()));
await orders.close();
`;

describe('a scratch project on the packed tarball, global fetch only', { timeout: 300_000 }, () => {
  let work = '';
  let app = '';
  let upstreams: Upstream[] = [];

  before(async () => {
    const repo = repoRoot();
    work = await realpath(await mkdtemp(join(tmpdir(), 'meshkit-zero-code-')));
    const stage = join(work, 'stage');
    app = join(work, 'app');
    await Promise.all([mkdir(stage), mkdir(app), mkdir(join(work, 'pack'))]);
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], repo, 150_000);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'docs']) await cp(join(repo, file), join(stage, file), { recursive: true });
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', join(work, 'pack'), '--no-fund', '--no-audit'], stage, 120_000);
    const [tarball] = (await readdir(join(work, 'pack'))).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball !== undefined, 'npm pack made a tarball');
    const undiciVersion = (JSON.parse(readFileSync(join(repo, 'node_modules/undici/package.json'), 'utf8')) as { version: string }).version;
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'zero-code-scratch', version: '0.0.0', private: true, type: 'module' }));
    await writeFile(join(app, 'app.mjs'), APP);
    const install = ['install', '--no-audit', '--no-fund', join(work, 'pack', tarball), `undici@${undiciVersion}`];
    try {
      await run('npm', [...install, '--offline'], app, 120_000);
    } catch {
      await run('npm', [...install, '--prefer-offline'], app, 150_000); // a cold npm cache: CI reaches the registry
    }
    upstreams = await startUpstreams([{ status: 503, body: 'down' }, {}, {}]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('governs every fetch to http://orders (retried off the failing instance, deadline header) and leaves other hosts alone', async () => {
    const [failing, healthy, outside] = upstreams as [Upstream, Upstream, Upstream];
    const out = await run(process.execPath, ['app.mjs', failing.address, healthy.address, outside.address], app, 60_000);
    assert.deepEqual(out.trim().split('\n'), [
      ...Array.from({ length: 4 }, () => `orders 200 ok ${healthy.port}`),
      `outside 200 ok ${outside.port}`,
    ]);
    assert.ok(failing.requests.length >= 1, 'calls reached the failing instance and were retried');
    assert.deepEqual(healthy.requests.map((r) => r.url), ['/v1/orders/0', '/v1/orders/1', '/v1/orders/2', '/v1/orders/3']);
    for (const request of [...failing.requests, ...healthy.requests]) {
      const deadline = Number(request.headers['x-meshkit-deadline']);
      assert.ok(deadline > 0 && deadline <= 4000, `deadline header ${String(request.headers['x-meshkit-deadline'])}`);
    }
    assert.equal(outside.requests.length, 1);
    assert.equal(outside.requests[0]?.headers['x-meshkit-deadline'], undefined);
    // Loaded from the installed tarball, not the repo.
    const resolved = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('meshkit/undici'))"], app, 30_000);
    assert.ok(resolved.trim().endsWith('/app/node_modules/meshkit/dist/dispatcher/index.js'), resolved);
  });
});

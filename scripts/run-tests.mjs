#!/usr/bin/env node
// Runs every compiled test file (.build/test/**/*.test.js) with `node --test`.
// Node 20 has no glob support in --test, so the files are collected here and
// passed explicitly. Extra argv is forwarded to node before the file list.
//
// Env:
//   MESHKIT_TEST_FILTER          comma-separated substrings of the file path; run only matching files
//   MESHKIT_TEST_FORCE_EXIT=0    let a test file with a leaked handle hang instead of exiting
//                                (force exit is used on Node 20 only; see testArgs)
//                                once its tests are done (to hunt leaks locally)
//   MESHKIT_TEST_RUN_TIMEOUT_MS  kill the whole run after this long (default 30 min, 0 = never)
//
// Files whose source carries the marker `@meshkit-test isolated` (tests that
// measure latency under load: their numbers mean something only when no other
// test file competes for the 2 cores) run after the others, one at a time.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const buildDir = join(root, '.build', 'test');
const extraArgs = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...collect(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

function fail(message) {
  console.error(`run-tests: ${message}`);
  process.exit(1);
}

if (!existsSync(buildDir)) fail(`${relative(root, buildDir)} does not exist; run \`npm run compile\` first`);

// tsc never deletes outputs, so a test removed from test/ can linger in .build/.
const files = [];
for (const file of collect(buildDir).sort()) {
  const source = join(root, 'test', relative(buildDir, file)).replace(/\.js$/, '.ts');
  if (existsSync(source)) files.push(file);
  else console.error(`run-tests: skipping stale ${relative(root, file)} (no ${relative(root, source)})`);
}

const filters = (process.env.MESHKIT_TEST_FILTER ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const selected = filters.length === 0
  ? files
  : files.filter((f) => filters.some((s) => relative(root, f).split(sep).join('/').includes(s)));

if (files.length === 0) fail(`no *.test.js files under ${relative(root, buildDir)}`);
if (selected.length === 0) fail(`MESHKIT_TEST_FILTER=${process.env.MESHKIT_TEST_FILTER} matched none of ${files.length} test files`);

const hasFlag = (name) => extraArgs.some((a) => a === name || a.startsWith(`${name}=`));
const ISOLATED_MARKER = '@meshkit-test isolated';
const isolated = selected.filter((f) => readFileSync(f, 'utf8').includes(ISOLATED_MARKER));
const shared = selected.filter((f) => !isolated.includes(f));

/** node --test arguments for one phase. */
function testArgs(phaseFiles, concurrency) {
  const args = ['--test'];
  // tap prints the `# pass N` / `# fail N` closing lines on every Node version;
  // Node 23+ defaults to spec even when piped, so ask for tap explicitly there.
  if (!hasFlag('--test-reporter')) {
    args.push(`--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout');
  }
  // 2 cores, and tests mostly wait on loopback I/O: two files at a time (isolated files: one).
  if (!hasFlag('--test-concurrency')) args.push(`--test-concurrency=${concurrency}`);
  // A failed assertion that skips cleanup leaves a socket or timer open; without
  // this the file's process never exits and the run hangs with no summary.
  // Only on Node 20: on Node 24 a forced exit can end a file's process before its buffered report is
  // written, so the tests after that point are silently missing from the totals (seen: 129 tests of
  // test/options/every-factory reported as 78-95, with 0 failures). There a leaked handle instead
  // keeps the file running until MESHKIT_TEST_RUN_TIMEOUT_MS ends the run: loud, never silent.
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (process.env.MESHKIT_TEST_FORCE_EXIT !== '0' && nodeMajor < 22) args.push('--test-force-exit');
  // Safety net for a test that never settles (Node 20 applies it per file, Node 22+ per test).
  if (!hasFlag('--test-timeout')) args.push('--test-timeout=600000');
  args.push(...extraArgs, ...phaseFiles.map((f) => relative(root, f)));
  return args;
}

const matching = filters.length > 0 ? ` matching ${filters.join(',')}` : '';
console.log(`run-tests: node ${process.version}, ${selected.length}/${files.length} test files${matching}` +
  (isolated.length > 0 ? ` (${isolated.length} run alone at the end: ${isolated.map((f) => relative(buildDir, f)).join(', ')})` : ''));

let current;
const killAll = (signal) => {
  try {
    if (current !== undefined) process.kill(-current.pid, signal);
  } catch {
    // group already gone
  }
};

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll(signal);
    process.exit(1);
  });
}

const limitMs = Number(process.env.MESHKIT_TEST_RUN_TIMEOUT_MS ?? 30 * 60_000);
const watchdog = limitMs > 0
  ? setTimeout(() => {
      console.error(`run-tests: run exceeded ${limitMs} ms; killing it (MESHKIT_TEST_RUN_TIMEOUT_MS)`);
      killAll('SIGKILL');
    }, limitMs)
  : undefined;
watchdog?.unref();

/** Runs one phase in its own process group (so the watchdog and signals reach the per-file test processes too); resolves with its exit code. */
function runPhase(phaseFiles, concurrency) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, testArgs(phaseFiles, concurrency), { cwd: root, stdio: 'inherit', detached: true });
    current = child;
    child.on('error', (err) => fail(`could not start ${process.execPath}: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (signal) console.error(`run-tests: test runner ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

let exitCode = 0;
if (shared.length > 0) exitCode = Math.max(exitCode, await runPhase(shared, 2));
if (isolated.length > 0) exitCode = Math.max(exitCode, await runPhase(isolated, 1));
if (watchdog) clearTimeout(watchdog);
process.exit(exitCode);

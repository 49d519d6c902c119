/**
 * Smoke test of the compiled overhead bench: it runs end to end, exits 0 and prints
 * its tables. Asserts structure only, never timing: this machine is shared.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBench } from '../helpers/run-bench.js';

const CLIENTS = [
  'undici-pool', 'meshkit-request', 'meshkit-request-full-stack', 'meshkit-fetch', 'global-fetch', 'global-fetch-meshkit-dispatcher', 'got',
  'meshkit-otel-noop-request', 'meshkit-otel-sdk-request', 'meshkit-otel-sdk-no-call-duration-request', 'undici-pool-otel-instrumentation',
];
// Part (a): every wrapper, measured against the direct call in the same rounds.
const PIPELINE_ROWS = [
  'meshkit foundation c.call(fn)',
  'meshkit full stack c.call(fn)',
  'cockatiel wrap(retry, breaker, timeout)',
  'p-retry pRetry(fn, { retries: 2 })',
  'meshkit foundation + openTelemetry() no-op',
  'meshkit foundation + openTelemetry() SDK batch',
  'OpenTelemetry SDK alone, what meshkit records',
];
const TARGETS = [
  /^foundation pipeline adds <= 1 us per call/,
  /^full policy stack adds <= 1.5 us per call/,
  /^c\.request \(foundation\) keeps >= 90% of raw undici req\/s at 64 concurrent/,
  /^c\.request \(full stack\) keeps >= 90% of raw undici req\/s at 64 concurrent/,
  /^openTelemetry\(\) without an SDK adds no more than noise to the foundation pipeline/,
  /^openTelemetry\(\) on the SDK adds <= 4 us per call to the foundation pipeline/,
  /^openTelemetry\(\{ callDuration: false \}\) on the SDK adds no more client CPU per request than @opentelemetry\/instrumentation-undici at 64 concurrent/,
  /^c\.request with openTelemetry\(\{ callDuration: false \}\) on the SDK keeps >= 70% of raw undici req\/s at 64 concurrent/,
  /^openTelemetry\(\) \(default: also meshkit\.client\.call\.duration\) on the SDK adds no more client CPU per request than @opentelemetry\/instrumentation-undici at 64 concurrent/,
  /^c\.request with openTelemetry\(\) \(default: also meshkit\.client\.call\.duration\) on the SDK keeps >= 70% of raw undici req\/s at 64 concurrent/,
  /^c\.request over mTLS keeps >= 90% of raw undici over the same TLS at 64 concurrent/,
];
const CONCURRENCIES = [1, 64];

test('an unknown scenario prints usage and exits 2', async () => {
  const result = await runBench(['no-such-scenario'], {});
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown scenario "no-such-scenario"/);
  assert.match(result.stderr, /usage: /);
  assert.match(result.stderr, /overhead/);
});

test('overhead runs end to end and prints every pipeline row, a ratio row per client and concurrency, and every target', { timeout: 120_000 }, async () => {
  const resultsDir = await mkdtemp(join(tmpdir(), 'meshkit-bench-'));
  try {
    const result = await runBench(['overhead'], {
      BENCH_SECONDS: '0.3',
      BENCH_ROUNDS: '2',
      BENCH_WARMUP_SECONDS: '0.05',
      BENCH_CONCURRENCY: CONCURRENCIES.join(','),
      BENCH_PIPELINE_CALLS: '2000',
      BENCH_PIPELINE_ROUNDS: '3',
      BENCH_RESULTS_DIR: resultsDir,
    });
    assert.equal(result.code, 0, `bench failed:\n${result.stdout}\n${result.stderr}`);
    // The anchor row is only an anchor if OpenTelemetry's undici instrumentation really traced its requests.
    assert.doesNotMatch(result.stderr, /exported no span/);
    const lines = result.stdout.split('\n');

    for (const client of CLIENTS) {
      for (const concurrency of CONCURRENCIES) {
        // client, conc, req/s, spread, p50, p99, ratio "0.93x", cpu us/req, upstream cpu, errors
        const row = new RegExp(`^${client}\\s+${concurrency}\\s+\\d+\\s+\\d+%\\s+(?:[\\d.]+|n/a)\\s+(?:[\\d.]+|n/a)\\s+\\d+\\.\\d\\dx\\s`);
        assert.ok(lines.some((line) => row.test(line)), `no ratio row for ${client} at ${concurrency}:\n${result.stdout}`);
      }
    }
    assert.ok(lines.some((line) => /^direct call \(await fn\(endpoint\)\)\s+\d+\s+\d+\s+\d+\s+-\s+-\s+-$/.test(line)), 'no direct call row');
    for (const label of PIPELINE_ROWS) {
      // label, ns/call, min, max, added, added min, added max
      const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const row = new RegExp(`^${escaped}\\s+\\d+\\s+\\d+\\s+\\d+\\s+-?\\d+\\s+-?\\d+\\s+-?\\d+$`);
      assert.ok(lines.some((line) => row.test(line)), `no pipeline row for ${label}:\n${result.stdout}`);
    }
    const verdicts = lines.filter((line) => /\s(PASS|MISS)$/.test(line));
    assert.equal(verdicts.length, TARGETS.length, `expected ${TARGETS.length} target verdicts:\n${result.stdout}`);
    for (const target of TARGETS) {
      assert.ok(verdicts.some((line) => target.test(line)), `no verdict matching ${target}:\n${result.stdout}`);
    }

    const files = await readdir(resultsDir);
    assert.ok(files.includes('overhead-latest.md'));
    const jsonName = files.find((name) => /^overhead-.+\.json$/.test(name));
    assert.ok(jsonName !== undefined, `no JSON result in ${files.join(', ')}`);
    const report = JSON.parse(await readFile(join(resultsDir, jsonName), 'utf8')) as {
      http: unknown[];
      targets: unknown[];
      pipeline: { subjects: { id: string }[] };
    };
    assert.equal(report.http.length, CLIENTS.length * CONCURRENCIES.length);
    assert.deepEqual(report.pipeline.subjects.map((s) => s.id), [
      'meshkit-foundation', 'meshkit-full-stack', 'cockatiel', 'p-retry', 'meshkit-otel-noop', 'meshkit-otel-sdk', 'otel-sdk-alone',
    ]);
    assert.equal(report.targets.length, TARGETS.length);
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
});

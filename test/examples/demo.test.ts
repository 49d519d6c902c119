// Smoke test for `npm run demo`: runs the compiled demo as a newcomer would and
// checks that the story it tells is true for this run.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

const run = promisify(execFile);
const demo = fileURLToPath(new URL('../../examples/demo/main.js', import.meta.url));

interface Result {
  requests: number;
  successRate: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  attemptsPerRequest: number;
  outcomes: Record<string, number>;
}

test('demo: meshkit beats naive round robin on the same fleet, and the process ends by itself', async () => {
  const requests = 60;
  // execFile rejects on a non-zero exit code or on the timeout, so success here means exit 0.
  const { stdout } = await run(process.execPath, [demo], {
    env: { ...process.env, DEMO_REQUESTS: String(requests), DEMO_CONCURRENCY: '4', DEMO_JSON: '1' },
    timeout: 60_000,
  });
  assert.match(stdout, /success rate/);
  assert.match(stdout, /outlier ejection/);

  const line = stdout.split('\n').find((l) => l.startsWith('{"demo":"meshkit"'));
  assert.ok(line, `no JSON line in:\n${stdout}`);
  const { naive, meshkit } = JSON.parse(line) as { naive: Result; meshkit: Result };

  assert.equal(naive.requests, requests);
  assert.equal(meshkit.requests, requests);
  // The fleet really is unhealthy: one instance in five answers 503.
  assert.ok((naive.outcomes['503'] ?? 0) > 0, 'naive round robin should meet the failing instance');
  assert.equal(naive.attemptsPerRequest, 1);
  // The claim of the demo.
  assert.ok(
    meshkit.successRate > naive.successRate,
    `meshkit ${meshkit.successRate} should beat naive ${naive.successRate}`,
  );
  assert.ok(meshkit.attemptsPerRequest > 1, 'meshkit should have retried');
  // One naive request in five waits ~250 ms for the slow instance; the 50 ms per-try
  // timeout cuts that tail. p90 rather than p99: at 60 requests p99 is the single
  // worst request, which a stall on a busy CI machine can inflate for either client.
  assert.ok(naive.p90Ms >= 200, `naive p90 ${naive.p90Ms} ms should show the slow instance`);
  assert.ok(meshkit.p90Ms < naive.p90Ms, `meshkit p90 ${meshkit.p90Ms} ms should beat naive ${naive.p90Ms} ms`);
  // The 1 s total deadline bounds every call (slack for a loaded machine).
  assert.ok(meshkit.maxMs < 1_500, `meshkit max ${meshkit.maxMs} ms exceeds the deadline`);
});

test('demo: rejects a bad flag with exit code 2 and usage', async () => {
  await assert.rejects(run(process.execPath, [demo, '--requests', 'many'], { timeout: 30_000 }), (err: unknown) => {
    const e = err as { code?: unknown; stderr?: string };
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /usage: npm run demo/);
    return true;
  });
});

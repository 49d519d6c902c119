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
  label: string;
  requests: number;
  successRate: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  attemptsPerRequest: number;
  outcomes: Record<string, number>;
  received: Record<string, number>;
  warmupReceived: Record<string, number>;
  ejections: { instance: string; phase: string; afterRequests: number; instanceReceived: number }[];
}

interface DemoJson {
  instances: { name: string; kind: 'healthy' | 'slow' | 'failing' }[];
  naive: Result;
  meshkitRoundRobin: Result;
  meshkitDefaults: Result;
}

test('demo: three clients on the same fleet tell the story, and the process ends by itself', async () => {
  const requests = 60;
  // execFile rejects on a non-zero exit code or on the timeout, so success here means exit 0.
  const { stdout } = await run(process.execPath, [demo], {
    env: { ...process.env, DEMO_REQUESTS: String(requests), DEMO_CONCURRENCY: '4', DEMO_JSON: '1' },
    timeout: 90_000,
  });
  assert.match(stdout, /success rate/);
  assert.match(stdout, /outlier detection/);

  const line = stdout.split('\n').find((l) => l.startsWith('{"demo":"meshkit"'));
  assert.ok(line, `no JSON line in:\n${stdout}`);
  const { instances, naive, meshkitRoundRobin: rr, meshkitDefaults: ewma } = JSON.parse(line) as DemoJson;
  const named = (kind: string): string[] => instances.filter((i) => i.kind === kind).map((i) => i.name);
  const to = (r: Result, names: readonly string[]): number => names.reduce((sum, n) => sum + (r.received[n] ?? 0), 0);
  const [failing, slow] = [named('failing'), named('slow')];
  assert.ok(failing.length > 0 && slow.length > 0, 'the fleet has a failing and a slow instance');

  // Every client completed its requests.
  for (const r of [naive, rr, ewma]) assert.equal(r.requests, requests, `${r.label} completed ${r.requests} of ${requests}`);
  // The fleet really is unhealthy: naive round robin meets the failing instance and never retries.
  assert.ok((naive.outcomes['503'] ?? 0) > 0, 'naive round robin should meet the failing instance');
  assert.equal(naive.attemptsPerRequest, 1);
  // Both meshkit clients beat naive round robin.
  for (const r of [rr, ewma]) {
    assert.ok(r.successRate > naive.successRate, `${r.label} ${r.successRate} should beat naive ${naive.successRate}`);
  }
  // Timeouts and retries alone: round robin keeps meeting the bad instances, so meshkit retries.
  assert.ok(rr.attemptsPerRequest > 1, 'meshkit with round robin should have retried');
  // Defaults + ejection: fewer wasted attempts, and the bad instances mostly out of the way.
  assert.ok(
    ewma.attemptsPerRequest < rr.attemptsPerRequest,
    `defaults + ejection ${ewma.attemptsPerRequest} attempts per request should be fewer than round robin's ${rr.attemptsPerRequest}`,
  );
  assert.ok(to(ewma, failing) < to(rr, failing), `failing got ${to(ewma, failing)} with defaults, ${to(rr, failing)} with round robin`);
  assert.ok(to(ewma, slow) < to(rr, slow), `slow got ${to(ewma, slow)} with defaults, ${to(rr, slow)} with round robin`);
  // Only the client with outlier detection ejects anything.
  assert.deepEqual([naive.ejections, rr.ejections], [[], []]);

  // One naive request in five waits ~250 ms for the slow instance; the 50 ms per-try
  // timeout cuts that tail. p90 rather than p99: at 60 requests p99 is the single
  // worst request, which a stall on a busy CI machine can inflate for any client.
  assert.ok(naive.p90Ms >= 200, `naive p90 ${naive.p90Ms} ms should show the slow instance`);
  assert.ok(rr.p90Ms < naive.p90Ms, `meshkit p90 ${rr.p90Ms} ms should beat naive ${naive.p90Ms} ms`);
  // The 1 s total deadline bounds every call (slack for a loaded machine).
  for (const r of [rr, ewma]) assert.ok(r.maxMs < 1_500, `${r.label} max ${r.maxMs} ms exceeds the deadline`);
});

test('demo: rejects a bad flag with exit code 2 and usage', async () => {
  await assert.rejects(run(process.execPath, [demo, '--requests', 'many'], { timeout: 30_000 }), (err: unknown) => {
    const e = err as { code?: unknown; stderr?: string };
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /usage: npm run demo/);
    return true;
  });
});

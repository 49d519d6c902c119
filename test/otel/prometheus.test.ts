// A real Prometheus (Debian's prometheus 2.x) scrapes the Prometheus example's
// exporter; the test reads the series back through Prometheus' HTTP API.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { start, type PrometheusExample } from '../../examples/telemetry/prometheus.js';
import { serverMissing } from '../helpers/require-server.js';
import { settledResources } from '../helpers/resources.js';
import { findPrometheus, httpGet, PROMETHEUS_HOW_TO_GET, startPrometheus, type PromSample, type PrometheusServer } from '../helpers/prometheus-server.js';

const JOB = 'meshkit-example';
let example: PrometheusExample | undefined;
let prometheus: PrometheusServer | undefined;
let baseline: string[] = [];

before(async () => {
  baseline = await settledResources();
});

after(async () => {
  await prometheus?.close();
  await example?.stop();
});

/** Polls an instant query until `accept` holds; the error names the target's scrape state. */
async function waitForQuery(server: PrometheusServer, promql: string, accept: (samples: PromSample[]) => boolean, timeoutMs = 60_000): Promise<PromSample[]> {
  const deadline = Date.now() + timeoutMs;
  let samples: PromSample[] = [];
  while (Date.now() < deadline) {
    samples = await server.query(promql);
    if (accept(samples)) return samples;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${promql} gave ${JSON.stringify(samples)} after ${timeoutMs} ms; targets: ${JSON.stringify(await server.targets())}\n${server.log()}`);
}

test('Prometheus scrapes the example and has http_client_request_duration_seconds series for the called service', async (t) => {
  const binary = findPrometheus();
  if (binary === undefined) return serverMissing(t, 'prometheus', PROMETHEUS_HOW_TO_GET, new Error('no prometheus binary (PROMETHEUS_BIN, PATH, /usr/bin/prometheus)'));

  example = await start({ metricsPort: 0, intervalMs: 50, log: () => {} });
  // The exporter really serves the renamed histogram before Prometheus is involved.
  const direct = await httpGet(example.metricsUrl);
  assert.equal(direct.status, 200);

  prometheus = await startPrometheus(binary, { targets: [example.target], job: JOB, scrapeIntervalSeconds: 1 });

  // The target is up: Prometheus scraped it and parsed what it got.
  const up = await waitForQuery(prometheus, `up{job="${JOB}"}`, (s) => s.some((x) => x.value === 1));
  assert.equal(up[0]?.metric['instance'], example.target);

  // One series per (service, method, endpoint, status, ...) attribute set, with the service as a label.
  const service = example.service;
  const counts = await waitForQuery(
    prometheus,
    `http_client_request_duration_seconds_count{job="${JOB}",meshkit_service="${service}"}`,
    (s) => s.some((x) => x.metric['http_response_status_code'] === '200' && x.value > 0),
  );
  for (const sample of counts) {
    assert.equal(sample.metric['__name__'], 'http_client_request_duration_seconds_count');
    assert.equal(sample.metric['meshkit_service'], service);
    assert.equal(sample.metric['http_request_method'], 'GET');
    assert.equal(sample.metric['server_address'], '127.0.0.1');
    assert.match(sample.metric['server_port'] ?? '', /^\d+$/);
    assert.equal(sample.metric['instance'], example.target);
  }

  // The histogram arrived as a histogram: buckets with `le`, ending at +Inf, and a sum in seconds.
  const buckets = await prometheus.query(`http_client_request_duration_seconds_bucket{job="${JOB}",meshkit_service="${service}",http_response_status_code="200"}`);
  const bounds = new Set(buckets.map((b) => b.metric['le']));
  assert.ok(bounds.has('+Inf'), `no +Inf bucket in ${[...bounds].join(', ')}`);
  assert.ok(bounds.has('0.005') && bounds.has('10'), `semconv buckets expected, got ${[...bounds].join(', ')}`);
  const [sum] = await prometheus.query(`sum(http_client_request_duration_seconds_sum{job="${JOB}",meshkit_service="${service}"})`);
  const [count] = await prometheus.query(`sum(http_client_request_duration_seconds_count{job="${JOB}",meshkit_service="${service}"})`);
  assert.ok(sum !== undefined && count !== undefined && count.value > 0);
  // Seconds, not milliseconds: loopback requests with a delay under 25 ms average well under 1 s.
  assert.ok(sum.value / count.value < 1, `mean ${sum.value / count.value} s per request`);

  // Every fifth request an instance gets is a 503 that meshkit retries: the attempts show in their own series.
  await waitForQuery(
    prometheus,
    `http_client_request_duration_seconds_count{job="${JOB}",meshkit_service="${service}",http_response_status_code="503"}`,
    (s) => s.some((x) => x.value > 0),
  );

  // PromQL over it works as the docs show.
  const rate = await waitForQuery(
    prometheus,
    `sum by (meshkit_service) (rate(http_client_request_duration_seconds_count{job="${JOB}"}[30s]))`,
    (s) => s.some((x) => x.metric['meshkit_service'] === service && x.value > 0),
  );
  assert.deepEqual(rate.map((r) => r.metric['meshkit_service']), [service]);

  // Clean up: Prometheus exits, its temp dir goes, the example leaves nothing open.
  const { process: child, dir } = prometheus;
  await prometheus.close();
  assert.ok(child.exitCode !== null || child.signalCode !== null, 'prometheus still running after close()');
  assert.equal(existsSync(dir), false, `${dir} left behind`);
  await example.stop();
  assert.deepEqual(await settledResources(baseline), baseline);
});

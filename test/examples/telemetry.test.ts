// Smoke tests for examples/telemetry/: each runs as a newcomer would run it
// (`node .build/examples/telemetry/<name>.js`), shows its telemetry where it
// says it does, and exits 0 by itself on SIGINT / SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { httpGet } from '../helpers/prometheus-server.js';

const prometheusExample = fileURLToPath(new URL('../../examples/telemetry/prometheus.js', import.meta.url));
const otlpExample = fileURLToPath(new URL('../../examples/telemetry/otlp-jaeger.js', import.meta.url));

/** A running example process with its output so far. */
interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `pattern`; rejects after `timeoutMs` or if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal); kills it and rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
}

const running: ChildProcess[] = [];
let receiver: OtlpReceiver | undefined;

after(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver?.close();
});

function run(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForLine(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = out.match(pattern);
        if (match !== null) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async exit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`did not exit within ${timeoutMs} ms (something left open?):\n${out}\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

test('prometheus example: serves http_client_request_duration_seconds for orders on /metrics, exits 0 on SIGINT', async () => {
  // Port 0: the example picks a free port and prints it.
  const example = run(prometheusExample, { OTEL_EXPORTER_PROMETHEUS_PORT: '0' });
  const [, metricsUrl] = await example.waitForLine(/metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/);
  assert.ok(metricsUrl);
  const [, target] = await example.waitForLine(/scrape_configs: .*targets: \['(127\.0\.0\.1:\d+)'\]/);
  assert.equal(`http://${target}/metrics`, metricsUrl);

  // Calls run four times a second: within a few seconds the histogram has samples for the service.
  const deadline = Date.now() + 30_000;
  let text = '';
  // A completed call: a 200 attempt and the call's own histogram (a first attempt may time out on a busy machine and be retried).
  const answered = /^http_client_request_duration_seconds_count\{[^}]*meshkit_service="orders"[^}]*http_response_status_code="200"[^}]*\} [1-9]/m;
  const called = /^meshkit_client_call_duration_seconds_count\{[^}]*meshkit_service="orders"[^}]*\} [1-9]/m;
  while (!answered.test(text) || !called.test(text)) {
    assert.ok(Date.now() < deadline, `no completed call to orders in:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await httpGet(metricsUrl);
    assert.equal(response.status, 200);
    text = response.text;
  }
  assert.match(text, /^# TYPE http_client_request_duration_seconds histogram$/m);
  assert.match(text, /^# TYPE meshkit_client_call_duration_seconds histogram$/m);
  assert.match(text, /^http_client_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);

  example.child.kill('SIGINT');
  assert.equal(await example.exit(), 0);
  assert.equal(example.stderr(), '');
  assert.match(example.stdout(), /SIGINT: stopping\nstopped\n$/);
});

test('otlp example: sends the call spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces as OTLP/JSON, exits 0 on SIGTERM after flushing', async () => {
  receiver = await startOtlpReceiver();
  // The base endpoint, as for a collector or Jaeger: the exporter appends /v1/traces.
  const example = run(otlpExample, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}` });
  await example.waitForLine(new RegExp(`sending spans to http://127\\.0\\.0\\.1:${receiver.port}/v1/traces`));

  // Two calls a second, exported every second: wait for a complete call (app span and call span; a call sent once has no attempt spans).
  await receiver.waitFor('a place-order span with its call span', (spans) => spans.some((app) => {
    if (app.name !== 'place-order') return false;
    return spans.some((s) => s.parentSpanId === app.spanId && s.attributes['meshkit.attempts'] !== undefined);
  }), 30_000);

  example.child.kill('SIGTERM');
  assert.equal(await example.exit(), 0);
  assert.equal(example.stderr(), '');
  assert.match(example.stdout(), /SIGTERM: stopping\nstopped\n$/);
  assert.deepEqual(receiver.rejected, []);
  const spans = receiver.spans();
  assert.ok(spans.every((s) => s.resource['service.name'] === 'meshkit-example'));
  // Shutdown flushed: every exported call span's attempts were exported too, none cut off
  // (a call sent once is its call span alone; one with more attempts has a span for each).
  for (const call of spans.filter((s) => s.scope.name === 'meshkit' && s.attributes['meshkit.attempts'] !== undefined)) {
    const attempts = spans.filter((s) => s.parentSpanId === call.spanId);
    const sent = call.attributes['meshkit.attempts'] as number;
    assert.equal(attempts.length, sent > 1 ? sent : 0, `call ${call.spanId} has all its attempt spans`);
  }
  for (const app of spans.filter((s) => s.name === 'place-order')) {
    assert.ok(spans.some((s) => s.parentSpanId === app.spanId), `place-order ${app.spanId} has its call span`);
  }
});

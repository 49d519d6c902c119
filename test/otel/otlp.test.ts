// Spans leave through the real OTLP/HTTP exporter (BatchSpanProcessor +
// OTLPTraceExporter, as the OTLP example wires them) and arrive at a loopback
// receiver, which decodes the OTLP/JSON body the way a collector or Jaeger would.
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { start, type OtlpExample } from '../../examples/telemetry/otlp-jaeger.js';
import { INSTRUMENTATION_SCOPE } from '../../src/otel/index.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { settledResources } from '../helpers/resources.js';

// OTLP's SpanKind values (the API's + 1).
const INTERNAL = 1;
const CLIENT = 3;
// OTLP's StatusCode values.
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

let receiver: OtlpReceiver | undefined;
let example: OtlpExample | undefined;
let baseline: string[] = [];

before(async () => {
  baseline = await settledResources();
});

after(async () => {
  await example?.stop();
  await receiver?.close();
});

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const childrenOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] =>
  spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

test('spans sent through the OTLP/HTTP exporter arrive as OTLP/JSON: call span, attempt spans of a retried call, ids and attributes', async () => {
  receiver = await startOtlpReceiver();
  // An export delay far beyond the test: spans reach the receiver only when flushed.
  example = await start({ url: receiver.tracesUrl, intervalMs: 10, exportDelayMs: 600_000, log: () => {} });
  const ports = example.endpoints.map((e) => Number(e.split(':')[1]));

  // The retried call to look for: a call span whose two attempts are a 503 and the resend that succeeded.
  // (Rarely the resend meets the other instance's own fifth request and needs a third attempt,
  // or a busy machine times an attempt out: then the test waits for the next 503.)
  const status = (s: ReceivedSpan): unknown => s.attributes['http.response.status_code'];
  const retried = (spans: readonly ReceivedSpan[]): ReceivedSpan | undefined => spans.find((s) => {
    if (s.scope.name !== INSTRUMENTATION_SCOPE || s.attributes['meshkit.attempts'] !== 2) return false;
    const kids = childrenOf(spans, s);
    return kids.length === 2 && kids.some((k) => status(k) === 503) && kids.some((k) => status(k) === 200);
  });

  // Each instance answers its fifth request with 503: wait for one, and for the retried call to finish.
  const waitForA503 = async (after: number): Promise<void> => {
    let callsAfter503 = 0;
    await waitUntil('an upstream 503', () => {
      const seen = example?.seen() ?? [];
      if (seen.filter((s) => s.status === 503).length <= after) return false;
      callsAfter503 ||= (example?.calls() ?? 0) + 2;
      return (example?.calls() ?? 0) >= callsAfter503;
    });
  };
  await waitForA503(0);
  assert.equal(receiver.spans().length, 0, 'nothing exported before the flush (the batch delay is 10 minutes)');
  await example.flush();
  assert.ok(receiver.spans().length > 0, 'forceFlush() exported the ended spans');
  for (let round = 1; retried(receiver.spans()) === undefined; round++) {
    assert.ok(round < 10, 'no call with a 503 attempt and a 200 resend after 10 upstream 503s');
    await waitForA503(example.seen().filter((s) => s.status === 503).length);
    await example.flush();
  }
  const spans = receiver.spans();

  // The wire format: OTLP/JSON, which Jaeger's and the collector's OTLP/HTTP receivers accept.
  assert.deepEqual(receiver.rejected, []);
  for (const e of receiver.exports) assert.match(e.contentType, /^application\/json/);
  assert.ok(spans.every((s) => s.resource['service.name'] === 'meshkit-example'), 'resource service.name travels with every span');

  const call = retried(spans);
  assert.ok(call);
  const app = spans.find((s) => s.spanId === call.parentSpanId);
  assert.ok(app, 'the call span has the caller\'s span as its parent');
  assert.equal(app.name, 'place-order');
  assert.equal(app.kind, INTERNAL);
  assert.equal(app.parentSpanId, undefined);
  assert.equal(app.scope.name, 'meshkit-example');

  // Call span: one per logical call, named by the method, CLIENT, in meshkit's scope.
  assert.equal(call.name, 'GET');
  assert.equal(call.kind, CLIENT);
  assert.equal(call.traceId, app.traceId);
  assert.equal(call.scope.name, INSTRUMENTATION_SCOPE);
  assert.equal(call.attributes['meshkit.service'], example.service);
  assert.equal(call.attributes['http.request.method'], 'GET');
  assert.equal(call.attributes['http.response.status_code'], 200);
  assert.equal(call.attributes['meshkit.attempts'], 2);
  assert.equal(call.status.code, STATUS_UNSET);
  assert.ok(call.startTimeUnixNano <= call.endTimeUnixNano);

  // Its two attempts: the 503 and the resend that succeeded, on the endpoints meshkit picked.
  const attempts = childrenOf(spans, call).sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
  assert.equal(attempts.length, 2);
  const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
  assert.equal(second.attributes['http.request.resend_count'], 1);
  for (const attempt of attempts) {
    assert.equal(attempt.name, 'GET');
    assert.equal(attempt.kind, CLIENT);
    assert.equal(attempt.traceId, call.traceId);
    assert.equal(attempt.attributes['http.request.method'], 'GET');
    assert.equal(attempt.attributes['server.address'], '127.0.0.1');
    assert.ok(ports.includes(attempt.attributes['server.port'] as number), `server.port ${String(attempt.attributes['server.port'])} is one of ${ports.join(', ')}`);
    assert.match(String(attempt.attributes['url.full']), /^http:\/\/127\.0\.0\.1:\d+\/v1\/orders\/\d+$/);
    // Within the call, give or take the SDK's clock: each span's start is Date.now() (whole ms) and its end adds performance.now() time.
    const slack = 2_000_000n;
    assert.ok(
      call.startTimeUnixNano - slack <= attempt.startTimeUnixNano && attempt.endTimeUnixNano <= call.endTimeUnixNano + slack,
      `attempt ${attempt.startTimeUnixNano}..${attempt.endTimeUnixNano} lies within the call ${call.startTimeUnixNano}..${call.endTimeUnixNano}`,
    );
  }
  assert.equal(first.attributes['http.response.status_code'], 503);
  assert.equal(first.attributes['error.type'], '503');
  assert.equal(first.status.code, STATUS_ERROR);
  assert.equal(first.attributes['http.request.resend_count'], undefined);
  assert.equal(second.attributes['http.response.status_code'], 200);
  assert.equal(second.status.code, STATUS_UNSET);
  assert.equal(call.attributes['server.port'], second.attributes['server.port']);
  // Retries move on: the resend went to the other instance.
  assert.notEqual(first.attributes['server.port'], second.attributes['server.port']);

  // W3C trace context reached the upstream: the first request carried the call span's traceparent (it went out
  // before anyone knew a retry would follow), the resend its own attempt span's.
  const carried = new Set(example.seen().map((s) => s.traceparent));
  for (const span of [call, second]) {
    assert.ok(carried.has(`00-${span.traceId}-${span.spanId}-01`), `no upstream request carried the traceparent of span ${span.spanId}`);
  }
  assert.ok(!carried.has(`00-${first.traceId}-${first.spanId}-01`), 'the first attempt\'s span was made after its request left');

  // stop() shuts the SDK down, which exports what was still queued: every call made is in the receiver.
  await example.stop();
  const appSpans = receiver.spans().filter((s) => s.name === 'place-order');
  assert.equal(appSpans.length, example.calls(), 'one place-order span per completed call, none lost at shutdown');
  assert.equal(new Set(receiver.spans().map((s) => s.spanId)).size, receiver.spans().length, 'no span exported twice');
  assert.deepEqual(receiver.rejected, []);
  await receiver.close();
  assert.deepEqual(await settledResources(baseline), baseline);
});

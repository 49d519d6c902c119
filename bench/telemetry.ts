/**
 * Telemetry rows of the overhead bench: the foundation client with
 * `openTelemetry()` (a) on the API's no-op providers (nothing registered: what
 * a library user pays before choosing an SDK; target: within noise of no
 * telemetry) and (b) on the real SDK: a BasicTracerProvider with a
 * BatchSpanProcessor (default settings) feeding an exporter that drops what it
 * gets, and a MeterProvider whose reader aggregates every record.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Client } from '../src/index.js';
import { openTelemetry } from '../src/otel/index.js';
import type { HttpClientUnderTest } from './http-clients.js';
import { buildBenchClient } from './meshkit-client.js';

export const TELEMETRY_NOOP_ID = 'meshkit-otel-noop';
export const TELEMETRY_SDK_ID = 'meshkit-otel-sdk';
/** HTTP row: the SDK row with `callDuration: false`, recording what issue 14's targets name (call span, attempt spans, `http.client.request.duration`). */
export const TELEMETRY_SDK_NO_CALL_DURATION_ID = 'meshkit-otel-sdk-no-call-duration-request';

/** Counts and drops spans, so the bench measures meshkit and the SDK, not an exporter's I/O. */
class DroppingExporter implements SpanExporter {
  exported = 0;

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {}
}

/** A reader nobody collects from: instruments still aggregate every record, as under a Prometheus exporter. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The SDK the `sdk` rows and the undici-instrumentation anchor use; one per row so rows never share queues. */
export function startSdk(): { tracerProvider: BasicTracerProvider; meterProvider: MeterProvider; exporter: DroppingExporter; shutdown(): Promise<void> } {
  const exporter = new DroppingExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  return {
    tracerProvider,
    meterProvider,
    exporter,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The two telemetry variants of the foundation client. */
function telemetryClients(name: string, endpoints: readonly string[], connections?: number): {
  noop: Client; sdk: Client; close(): Promise<void>;
} {
  const sdkParts = startSdk();
  // No providers given and none registered: the API's no-op tracer and meter.
  const noop = buildBenchClient(`${name}-otel-noop`, endpoints, connections, openTelemetry());
  const sdk = buildBenchClient(`${name}-otel-sdk`, endpoints, connections,
    openTelemetry({ tracerProvider: sdkParts.tracerProvider, meterProvider: sdkParts.meterProvider }));
  return {
    noop,
    sdk,
    async close() {
      await Promise.allSettled([noop.close(), sdk.close()]);
      await sdkParts.shutdown();
    },
  };
}

type Loop = (calls: number) => Promise<void>;

/**
 * Pipeline rows (no network): `c.call(work)` through the foundation client
 * with no-op telemetry and with the SDK. Returns the loops and their cleanup.
 */
export function telemetryPipelineLoops(
  endpoints: readonly string[],
  work: (endpoint: unknown, ctx?: unknown) => Promise<number>,
  callOptions: { readonly idempotent: true },
): { loops: { readonly id: string; readonly label: string; readonly loop: Loop }[]; close(): Promise<void> } {
  const clients = telemetryClients('bench-pipeline', endpoints);
  return {
    loops: [
      {
        id: TELEMETRY_NOOP_ID, label: 'meshkit foundation + openTelemetry() no-op',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await clients.noop.call(work, callOptions); },
      },
      {
        id: TELEMETRY_SDK_ID, label: 'meshkit foundation + openTelemetry() SDK batch',
        loop: async (calls) => { for (let i = 0; i < calls; i++) await clients.sdk.call(work, callOptions); },
      },
    ],
    close: () => clients.close(),
  };
}

function requestClient(id: string, description: string, c: Client, close: () => Promise<void>): HttpClientUnderTest {
  return {
    id,
    description,
    async send() {
      const { statusCode, body } = await c.request({ path: '/', method: 'GET' });
      await body.text();
      if (statusCode !== 200) throw new Error(`unexpected status ${statusCode}`);
    },
    close,
  };
}

/**
 * HTTP rows: `c.request` through the foundation client with no-op telemetry,
 * with the SDK, and with the SDK and `callDuration: false` (its own SDK, so
 * rows never share a span queue).
 */
export function telemetryHttpClients(hostPort: string, connections: number): HttpClientUnderTest[] {
  const clients = telemetryClients('bench-request', [hostPort], connections);
  const leanSdk = startSdk();
  const lean = buildBenchClient('bench-request-otel-sdk-no-call-duration', [hostPort], connections,
    openTelemetry({ tracerProvider: leanSdk.tracerProvider, meterProvider: leanSdk.meterProvider, callDuration: false }));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    await Promise.allSettled([clients.close(), lean.close()]);
    await leanSdk.shutdown();
  })());
  return [
    requestClient(`${TELEMETRY_NOOP_ID}-request`, 'meshkit c.request, foundation + openTelemetry() on the no-op API', clients.noop, close),
    requestClient(`${TELEMETRY_SDK_ID}-request`,
      'meshkit c.request, foundation + openTelemetry() on the SDK (BatchSpanProcessor, dropping exporter; metrics aggregated)',
      clients.sdk, close),
    requestClient(TELEMETRY_SDK_NO_CALL_DURATION_ID,
      'meshkit c.request, foundation + openTelemetry({ callDuration: false }) on the SDK: one span and one http.client.request.duration record per call sent once',
      lean, close),
  ];
}

/**
 * The no-op target: openTelemetry() with no SDK registered is within noise of
 * no telemetry. Measured as the median over rounds of (no-op row - foundation
 * row) in the same round; the noise is half the foundation row's own spread
 * over the rounds (max - min).
 */
export function telemetryNoopTarget(pipeline: {
  readonly subjects: readonly { readonly id: string; readonly ns: readonly number[] }[];
}, foundationId: string): { id: string; description: string; measured: string; pass: boolean } {
  const foundation = pipeline.subjects.find((s) => s.id === foundationId)?.ns ?? [];
  const noop = pipeline.subjects.find((s) => s.id === TELEMETRY_NOOP_ID)?.ns ?? [];
  const diffs = noop.map((ns, round) => ns - (foundation[round] ?? Number.NaN)).sort((a, b) => a - b);
  const added = diffs.length === 0 ? Number.NaN : (diffs[Math.floor((diffs.length - 1) / 2)] as number);
  const noise = foundation.length === 0 ? Number.NaN : (Math.max(...foundation) - Math.min(...foundation)) / 2;
  return {
    id: 'telemetry-noop-added-ns',
    description: 'openTelemetry() without an SDK adds no more than noise to the foundation pipeline',
    measured: Number.isFinite(added) ? `${Math.round(added)} ns (noise ${Math.round(noise)} ns)` : 'n/a',
    pass: added <= noise,
  };
}

// meshkit traces in Jaeger (or any OTLP backend): the OpenTelemetry tracing
// SDK with a BatchSpanProcessor and the OTLP/HTTP exporter.
//
// Start Jaeger all-in-one (it accepts OTLP/HTTP on 4318, UI on 16686):
//   docker run --rm -p 127.0.0.1:16686:16686 -p 127.0.0.1:4318:4318 jaegertracing/all-in-one:latest
// then:
//   npm run compile && node .build/examples/telemetry/otlp-jaeger.js
// and open http://127.0.0.1:16686, service "meshkit-example".
//
// Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL), else
// OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else http://127.0.0.1:4318/v1/traces.
//
// Each loop iteration is a "place-order" span; inside it the meshkit call
// span. A call sent once is that one span; a retried call also shows one
// span per attempt, the second with http.request.resend_count 1. The upstream
// logs the W3C traceparent it received: the call span for the first attempt,
// the attempt span for a resend.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { client } from '../../src/index.js'; // in your project: from 'meshkit'
import { openTelemetry } from '../../src/otel/index.js'; // in your project: from 'meshkit/otel'
import { startCallLoop } from './call-loop.js';
import { startOrdersFleet, type SeenRequest } from './orders-fleet.js';
import { isMain, stopOnSignal } from './standalone.js';

/** Where spans go when neither the option nor the OTLP environment variables say. */
export const DEFAULT_TRACES_URL = 'http://127.0.0.1:4318/v1/traces';

/** Options of {@link start}. */
export interface OtlpExampleOptions {
  /** The OTLP/HTTP traces URL. Default: the OTLP environment variables, else {@link DEFAULT_TRACES_URL}. */
  readonly url?: string;
  /** Pause between calls, ms. Default 500. */
  readonly intervalMs?: number;
  /** The BatchSpanProcessor's delay between exports, ms. Default 1000 (the SDK's 5000 makes a demo look stuck). */
  readonly exportDelayMs?: number;
  /** Where progress lines go. Default `console.log`. */
  readonly log?: (line: string) => void;
}

/** The running example. */
export interface OtlpExample {
  /** The service the client calls (`meshkit.service`). */
  readonly service: string;
  /** Where the spans go. */
  readonly tracesUrl: string;
  /** `127.0.0.1:<port>` of the upstream instances. */
  readonly endpoints: readonly string[];
  /** What the upstream instances received (with the traceparent each carried). */
  seen(): readonly SeenRequest[];
  /** Calls completed so far. */
  calls(): number;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Stops calling, closes the client, flushes and shuts the SDK down, closes the upstreams. */
  stop(): Promise<void>;
}

/** The URL the exporter will use: the option, else the OTLP env vars (resolved the way the exporter does), else the default. */
function tracesUrl(option: string | undefined): string {
  if (option !== undefined) return option;
  const specific = process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  if (specific !== undefined && specific !== '') return specific;
  const base = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (base !== undefined && base !== '') return `${base.replace(/\/$/, '')}/v1/traces`;
  return DEFAULT_TRACES_URL;
}

/** Starts the example; resolves once the first call is under way. */
export async function start(options: OtlpExampleOptions = {}): Promise<OtlpExample> {
  const log = options.log ?? console.log;
  const service = 'orders';
  const url = tracesUrl(options.url);

  const tracerProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'meshkit-example' }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: options.exportDelayMs ?? 1000 }),
    ],
  });
  // An active-context manager makes the app's own span the parent of the
  // call span (meshkit reads context.active() when a call starts). The
  // NodeSDK registers one; with the bare SDK the app does.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) throw new Error('another OpenTelemetry context manager is already registered');

  const fleet = await startOrdersFleet();
  const orders = client(service)
    .endpoints(fleet.endpoints)
    .timeout({ perTry: '300ms', total: '2s' })
    .retry({ attempts: 3 })
    // The propagator writes W3C traceparent into each attempt's headers.
    .telemetry(openTelemetry({ tracerProvider, propagator: new W3CTraceContextPropagator() }))
    .build();

  const tracer = tracerProvider.getTracer('meshkit-example');
  const loop = startCallLoop((n) => tracer.startActiveSpan('place-order', async (span) => {
    try {
      const res = await orders.request({ path: `/v1/orders/${n}` });
      await res.body.dump();
      if (n % 20 === 0) log(`${n} calls to ${service}; last trace ${span.spanContext().traceId}`);
    } finally {
      span.end();
    }
  }), options.intervalMs ?? 500, (error) => log(`call failed: ${String(error)}`));

  log(`calling ${service} at ${fleet.endpoints.join(', ')}`);
  log(`sending spans to ${url} (OTLP/HTTP); in Jaeger look for service meshkit-example`);

  let stopped: Promise<void> | undefined;
  return {
    service,
    tracesUrl: url,
    endpoints: fleet.endpoints,
    seen: () => fleet.seen(),
    calls: () => loop.calls(),
    flush: () => tracerProvider.forceFlush(),
    stop() {
      stopped ??= (async () => {
        await loop.stop();
        await orders.close();
        // Exports what is still queued, then closes the exporter.
        await tracerProvider.shutdown();
        context.disable();
        await fleet.close();
      })();
      return stopped;
    },
  };
}

if (isMain(import.meta.url)) {
  stopOnSignal(await start());
}

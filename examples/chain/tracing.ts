// OpenTelemetry for one process of the chain: W3C propagation, an
// AsyncLocalStorage context manager, and spans exported over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (Jaeger accepts OTLP natively).
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The process's tracing; `shutdown()` flushes what is left. */
export interface Tracing {
  readonly tracer: Tracer;
  shutdown(): Promise<void>;
}

/** Registers the SDK globally for `serviceName` (meshkit's telemetry and middleware use the global API). */
export function startTracing(serviceName: string): Tracing {
  const url = process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: url === undefined || url === '' ? [] : [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 200 })],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    tracer: provider.getTracer('meshkit-chain-example'),
    shutdown: () => provider.shutdown(),
  };
}

/** The trace id of the active span, or '' outside one. */
export function activeTraceId(): string {
  return trace.getActiveSpan()?.spanContext().traceId ?? '';
}

/**
 * The `sdk-alone` pipeline row: the OpenTelemetry SDK doing, with no meshkit
 * in the way, exactly what meshkit's observer asks of it for one traced
 * `c.call` through the foundation client: one CLIENT span with the same name,
 * start and end times and six attributes, the span's context made for the
 * attempt's headers and injected, and one `meshkit.client.call.duration`
 * record. Its own SDK (own providers, same setup as the `sdk` row), so queues
 * are never shared. The SDK row minus this row is what meshkit's own code
 * adds on top of the SDK's work.
 */
import {
  context, propagation, SpanKind, trace,
  type Context, type TextMapSetter,
} from '@opentelemetry/api';
import { DURATION_BUCKETS, METRIC } from '../src/otel/call-metrics.js';
import { ATTR } from '../src/otel/semconv.js';
import { startSdk } from './telemetry.js';

/** The row's id in the pipeline results (`pipeline.subjects[].id`). */
export const TELEMETRY_SDK_ALONE_ID = 'otel-sdk-alone';

type Loop = (calls: number) => Promise<void>;

/** A carrier like the attempt meshkit injects into: headers written one by one. */
const SETTER: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * The loop of the `sdk-alone` row, calling `work(endpoint)` once per call
 * inside the span, as the pipeline rows do; and its cleanup.
 */
export function sdkAloneLoop(
  endpoint: { readonly id: string; readonly host: string; readonly port: number },
  work: (endpoint: unknown) => Promise<number>,
): { readonly id: string; readonly label: string; readonly loop: Loop; close(): Promise<void> } {
  const sdk = startSdk();
  const tracer = sdk.tracerProvider.getTracer('meshkit-bench-sdk-alone');
  const callDuration = sdk.meterProvider.getMeter('meshkit-bench-sdk-alone').createHistogram(METRIC.callDuration, {
    unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  const service = 'bench-pipeline-sdk-alone';
  const name = `${service} call`;
  const serviceAttributes = { [ATTR.service]: service };
  const once = async (): Promise<void> => {
    const parent: Context = context.active();
    const startedAt = performance.now();
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: performance.timeOrigin + startedAt }, parent);
    span.setAttribute(ATTR.service, service);
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers, SETTER);
    await work(endpoint);
    const endedAt = performance.now();
    span.setAttribute(ATTR.attempts, 1);
    span.setAttribute(ATTR.endpointId, endpoint.id);
    span.setAttribute(ATTR.serverAddress, endpoint.host);
    span.setAttribute(ATTR.serverPort, endpoint.port);
    span.setAttribute(ATTR.outcome, 'ok');
    span.end(performance.timeOrigin + endedAt);
    callDuration.record((endedAt - startedAt) / 1000, serviceAttributes);
  };
  return {
    id: TELEMETRY_SDK_ALONE_ID,
    label: 'OpenTelemetry SDK alone, what meshkit records',
    loop: async (calls) => {
      for (let i = 0; i < calls; i++) await once();
    },
    close: () => sdk.shutdown(),
  };
}

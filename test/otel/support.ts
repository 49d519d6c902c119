import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { client, roundRobin, type CallObserverFactory, type Client } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

/** A metric reader a test collects from by hand. */
export class TestMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** Every metric collected now, flattened across scopes. */
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }
}

/** The real SDK, wired explicitly (nothing registered globally except an async context manager). */
export interface Sdk {
  readonly exporter: InMemorySpanExporter;
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  readonly reader: TestMetricReader;
  readonly propagator: W3CTraceContextPropagator;
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

let contextManager: AsyncLocalStorageContextManager | undefined;

/** Makes `context.active()` follow async calls (what an application's SDK setup does); once per process. */
export function enableAsyncContext(): void {
  if (contextManager !== undefined) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

export function startSdk(): Sdk {
  enableAsyncContext();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    exporter,
    tracerProvider,
    meterProvider,
    reader,
    propagator: new W3CTraceContextPropagator(),
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The spans of one call: its call span (no parent among them) and its attempt spans (children), by attempt number. */
export function callTree(spans: readonly ReadableSpan[]): { call: ReadableSpan; attempts: ReadableSpan[] } {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const roots = spans.filter((s) => s.parentSpanContext === undefined || !ids.has(s.parentSpanContext.spanId));
  if (roots.length !== 1) throw new Error(`expected one call span, got ${roots.length}: ${spans.map((s) => s.name).join(', ')}`);
  const call = roots[0] as ReadableSpan;
  const attempts = spans
    .filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId)
    .sort((a, b) => Number(a.attributes['meshkit.attempt']) - Number(b.attributes['meshkit.attempt']));
  return { call, attempts };
}

/** A metric by name, or throws listing what there is. */
export function metric(metrics: readonly MetricData[], name: string): MetricData {
  const found = metrics.find((m) => m.descriptor.name === name);
  if (found === undefined) throw new Error(`no metric ${name}; have ${metrics.map((m) => m.descriptor.name).join(', ')}`);
  return found;
}

/** Data points of a metric whose attributes include `match`. */
export function points(data: MetricData, match: Record<string, unknown> = {}): DataPoint<unknown>[] {
  return (data.dataPoints as DataPoint<unknown>[]).filter((p) =>
    Object.entries(match).every(([key, value]) => p.attributes[key] === value));
}

/** Two upstreams and a client that hedges between them; see {@link startHedging}. */
export interface Hedging extends AsyncDisposable {
  readonly pair: Upstream[];
  /** Hedges after 150 ms, round robin over `pair`; its connections are warm. */
  readonly client: Client;
  /** The next request to arrive stalls (3 s, or until cancelled): the hedge to the other upstream answers first. */
  stallNext(): void;
}

/**
 * Starts two upstreams answering 'fast' and a hedging client with `telemetry`,
 * and warms one connection to each first, so that a stalled first attempt
 * surely arrives first and its hedge (to the other endpoint) answers at once.
 * Disposing closes the client, then the upstreams.
 */
export async function startHedging(telemetry: CallObserverFactory): Promise<Hedging> {
  const pair = await startUpstreams([{}, {}]);
  let stall = false;
  for (const u of pair) {
    u.handler = (_req, res) => {
      if (stall) {
        stall = false;
        const timer = setTimeout(() => res.writeHead(200).end('slow'), 3000);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      res.writeHead(200).end('fast');
    };
  }
  const hedging = client('orders').endpoints(pair.map((u) => u.address)).balancer(roundRobin())
    .hedge({ after: '150ms' }).telemetry(telemetry).build();
  const dispose = async (): Promise<void> => {
    await hedging.close();
    await Promise.all(pair.map((u) => u.close()));
  };
  try {
    for (let i = 0; i < 2; i++) await (await hedging.request({ path: '/warm' })).body.dump();
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    pair,
    client: hedging,
    stallNext() {
      stall = true;
    },
    [Symbol.asyncDispose]: dispose,
  };
}

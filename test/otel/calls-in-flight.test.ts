import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { client, roundRobin } from '../../src/index.js';
import { openTelemetry } from '../../src/otel/index.js';
import { CallsInFlight } from '../../src/otel/calls-in-flight.js';
import { CallState } from '../../src/otel/call-state.js';
import type { CallContext } from '../../src/core/call-context.js';
import { heapAfterGc } from '../helpers/heap.js';
import { TestMetricReader } from './support.js';

function stateOf(name: string): CallState {
  return new CallState({ service: name } as unknown as CallContext, ROOT_CONTEXT, undefined, '', name, undefined);
}

function names(states: readonly CallState[]): string[] {
  return states.map((state) => state.name);
}

/** V8's major version: its scavenger decides what a short-lived call's objects cost the old generation. */
const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? Number.NaN;
}

describe('CallsInFlight', () => {
  it('finds each call\'s record, lists them newest first and forgets each as it is taken', () => {
    const calls = new CallsInFlight();
    const [a, b, c] = [stateOf('a'), stateOf('b'), stateOf('c')];
    for (const state of [a, b, c]) calls.add(state);
    assert.equal(calls.size, 3);
    assert.equal(calls.get(b.call), b);
    assert.deepEqual(names(calls.values()), ['c', 'b', 'a']);

    assert.equal(calls.take(b.call), b);
    assert.equal(calls.take(b.call), undefined, 'a record is taken once');
    assert.equal(calls.get(b.call), undefined);
    assert.equal(b.previousInFlight, undefined, 'a taken record holds no neighbour');
    assert.equal(b.nextInFlight, undefined);
    assert.deepEqual(names(calls.values()), ['c', 'a']);

    assert.equal(calls.take(c.call), c, 'the newest can be taken');
    assert.deepEqual(names(calls.values()), ['a']);
    calls.add(b);
    assert.deepEqual(names(calls.takeAll()), ['b', 'a']);
    assert.equal(calls.size, 0);
    assert.deepEqual(calls.values(), []);
    assert.equal(calls.get(a.call), undefined);
  });

  it('keeps a record in the call\'s observer slot when it is free, else beside the call, and empties the slot it filled', () => {
    const call = { service: 'slotted', observerRecord: undefined } as unknown as CallContext & { observerRecord: unknown };
    const first = new CallsInFlight();
    const second = new CallsInFlight();
    const mine = new CallState(call, ROOT_CONTEXT, undefined, '', 'first', undefined);
    const theirs = new CallState(call, ROOT_CONTEXT, undefined, '', 'second', undefined);
    first.add(mine);
    second.add(theirs);
    assert.equal(call.observerRecord, mine, 'the first list took the free slot');
    assert.equal(first.get(call), mine);
    assert.equal(second.get(call), theirs, 'the second list finds its own record, not the one in the slot');
    assert.equal(second.take(call), theirs);
    assert.equal(call.observerRecord, mine, 'taking from the second list leaves the slot alone');
    assert.equal(first.take(call), mine);
    assert.equal(call.observerRecord, undefined, 'the slot is free again');
    assert.equal(first.get(call), undefined);
  });

  it('serves two openTelemetry() observers of one client, each with every call\'s span', async () => {
    const exporters = [new InMemorySpanExporter(), new InMemorySpanExporter()] as const;
    const providers = [
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporters[0])] }),
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporters[1])] }),
    ] as const;
    const c = client('two-observers').endpoints(['127.0.0.1:1']).balancer(roundRobin())
      .telemetry(openTelemetry({ tracerProvider: providers[0], metrics: false }))
      .telemetry(openTelemetry({ tracerProvider: providers[1], metrics: false }))
      .build();
    try {
      // Overlapping calls, each ending at its own time.
      const results = await Promise.all([3, 1, 2].map((n) => c.call(() => new Promise<number>((resolve) => setTimeout(() => resolve(n), n)))));
      assert.deepEqual(results, [3, 1, 2]);
      for (const exporter of exporters) {
        const spans = exporter.getFinishedSpans();
        assert.equal(spans.length, 3, 'one call span per call, in each observer');
        for (const span of spans) assert.equal(span.attributes['meshkit.attempts'], 1);
      }
    } finally {
      await c.close();
      await Promise.all(providers.map((provider) => provider.shutdown()));
    }
  });

  it('does not make the old generation keep the calls it saw (no per-call Map: its regrown tables would)', async () => {
    // Spans are made and recorded (no processor keeps them); every call records its histograms.
    const tracerProvider = new BasicTracerProvider();
    const meterProvider = new MeterProvider({ readers: [new TestMetricReader()] });
    const c = client('in-flight-gc').endpoints(['127.0.0.1:1']).balancer(roundRobin())
      .telemetry(openTelemetry({ tracerProvider, meterProvider }))
      .build();
    // Each call holds a little garbage of its own, as a response does, and 64 run at once, as under load.
    const work = (): Promise<number[]> => new Promise((resolve) => setImmediate(() => resolve(new Array<number>(64).fill(0))));
    const run = async (calls: number): Promise<void> => {
      let left = calls;
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (left-- > 0) await c.call(work);
      }));
    };
    // Old-space growth per call over one run, before and after a full GC.
    const measure = async (calls: number): Promise<{ grown: number; kept: number }> => {
      heapAfterGc();
      const before = oldSpaceUsed();
      await run(calls);
      const grown = (oldSpaceUsed() - before) / calls;
      heapAfterGc();
      return { grown, kept: (oldSpaceUsed() - before) / calls };
    };
    try {
      await run(10_000); // long enough for the observer's own structures to reach the old generation
      // Two runs, and the smaller figure of each: what calls keep or promote shows in every run, while growth
      // that happens once (V8's metadata for code it optimises late, on a busy machine) lands in one run only.
      const runs = [await measure(5_000), await measure(5_000)];
      const grownPerCall = Math.min(...runs.map((r) => r.grown));
      const keptPerCall = Math.min(...runs.map((r) => r.kept));
      // Nothing a call saw is kept once it ended, on any V8.
      assert.ok(keptPerCall < 50, `the old generation kept ${Math.round(keptPerCall)} B per call after a full GC`);
      if (V8_MAJOR < 12) {
        // Node 20 (V8 11): about 1,500 B per call promoted with a Map of calls in flight, about 30 B without.
        assert.ok(grownPerCall < 400, `the old generation grew by ${Math.round(grownPerCall)} B per call`);
      } else {
        // On Node 24 (V8 13) the old space grows by about 500 B per call with tracing on, with or without the Map
        // (2 B without tracing): mostly objects V8 pretenures (about 165 B per call under
        // --no-allocation-site-pretenuring), so this measure cannot tell the two apart. An open finding of
        // issue 14 (bench/README.md); said loudly rather than asserted.
        console.warn(`# calls-in-flight: on V8 ${process.versions.v8} the old generation grew by ${Math.round(grownPerCall)} B per call with tracing on (kept after GC: ${Math.round(keptPerCall)} B)`);
      }
    } finally {
      await c.close();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    }
  });
});

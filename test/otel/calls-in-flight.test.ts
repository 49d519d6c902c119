import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
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
    try {
      await run(10_000); // long enough for the observer's own structures to reach the old generation
      heapAfterGc();
      const before = oldSpaceUsed();
      const calls = 5_000;
      await run(calls);
      const grownPerCall = (oldSpaceUsed() - before) / calls;
      // Measured: about 1,600 B per call with a Map of calls in flight, about 30 B without.
      assert.ok(grownPerCall < 400, `the old generation grew by ${Math.round(grownPerCall)} B per call`);
    } finally {
      await c.close();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    }
  });
});

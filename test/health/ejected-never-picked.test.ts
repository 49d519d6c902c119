import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { leastRequest, peakEwma, roundRobin, toEndpoint, type BalancerFactory, type Endpoint } from '../../src/index.js';
import { random, ringHash, weighted } from '../../src/balancing/index.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../../src/health/outlier-options.js';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';
import { functionClassifier, functionTransport } from '../../src/transports/function.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const unavailable = new HttpStatusClassifier().classify(503);
// The P2C family first; the others too, since outlier detection hands every balancer the same set.
const factories: Record<string, () => BalancerFactory> = {
  leastRequest: () => leastRequest(), peakEwma: () => peakEwma(), roundRobin, random, weighted, ringHash: () => ringHash(),
};

describe('ejection and balancers', () => {
  for (const [name, factory] of Object.entries(factories)) {
    it(`${name} never picks an ejected endpoint unless in panic mode (property)`, () => {
      fc.assert(fc.property(
        fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer(),
        (count, maxPercent, panicThreshold, seed) => {
          const clock = new VirtualClock(0, seed);
          const endpoints: Endpoint[] = Array.from({ length: count }, (_, i) => toEndpoint(`127.0.0.1:${3000 + i}`, 'e'));
          const detector = new EndpointHealthFilter(resolveOutlierDetection({ maxEjectionPercent: maxPercent, panicThreshold }), clock, () => {});
          detector.setEndpoints(endpoints);
          for (const e of endpoints) for (let i = 0; i < 5; i++) detector.observe(e, unavailable);
          const ejected = new Set(detector.snapshot().filter((h) => h.ejected).map((h) => h.id));
          const healthyPercent = ((count - ejected.size) * 100) / count;
          const panic = healthyPercent < panicThreshold;
          const picker = factory().create({ service: 's', clock }).update(detector.available);
          let pickedEjected = false;
          for (let i = 0; i < 50; i++) {
            // Keyed calls, so ring hash walks its ring rather than picking at random.
            const picked = picker.pick(new CallRecord('s', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined, `key-${i}`));
            // Every endpoint ejected and no panic (threshold 0): nothing to pick is the right answer.
            if (picked === undefined) assert.equal(detector.available.length, 0);
            else pickedEjected ||= ejected.has(picked.id);
          }
          assert.equal(pickedEjected && !panic, false);
          detector.close();
        },
      ), { numRuns: 60 });
    });
  }
});

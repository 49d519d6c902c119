import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { weighted } from '../../src/balancing/index.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { endpoints, newCall, tally } from './support.js';

describe('weighted', () => {
  it('converges to the weights: each endpoint within 1 + n*share picks of its share (property)', () => {
    const weight = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.01, max: 100, noNaN: true }));
    fc.assert(fc.property(fc.array(weight, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2000 }), fc.integer(), (weights, picks, seed) => {
      const list = endpoints(weights.length, weights);
      const picker = weighted().create({ service: 's', clock: new VirtualClock(0, seed) }).update(list);
      const counts = tally(Array.from({ length: picks }, () => picker.pick(newCall())));
      const total = weights.reduce((a, b) => a + b, 0);
      for (const [i, endpoint] of list.entries()) {
        const share = (weights[i] as number) / total;
        const error = Math.abs((counts.get(endpoint.id) ?? 0) - picks * share);
        // EDF with a random phase per endpoint: off by under one pick, plus the phases of all n at most.
        assert.ok(error <= 1 + weights.length * share + 1e-6, `endpoint ${i}: ${counts.get(endpoint.id)} picks for share ${share} of ${picks}`);
      }
    }));
  });

  it('equal weights are plain round robin', () => {
    const list = endpoints(4);
    const picker = weighted().create({ service: 's', clock: new VirtualClock(0, 3) }).update(list);
    const counts = tally(Array.from({ length: 400 }, () => picker.pick(newCall())));
    assert.deepEqual([...counts.values()], [100, 100, 100, 100]);
  });

  it('interleaves smoothly: a weight-1 endpoint is not starved for a long run', () => {
    const list = endpoints(2, [1, 9]);
    const picker = weighted().create({ service: 's', clock: new VirtualClock(0, 5) }).update(list);
    let gap = 0;
    let maxGap = 0;
    for (let i = 0; i < 1000; i++) {
      gap = picker.pick(newCall()) === list[0] ? 0 : gap + 1;
      maxGap = Math.max(maxGap, gap);
    }
    assert.ok(maxGap <= 10, `weight-1 endpoint waited ${maxGap} picks`);
  });

  it('a retry skips tried endpoints; undefined for an empty set', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 10 }), fc.integer(), (weights, seed) => {
      const list = endpoints(weights.length, weights);
      const picker = weighted().create({ service: 's', clock: new VirtualClock(0, seed) }).update(list);
      const tried: Endpoint[] = [];
      for (let i = 0; i < list.length; i++) {
        const picked = picker.pick(newCall(undefined, tried)) as Endpoint;
        assert.ok(!tried.includes(picked));
        tried.push(picked);
      }
    }));
    assert.equal(weighted().create({ service: 's', clock: new VirtualClock() }).update([]).pick(newCall()), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InFlightTracker } from '../../src/balancing/in-flight.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { attemptOn, endpoints } from './support.js';

describe('InFlightTracker', () => {
  it('keeps the total equal to the counts of the current set: a leaver\'s attempts stop counting, a returner starts at zero', () => {
    const [a, b, c] = endpoints(3) as [Endpoint, Endpoint, Endpoint];
    const tracker = new InFlightTracker();
    tracker.sync([a, b, c]);
    const onB = [attemptOn(b), attemptOn(b), attemptOn(b)];
    for (const attempt of [attemptOn(a), attemptOn(a), ...onB]) tracker.start(attempt);
    assert.equal(tracker.total, 5);
    tracker.sync([c, a]); // b leaves with 3 in flight
    assert.equal(tracker.total, 2);
    assert.equal(tracker.get(b.id), undefined);
    assert.equal(tracker.slab.size, 2, "b's slot is free");
    tracker.sync([c, a, b]); // b is back, fresh
    assert.equal(tracker.get(b.id)?.active, 0);
    tracker.end(onB[0] as ReturnType<typeof attemptOn>); // started before b left: not counted again
    assert.equal(tracker.total, 2);
    assert.equal(tracker.get(a.id)?.active, 2);
    assert.equal(tracker.slab.values[tracker.get(a.id)?.slot as number], 2, 'the slab mirrors the count');
  });
});

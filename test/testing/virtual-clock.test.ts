import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order as time advances, and only then', async () => {
    const clock = new VirtualClock(100);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    const cancelled = clock.setTimeout(() => fired.push(['x', clock.now()]), 5);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.clearTimeout(cancelled);
    await clock.advance(15);
    assert.deepEqual(fired, [['a', 110]]);
    await clock.advance(15);
    assert.deepEqual(fired, [['a', 110], ['b', 120]]);
    assert.equal(clock.now(), 130);
  });

  it('repeats its random sequence for a seed, within [0, 1)', () => {
    const a = new VirtualClock(0, 42);
    const b = new VirtualClock(0, 42);
    const values = Array.from({ length: 1000 }, () => a.random());
    assert.deepEqual(values, Array.from({ length: 1000 }, () => b.random()));
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
  });
});

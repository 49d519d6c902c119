import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerEntry, TimerQueue } from '../../src/core/timer-queue.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

class Recorder extends TimerEntry {
  firedAt: number | undefined;
  constructor(readonly clock: VirtualClock, readonly log: string[], readonly label: string) {
    super();
  }
  override onTimeout(): void {
    this.firedAt = this.clock.now();
    this.log.push(this.label);
  }
}

describe('TimerQueue', () => {
  it('fires entries at their time, in order, on one clock timer', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue(clock);
    const log: string[] = [];
    const a = new Recorder(clock, log, 'a');
    const b = new Recorder(clock, log, 'b');
    const c = new Recorder(clock, log, 'c');
    queue.schedule(a, 100);
    queue.schedule(b, 50);
    await clock.advance(10);
    queue.schedule(c, 100);
    assert.equal(queue.size, 3);
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(200);
    assert.deepEqual(log, ['b', 'a', 'c']);
    assert.equal(b.firedAt, 50);
    assert.equal(a.firedAt, 100);
    assert.equal(c.firedAt, 110);
    assert.equal(queue.size, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('never fires a cancelled entry, and cancelling twice is harmless', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue(clock);
    const log: string[] = [];
    const entries = ['a', 'b', 'c'].map((label) => new Recorder(clock, log, label));
    for (const entry of entries) queue.schedule(entry, 30);
    queue.cancel(entries[1] as Recorder);
    queue.cancel(entries[1] as Recorder);
    queue.cancel(entries[0] as Recorder);
    await clock.advance(100);
    assert.deepEqual(log, ['c']);
  });

  it('fires late by at most 1.6 % for long delays and never early', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue(clock);
    for (const delay of [1, 7.5, 999, 1500, 10_000, 123_457]) {
      const entry = new Recorder(clock, [], String(delay));
      const start = clock.now();
      queue.schedule(entry, delay);
      await clock.advance(delay * 1.02 + 2);
      assert.ok(entry.firedAt !== undefined, `fired for ${delay}`);
      const waited = entry.firedAt - start;
      assert.ok(waited >= delay, `not early for ${delay}: ${waited}`);
      assert.ok(waited <= Math.max(delay * 1.016, Math.ceil(delay)), `late by at most 1.6 % for ${delay}: ${waited}`);
    }
  });

  it('clear() drops everything and leaves no clock timer', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue(clock);
    const log: string[] = [];
    queue.schedule(new Recorder(clock, log, 'a'), 10);
    queue.clear();
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(100);
    assert.deepEqual(log, []);
  });

  it('lets a firing entry schedule another', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue(clock);
    const log: string[] = [];
    const second = new Recorder(clock, log, 'second');
    class Chain extends Recorder {
      override onTimeout(): void {
        super.onTimeout();
        queue.schedule(second, 5);
      }
    }
    queue.schedule(new Chain(clock, log, 'first'), 5);
    await clock.advance(20);
    assert.deepEqual(log, ['first', 'second']);
    assert.equal(second.firedAt, 10);
  });
});

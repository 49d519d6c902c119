import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
import { etcdWatchSource } from '../../src/etcd/watch.js';
import { VirtualClock } from '../../src/testing/index.js';
import { closedPort } from '../helpers/upstream.js';
import { waitFor } from './fixture.js';

describe('etcd watch backoff (virtual clock, nothing listening on the etcd port)', () => {
  it('retries only when its jittered backoff timer fires, never in a tight loop, and stop() clears the timer', async () => {
    const clock = new VirtualClock(0, 42);
    const port = await closedPort();
    const source = etcdWatchSource(resolveEtcdOptions({
      service: 'nowhere', hosts: `http://127.0.0.1:${port}`, backoff: { base: 100, cap: 400 }, requestTimeout: '2s', clock,
    }));
    const errors: number[] = [];
    const stop = source.start({
      update: () => assert.fail('no set can come from a closed port'),
      error: () => errors.push(clock.now()),
      reject: () => assert.fail('nothing to reject'),
    });
    try {
      await waitFor('the first error', () => errors.length === 1);
      assert.equal(clock.pendingTimers, 1, 'one backoff timer');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(errors.length, 1, 'no retry before the virtual timer fires');
      for (let attempt = 2; attempt <= 6; attempt++) {
        await clock.advance(400); // the cap: the timer is due by then whatever the jitter
        await waitFor(`error ${attempt}`, () => errors.length === attempt);
        assert.equal(clock.pendingTimers, 1);
      }
      const gaps = errors.slice(1).map((at, i) => at - (errors[i] as number));
      assert.ok(gaps.every((gap) => gap <= 400), `delays within the cap: ${gaps.join(', ')}`);
    } finally {
      stop();
    }
    assert.equal(clock.pendingTimers, 0, 'stop() cleared the backoff timer');
  });
});

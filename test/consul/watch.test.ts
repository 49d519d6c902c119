import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { closedPort } from '../helpers/upstream.js';
import { within } from './support.js';

const MIN_INTERVAL_MS = 300;
const BASE_MS = 200;
const CAP_MS = 1600;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('consul() watch backoff (virtual clock, nothing listening on the agent port)', () => {
  it('re-polls after a full-jitter delay (never sooner than minInterval), ignores refresh() while backing off, and stop() clears its timer', async (t) => {
    const seed = 11;
    const clock = new VirtualClock(0, seed);
    // The watch draws one random number per failure from the clock: a twin clock predicts each delay.
    const twin = new VirtualClock(0, seed);
    const port = await closedPort();
    const provider = consul({
      service: 'nowhere', address: `http://127.0.0.1:${port}`, minInterval: `${MIN_INTERVAL_MS}ms`,
      backoff: { base: `${BASE_MS}ms`, cap: `${CAP_MS}ms` }, clock,
    });
    const errors: number[] = [];
    const stop = provider.subscribe({
      onUpdate: () => assert.fail('no set can come from a closed port'),
      onError: (error) => {
        assert.match(error.message, /^consul:nowhere: .*ECONNREFUSED/);
        errors.push(clock.now());
      },
    });
    const gaps: number[] = [];
    try {
      await within(5000, 'the first error', () => errors.length === 1);
      let pollStartedAt = 0;
      for (let failure = 1; failure <= 7; failure++) {
        const jitter = twin.random() * Math.min(CAP_MS, BASE_MS * 2 ** (failure - 1));
        // The delay runs from the failure; minInterval from the start of the poll that failed.
        const dueAt = Math.max((errors[failure - 1] as number) + jitter, pollStartedAt + MIN_INTERVAL_MS);
        assert.equal(clock.pendingTimers, 1, 'one timer: the re-poll');
        for (let i = 0; i < 5; i++) provider.refresh?.();
        await clock.advance(dueAt - clock.now() - 1);
        await sleep(60); // real time for a poll that should not have started
        assert.equal(errors.length, failure, `no re-poll before ${dueAt.toFixed(0)} ms (failure ${failure}), refresh() or not`);
        await clock.advance(2);
        await within(5000, `error ${failure + 1}`, () => errors.length === failure + 1);
        pollStartedAt = dueAt;
        gaps.push(dueAt - (errors[failure - 1] as number));
      }
    } finally {
      stop();
    }
    assert.equal(clock.pendingTimers, 0, 'stop() cleared the re-poll timer');
    t.diagnostic(`virtual ms from each failure to the next poll: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    assert.ok(gaps.every((gap) => gap >= MIN_INTERVAL_MS - 2 && gap <= CAP_MS), `gaps within [minInterval, cap]: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    assert.ok(new Set(gaps.map((gap) => Math.round(gap))).size >= 4, `jittered, not fixed: ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
  });
});

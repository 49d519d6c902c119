import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkhead, client, isMeshkitError, rateLimit, type Policy } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

/**
 * Issue 11, finding 11: more than 10 calls sharing one AbortSignal must not
 * trigger MaxListenersExceededWarning, also while they wait in a queue.
 */
describe('queued calls sharing one AbortSignal', () => {
  for (const [name, make] of [
    ['bulkhead', () => bulkhead({ maxConcurrent: 1, maxQueue: 100 })],
    // A virtual clock that never moves: no token accrues while the calls wait, however busy the machine is.
    ['rate limit', () => rateLimit({ rate: 100, per: '1s', burst: 1, maxWait: '10s', clock: new VirtualClock() })],
  ] as const satisfies readonly (readonly [string, () => Policy])[]) {
    it(`${name}: 25 queued calls on one signal add one listener, and the abort reaches each of them`, async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error): void => {
        warnings.push(warning.name);
      };
      process.on('warning', onWarning);
      try {
        await using c = client(`shared-${name.replace(' ', '-')}`).endpoints(['127.0.0.1:1']).policy(make()).build();
        let release: (() => void) | undefined;
        // The first call holds the slot (or the token) so the others queue.
        const holder = c.call(() => new Promise<number>((resolve) => {
          release = () => resolve(0);
        }));
        const controller = new AbortController();
        const queued = Array.from({ length: 25 }, () => c.call(async () => 1, { signal: controller.signal }).then(
          () => 'ran',
          (error: unknown) => (isMeshkitError(error) ? error.code : String(error)),
        ));
        await new Promise((resolve) => setImmediate(resolve));
        controller.abort();
        const results = await Promise.all(queued);
        assert.deepEqual(new Set(results), new Set(['ERR_ABORTED']));
        (release as () => void)();
        assert.equal(await holder, 0);
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
      } finally {
        process.off('warning', onWarning);
      }
    });
  }
});

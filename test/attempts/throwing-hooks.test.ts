import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  circuitBreaker, client, isMeshkitError, Outcomes, subscribe,
  type HttpRequest, type HttpResponse, type HttpTransportFactory, type Outcome, type Transport,
} from '../../src/index.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

/**
 * A `call()` option's classifier or `discard` that throws (or returns no
 * Outcome) must still end the call, as the caller's doing: never a hung call,
 * an unhandled rejection, or a healthy endpoint charged with a timeout.
 */

/** `pending`'s settlement, or 'pending' when it has not settled within `ms` (the defect hung such calls). */
async function settleWithin<T>(pending: Promise<T>, ms = 2000): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    pending.then((value) => ({ value }), (error: unknown) => ({ error })),
    new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a classifier that throws', () => {
  for (const perTry of [undefined, '200ms'] as const) {
    it(`ends the call with ERR_INVALID_ARGUMENT (blame caller, cause what it threw), unretried, moving no health or breaker${perTry === undefined ? '' : ` (per-try timeout ${perTry})`}`, async () => {
      const unhandled = trackUnhandledRejections();
      const breaker = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
      let builder = client('throwing-classify').endpoints(['127.0.0.1:1', '127.0.0.2:1']).retry({ attempts: 3, backoff: { base: 1, cap: 1 } })
        .outlierDetection({ consecutiveGatewayFailures: 1, consecutive5xx: 1, maxEjectionPercent: 100 }).policy(breaker);
      if (perTry !== undefined) builder = builder.timeout({ perTry });
      await using c = builder.build();
      const ends: string[] = [];
      const stop = subscribe('attemptEnd', (a) => {
        if (a.call.service === 'throwing-classify') ends.push(`${a.outcome?.reason}/${a.outcome?.blame}`);
      });
      try {
        const boom = new TypeError('no status here');
        // [option, start the call, what the error's cause is]
        const cases: [string, () => Promise<unknown>, (cause: unknown) => boolean][] = [
          ['options.classify', () => c.call(async () => ({ status: 200 }), {
            idempotent: true,
            classify: () => {
              throw boom;
            },
          }), (cause) => cause === boom],
          ['options.classifyError', () => c.call(async () => {
            throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
          }, {
            idempotent: true,
            classifyError: () => {
              throw boom;
            },
          }), (cause) => cause === boom],
          ['options.classify', () => c.call(async () => 1, { classify: () => undefined as unknown as Outcome }),
            (cause) => cause instanceof TypeError && /returned undefined, not an Outcome/.test(cause.message)],
        ];
        for (const [option, start, expectedCause] of cases) {
          ends.length = 0;
          const settled = await settleWithin(start());
          assert.notEqual(settled, 'pending', `${option}: the call settled`);
          assert.ok(typeof settled === 'object' && 'error' in settled, `${option}: the call rejected`);
          const error = settled.error;
          assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), `${option}: ${String(error)}`);
          assert.equal(error.blame, 'caller');
          assert.equal(error.details['argument'], option);
          assert.equal(error.attempts, 1, 'not retried');
          assert.ok(expectedCause(error.cause), `${option}: cause ${String(error.cause)}`);
          assert.deepEqual(ends, ['error/caller'], `${option}: one attempt, the caller's`);
        }
        const endpoints = c.snapshot().endpoints;
        assert.ok(endpoints.every((e) => e.ejected !== true), 'no endpoint ejected');
        assert.equal(breaker.stats().failures, 0, 'the breaker counted no failure');
        assert.equal(c.activeCalls, 0);
        await sleep(10);
        assert.deepEqual(unhandled.reasons, []);
      } finally {
        stop();
        unhandled.stop();
      }
    });
  }
});

describe('a discard that throws is ignored', () => {
  it('call(): a retried value is dropped and the call returns the next one', async () => {
    const unhandled = trackUnhandledRejections();
    try {
      await using c = client('throwing-discard').endpoints(['127.0.0.1:1', '127.0.0.2:1']).retry({ attempts: 2, backoff: { base: 1, cap: 1 } }).build();
      let n = 0;
      let discarded = 0;
      const settled = await settleWithin(c.call(async () => ++n, {
        idempotent: true,
        classify: (value) => (value === 1 ? Outcomes.retryableError : Outcomes.success),
        discard: () => {
          discarded++;
          throw new Error('discard broke');
        },
      }));
      assert.deepEqual(settled, { value: 2 });
      assert.equal(discarded, 1);
      assert.equal(c.activeCalls, 0);
      await sleep(10);
      assert.deepEqual(unhandled.reasons, []);
    } finally {
      unhandled.stop();
    }
  });

  /** An HTTP transport whose answers `answer` decides and whose `discard` throws (counting the calls). */
  function throwingDiscardTransport(answer: (attempt: number) => Promise<HttpResponse>, counter: { discarded: number }): HttpTransportFactory {
    const transport: Transport<HttpRequest, HttpResponse> = {
      name: 'throwing-discard',
      send: (_endpoint, _request, attempt) => answer(attempt.number),
      discard: () => {
        counter.discarded++;
        throw new Error('discard broke');
      },
      close: async () => {},
      destroy: async () => {},
    };
    return { name: 'throwing-discard', create: () => transport };
  }

  const response = (statusCode: number): HttpResponse => ({ statusCode, headers: {}, body: {} } as unknown as HttpResponse);

  it('a late answer after the per-try timeout: the call fails with ERR_TIMEOUT and no rejection goes unhandled', async () => {
    const unhandled = trackUnhandledRejections();
    try {
      const counter = { discarded: 0 };
      const transport = throwingDiscardTransport(() => sleep(80).then(() => response(200)), counter);
      await using c = client('throwing-discard-late').endpoints(['127.0.0.1:1']).transport(transport).retry(false).timeout({ perTry: '20ms' }).build();
      const settled = await settleWithin(c.request({ path: '/' }));
      assert.ok(typeof settled === 'object' && 'error' in settled && isMeshkitError(settled.error, 'ERR_TIMEOUT'), String(settled));
      await sleep(120);
      assert.equal(counter.discarded, 1, 'the late answer was discarded');
      assert.deepEqual(unhandled.reasons, []);
    } finally {
      unhandled.stop();
    }
  });

  it('a hedged race: releasing the losing answer does not stop the winner from returning', async () => {
    const unhandled = trackUnhandledRejections();
    try {
      const counter = { discarded: 0 };
      let firstAnswered!: () => void;
      const first = new Promise<void>((resolve) => {
        firstAnswered = resolve;
      });
      // The first attempt answers a retryable 503 after the hedge went out; the hedge answers 200 after that.
      const transport = throwingDiscardTransport(async (attempt) => {
        if (attempt === 1) {
          await sleep(40);
          firstAnswered();
          return response(503);
        }
        await first;
        await sleep(5);
        return response(200);
      }, counter);
      await using c = client('throwing-discard-hedge').endpoints(['127.0.0.1:1', '127.0.0.2:1']).transport(transport)
        .retry({ attempts: 2, budget: false }).hedge({ after: '10ms' }).build();
      const settled = await settleWithin(c.request({ path: '/' }));
      assert.ok(typeof settled === 'object' && 'value' in settled, `the call returned: ${JSON.stringify(settled)}`);
      assert.equal(settled.value.statusCode, 200);
      assert.equal(counter.discarded, 1, 'the losing 503 was released');
      assert.equal(c.activeCalls, 0);
      await sleep(10);
      assert.deepEqual(unhandled.reasons, []);
    } finally {
      unhandled.stop();
    }
  });
});

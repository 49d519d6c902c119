import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, type Endpoint, type Resolver, type ResolverListener } from '../../src/index.js';
import { consul } from '../../src/consul/index.js';
import { closedPort, startUpstream } from '../helpers/upstream.js';

/** A resolver the test drives: `emit` a set, `fail` with an error. */
function drivenResolver(): Resolver & { emit(endpoints: readonly Endpoint[]): void; fail(error: Error): void } {
  const listeners = new Set<ResolverListener>();
  return {
    source: 'driven',
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(endpoints) {
      for (const l of listeners) l.onUpdate({ endpoints, source: 'driven' });
    },
    fail(error) {
      for (const l of listeners) l.onError(error);
    },
  };
}

describe('refusals carry their context and cannot starve the process', () => {
  it('a caller looping on ERR_NO_ENDPOINTS without a delay of its own does not stop timers (issue 11, finding 8)', async () => {
    const resolver = drivenResolver();
    await using c = client('starved').discovery(resolver).build();
    resolver.emit([]);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    let failures = 0;
    const started = performance.now();
    try {
      // Before the fix every refusal settled in a microtask: this loop never yielded and the interval never ran.
      while (performance.now() - started < 300) {
        try {
          await c.request({ path: '/' });
        } catch (error) {
          assert.ok(isMeshkitError(error, 'ERR_NO_ENDPOINTS'), String(error));
          failures++;
        }
      }
    } finally {
      clearInterval(ticker);
    }
    assert.ok(failures > 0);
    assert.ok(ticks >= 10, `timers ran during the loop: ${ticks} ticks of 5 ms in 300 ms (${failures} refusals)`);
  });

  it('ERR_NO_ENDPOINTS says why: the last discovery error is its cause, and whether the set is stale', async () => {
    const resolver = drivenResolver();
    await using c = client('why-none').discovery(resolver).build();
    resolver.emit([]);
    resolver.fail(new Error('registry answered 500'));
    const error = await c.request({ path: '/' }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_NO_ENDPOINTS'), String(error));
    assert.equal((error.cause as Error).message, 'registry answered 500');
    assert.match(error.message, /registry answered 500/);
    assert.equal(error.details['stale'], true, 'an empty set kept while discovery fails is stale');
    assert.equal(error.service, 'why-none');
    assert.equal(error.attempts, 0);
  });

  it('with Consul unreachable, a call fails with the connection error as its cause, not a bare deadline', async () => {
    const port = await closedPort();
    await using c = client('consul-down')
      .discovery(consul({ service: 'orders', address: `http://127.0.0.1:${port}`, backoff: { base: '10ms', cap: '20ms' } }))
      .timeout({ total: '300ms' }).build();
    const error = await c.request({ path: '/' }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error), String(error));
    assert.ok(error.code === 'ERR_DEADLINE_EXCEEDED' || error.code === 'ERR_NO_ENDPOINTS', error.code);
    assert.ok(error.cause instanceof Error, `the discovery error is the cause: ${String(error.cause)}`);
    assert.match(String((error.cause as Error).message), /ECONNREFUSED/);
    assert.equal(error.attempts, 0);
  });

  it('many calls sharing one AbortSignal add one listener, so no MaxListenersExceededWarning (issue 11, finding 11)', async () => {
    const upstream = await startUpstream({ delayMs: 30 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      await using c = client('shared-signal').endpoints([upstream.address]).build();
      const controller = new AbortController();
      const calls = Array.from({ length: 25 }, () => c.request({ path: '/', signal: controller.signal }).then(
        async (res) => {
          await res.body.dump();
          return 'ok';
        },
        (error: unknown) => (isMeshkitError(error) ? error.code : String(error)),
      ));
      await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      const results = await Promise.all(calls);
      assert.ok(results.every((r) => r === 'ERR_ABORTED' || r === 'ok'), results.join(','));
      assert.ok(results.includes('ERR_ABORTED'), 'the shared signal aborted the calls in flight');
      // A later call with a fresh signal still works: the shared listener is gone with the calls.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
      await upstream.close();
    }
  });

  it('ERR_INVALID_ARGUMENT does not echo a query string (issue 11, finding 11)', async () => {
    await using c = client('redacted').endpoints(['127.0.0.1:1']).build();
    const error = await c.request({ path: 'v1/orders?token=s3cret&sig=abc' }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), String(error));
    assert.doesNotMatch(error.message, /s3cret|sig=abc/);
    assert.doesNotMatch(JSON.stringify(error.details), /s3cret|sig=abc/);
    assert.match(error.message, /v1\/orders\?<redacted>/);
  });
});

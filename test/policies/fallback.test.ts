import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { client, isMeshkitError, MeshkitError, type HttpResponse, type Policy, type CallContext } from '../../src/index.js';
import type { Attempt } from '../../src/attempts/attempt.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { Outcomes, type Outcome } from '../../src/core/outcome.js';
import { fallback, type FallbackFailure } from '../../src/policies/fallback.js';
import { staticResponse } from '../../src/policies/fallback-response.js';
import { httpClassifier } from '../../src/transports/http-classifier.js';
import { closedPort, startUpstream, type Upstream } from '../helpers/upstream.js';

interface Fake {
  call: CallRecord;
  discarded: unknown[];
}

/** A call context for unit tests: HTTP classification, a transport that records discards. */
function fakeCall(signal?: AbortSignal): Fake {
  const discarded: unknown[] = [];
  const transport: CallTransport = { send: () => Promise.reject(new Error('unused')), discard: (response) => void discarded.push(response) };
  const call = new CallRecord('svc', { path: '/' }, transport, httpClassifier([502, 503, 504]), 0, Infinity, true, true, signal);
  return { call, discarded };
}

/** Pretends the executor ran an attempt that ended with `outcome` (and `response`). */
function settle(call: CallContext, outcome: Outcome, response?: unknown): void {
  (call as CallRecord).current = { outcome, response } as unknown as Attempt;
}

function run<T>(policy: Policy, call: CallRecord, inner: (call: CallContext) => Promise<T>): Promise<T> {
  return policy.wrap(inner)(call);
}

describe('fallback', () => {
  it('substitutes the handler value for a rejection and passes the error', async () => {
    const { call } = fakeCall();
    const boom = new Error('boom');
    const seen: FallbackFailure[] = [];
    const policy = fallback((failure) => {
      seen.push(failure);
      return 'cached';
    });
    const value = await run(policy, call, (c) => {
      settle(c, Outcomes.reset);
      return Promise.reject(boom);
    });
    assert.equal(value, 'cached');
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], { kind: 'error', error: boom, outcome: Outcomes.reset });
  });

  it('accepts a promise from the handler', async () => {
    const { call } = fakeCall();
    const value = await run(fallback(async () => 42), call, () => Promise.reject(new Error('x')));
    assert.equal(value, 42);
  });

  it('lets successes and 4xx answers through without calling the handler', async () => {
    let calls = 0;
    const policy = fallback(() => {
      calls++;
      return 'fallback';
    });
    for (const status of [200, 404, 429]) {
      const { call, discarded } = fakeCall();
      const response = staticResponse(status);
      const outcome = httpClassifier([502, 503, 504]).response(response);
      const value = await run(policy, call, async (c) => {
        settle(c, outcome, response);
        return response;
      });
      assert.equal(value, response);
      assert.equal(discarded.length, 0);
    }
    assert.equal(calls, 0);
  });

  it("by default ('failure') replaces a resolved 5xx response and releases it", async () => {
    const { call, discarded } = fakeCall();
    const failed = staticResponse(503, 'down');
    const replacement = staticResponse(200, 'cached');
    let seen: FallbackFailure<HttpResponse> | undefined;
    const policy = fallback<HttpResponse>(async (failure) => {
      seen = failure;
      assert.equal(discarded.length, 0, 'released only after the handler settled');
      if (failure.kind === 'response') assert.equal(await failure.response.body.text(), 'down');
      return replacement;
    });
    const value = await run(policy, call, async (c) => {
      settle(c, httpClassifier([503]).response(failed), failed);
      return failed;
    });
    assert.equal(value, replacement);
    assert.equal(seen?.kind, 'response');
    assert.equal(seen?.outcome.ok, false);
    assert.equal(seen?.outcome.status, 503);
    assert.deepEqual(discarded, [failed]);
  });

  it('does not release a failed response the handler returns as the result', async () => {
    const { call, discarded } = fakeCall();
    const failed = staticResponse(500);
    const value = await run(fallback<HttpResponse>((failure) => (failure.kind === 'response' ? failure.response : staticResponse(200))), call, async (c) => {
      settle(c, httpClassifier([]).response(failed), failed);
      return failed;
    });
    assert.equal(value, failed);
    assert.equal(discarded.length, 0);
  });

  it('classifies a result an inner policy produced (no attempt ran)', async () => {
    const { call, discarded } = fakeCall();
    const injected = staticResponse(503);
    const value = await run(fallback(() => 'fallback'), call, async () => injected);
    assert.equal(value, 'fallback');
    assert.deepEqual(discarded, [injected]);
  });

  it("with when: 'error' returns a resolved 5xx as it is but still covers rejections", async () => {
    const policy = fallback(() => 'fallback', { when: 'error' });
    const { call, discarded } = fakeCall();
    const failed = staticResponse(503);
    const value = await run(policy, call, async (c) => {
      settle(c, httpClassifier([503]).response(failed), failed);
      return failed;
    });
    assert.equal(value, failed);
    assert.equal(discarded.length, 0);
    assert.equal(await run(policy, fakeCall().call, () => Promise.reject(new Error('x'))), 'fallback');
  });

  it('with a predicate runs the handler only for the failures it accepts', async () => {
    const policy = fallback(() => 'fallback', {
      when: (failure) => failure.kind === 'error' && isMeshkitError(failure.error, 'ERR_CIRCUIT_OPEN'),
    });
    assert.equal(await run(policy, fakeCall().call, () => Promise.reject(new MeshkitError('ERR_CIRCUIT_OPEN', 'open'))), 'fallback');
    const other = new MeshkitError('ERR_NO_ENDPOINTS', 'none');
    await assert.rejects(run(policy, fakeCall().call, () => Promise.reject(other)), (e) => e === other);
    const { call, discarded } = fakeCall();
    const failed = staticResponse(503);
    assert.equal(await run(policy, call, async () => failed), failed);
    assert.equal(discarded.length, 0);
  });

  it('runs the handler exactly for failures matching `when` (property)', async () => {
    const table = httpClassifier([502, 503, 504]);
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<'error' | 'failure'>('error', 'failure'),
      fc.boolean(),
      fc.integer({ min: 200, max: 599 }),
      async (when, rejects, status) => {
        let handled = 0;
        const policy = fallback(() => {
          handled++;
          return 'fallback';
        }, { when });
        const { call } = fakeCall();
        const response = staticResponse(status);
        const result = await run(policy, call, async (c) => {
          if (rejects) throw new Error('x');
          settle(c, table.response(response), response);
          return response;
        });
        const expected = rejects || (when === 'failure' && status >= 500);
        assert.equal(handled, expected ? 1 : 0);
        assert.equal(result, expected ? 'fallback' : response);
      },
    ), { numRuns: 200 });
  });

  it('never runs for calls the caller aborted or the client closed', async () => {
    let handled = 0;
    const policy = fallback(() => {
      handled++;
      return 'fallback';
    });
    const controller = new AbortController();
    controller.abort(new Error('gave up'));
    const aborted = new MeshkitError('ERR_ABORTED', 'aborted');
    await assert.rejects(run(policy, fakeCall(controller.signal).call, () => Promise.reject(aborted)), (e) => e === aborted);
    const reset = new Error('reset after abort');
    await assert.rejects(run(policy, fakeCall(controller.signal).call, () => Promise.reject(reset)), (e) => e === reset);
    const closed = new MeshkitError('ERR_CLIENT_CLOSED', 'closed');
    await assert.rejects(run(policy, fakeCall().call, () => Promise.reject(closed)), (e) => e === closed);
    const stopped = fakeCall().call;
    stopped.stopped = closed;
    await assert.rejects(run(policy, stopped, () => Promise.reject(new Error('x'))));
    const failed = staticResponse(503);
    const { call, discarded } = fakeCall(controller.signal);
    assert.equal(await run(policy, call, async () => failed), failed);
    assert.equal(discarded.length, 0);
    assert.equal(handled, 0);
  });

  it("rejects with the handler's error, the original as its cause", async () => {
    const original = new Error('upstream down');
    const handlerError = new Error('no cached value');
    await assert.rejects(
      run(fallback(() => {
        throw handlerError;
      }), fakeCall().call, () => Promise.reject(original)),
      (e) => e === handlerError && (e as Error).cause === original,
    );
    const own = new Error('own cause', { cause: 'kept' });
    await assert.rejects(
      run(fallback(async () => Promise.reject(own)), fakeCall().call, () => Promise.reject(original)),
      (e) => e === own && (e as Error).cause === 'kept',
    );
    await assert.rejects(run(fallback(() => {
      throw 'not an error';
    }), fakeCall().call, () => Promise.reject(original)), (e) => e === 'not an error');
  });

  it('releases a failed response when the handler throws, with the failure as cause', async () => {
    const { call, discarded } = fakeCall();
    const failed = staticResponse(502);
    await assert.rejects(
      run(fallback(() => {
        throw new Error('nothing to serve');
      }), call, async () => failed),
      (e) => {
        const cause = (e as Error).cause as FallbackFailure;
        return cause.kind === 'response' && cause.response === failed && cause.outcome.status === 502;
      },
    );
    assert.deepEqual(discarded, [failed]);
  });

  it('rejects bad configuration naming the option', () => {
    const cases: [() => unknown, string][] = [
      [() => fallback('value' as never), 'fallback.handler'],
      [() => fallback(() => 1, { when: 'always' as never }), 'fallback.when'],
      [() => fallback(() => 1, null as never), 'fallback'],
    ];
    for (const [make, option] of cases) {
      assert.throws(make, (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });
});

describe('fallback with a real client', () => {
  let unavailable: Upstream;
  let slow: Upstream;
  let connections = 0;
  before(async () => {
    unavailable = await startUpstream({ status: 503, body: 'unavailable' });
    unavailable.server.on('connection', () => connections++);
    slow = await startUpstream({ delayMs: 10_000 });
  });
  after(async () => {
    await Promise.all([unavailable.close(), slow.close()]);
  });

  const cached = fallback<HttpResponse>(() => staticResponse(200, { items: [] }));

  it('answers with the fallback when the upstream is down', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    await using c = client('fallback-down').endpoints([dead]).policy(cached).build();
    const res = await c.request({ path: '/items' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { items: [] });
    const viaFetch = await c.fetch('/items');
    assert.equal(viaFetch.status, 200);
    assert.deepEqual(await viaFetch.json(), { items: [] });
  });

  it('answers with the fallback for a 503 and dumps the 503 body', async () => {
    const failed: HttpResponse[] = [];
    const capturing = fallback<HttpResponse>(() => staticResponse(200, { items: [] }), {
      when: (failure) => {
        if (failure.kind === 'response') failed.push(failure.response);
        return true;
      },
    });
    await using c = client('fallback-503').endpoints([unavailable.address]).retry(false).policy(capturing).build();
    const before = unavailable.requests.length;
    connections = 0;
    for (let i = 0; i < 5; i++) {
      const res = await c.request({ path: '/items' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(await res.body.json(), { items: [] });
    }
    assert.equal(unavailable.requests.length - before, 5);
    assert.equal(failed.length, 5);
    // dump() runs in the background: wait (generously) until every 503 body has been read to its end.
    for (let waited = 0; waited < 2_000 && !failed.every((r) => r.body.readableEnded || r.body.destroyed); waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(failed.every((r) => r.body.readableEnded || r.body.destroyed), 'every replaced 503 body was dumped');
    assert.ok(connections < 5, `released bodies free their connection for reuse (${connections} connections for 5 calls)`);
  });

  it("with when: 'error' returns the 503 to the caller", async () => {
    await using c = client('fallback-503-error').endpoints([unavailable.address]).retry(false)
      .policy(fallback<HttpResponse>(() => staticResponse(200), { when: 'error' })).build();
    const res = await c.request({ path: '/' });
    assert.equal(res.statusCode, 503);
    assert.equal(await res.body.text(), 'unavailable');
  });

  it('does not answer for a call the caller aborted', async () => {
    let handled = 0;
    await using c = client('fallback-abort').endpoints([slow.address]).policy(fallback<HttpResponse>(() => {
      handled++;
      return staticResponse(200);
    })).build();
    const controller = new AbortController();
    const pending = c.request({ path: '/', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user left')), 20);
    await assert.rejects(pending, (e) => isMeshkitError(e, 'ERR_ABORTED'));
    assert.equal(handled, 0);
  });

  it('covers client.call(fn) and an exhausted deadline', async () => {
    await using c = client('fallback-call').endpoints([slow.address]).timeout({ total: '100ms' })
      .policy(fallback((failure) => (failure.kind === 'error' && isMeshkitError(failure.error) ? failure.error.code : 'other'))).build();
    const value = await c.call(() => new Promise((resolve) => setTimeout(resolve, 2_000).unref()));
    assert.equal(value, 'ERR_DEADLINE_EXCEEDED');
  });
});

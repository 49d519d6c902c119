import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  adaptiveConcurrency, adaptiveThrottle, aimd, breakerRotations, bulkhead, circuitBreaker, client, fallback, faultInjection,
  isMeshkitError, rateLimit, staticResponse, type Client, type ClientBuilder, type HttpResponse, type Invoke, type Policy,
} from '../../src/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** One request to the upstream through `c`: its status, or the MeshkitError code it failed with. */
async function outcome(c: Client): Promise<number | string> {
  try {
    const res = await c.request({ path: '/' });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return isMeshkitError(error) ? error.code : String(error);
  }
}

/** The state the client's `index`-th policy reports in `client.snapshot()`. */
function policyState(c: Client, index = 0): Readonly<Record<string, unknown>> {
  return c.snapshot().policies[index]?.state ?? {};
}

/** A call that holds whatever slot it was admitted to until `release()`. */
function heldCall(c: Client): { done: Promise<string>; release(): void } {
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { done: c.call(async () => gate.then(() => 'held')), release: () => release() };
}

describe('clients built from one builder are independent (one stateful policy instance given to .policy())', () => {
  let upstream: Upstream;
  let base: ClientBuilder;
  const open: Client[] = [];
  const build = (builder: ClientBuilder): Client => {
    const built = builder.build();
    open.push(built);
    return built;
  };

  before(async () => {
    upstream = await startUpstream();
    base = client('independent').endpoints([upstream.address]).retry(false);
  });
  beforeEach(async () => {
    upstream.behaviour = {};
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await upstream.close();
  });

  it('circuitBreaker: tripping one leaves the other closed; closing one leaves the other working', async () => {
    const rotationsBefore = breakerRotations().reduce((sum, r) => sum + r.breakers, 0);
    const breaker = circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5 });
    const builder = base.policy(breaker);
    const a = build(builder);
    const b = build(builder);
    upstream.behaviour = { status: 503 };
    assert.deepEqual([await outcome(a), await outcome(a)], [503, 503]);
    assert.equal(await outcome(a), 'ERR_CIRCUIT_OPEN', "a's breaker opened");
    assert.equal(breaker.state, 'open', 'the instance given to .policy() is the first client\'s breaker');
    upstream.behaviour = {};
    assert.equal(await outcome(b), 200, "b's breaker never saw a's failures");
    assert.equal(policyState(b)['state'], 'closed');
    assert.equal(policyState(b)['calls'], 1);
    await a.close();
    assert.deepEqual([await outcome(b), await outcome(b)], [200, 200], 'b works after a closed (no "circuit breaker is shut down")');
    await b.close();
    assert.equal(breakerRotations().reduce((sum, r) => sum + r.breakers, 0), rotationsBefore, 'both breakers released their rotation share');
  });

  it('.circuitBreaker(): the same, one breaker per build', async () => {
    const builder = base.circuitBreaker({ volumeThreshold: 2 });
    const a = build(builder);
    const b = build(builder);
    upstream.behaviour = { status: 503 };
    await outcome(a);
    await outcome(a);
    assert.equal(await outcome(a), 'ERR_CIRCUIT_OPEN');
    upstream.behaviour = {};
    assert.equal(await outcome(b), 200);
    await a.close();
    assert.equal(await outcome(b), 200);
  });

  it('bulkhead: a full bulkhead in one client does not refuse the other; closing one leaves the other working', async () => {
    const builder = base.policy(bulkhead({ maxConcurrent: 1 }));
    const a = build(builder);
    const b = build(builder);
    const held = heldCall(a);
    assert.equal(await outcome(a), 'ERR_LIMIT_EXCEEDED', "a's only slot is taken");
    assert.equal(await outcome(b), 200, "b has its own slot");
    held.release();
    assert.equal(await held.done, 'held');
    await a.close();
    assert.equal(await outcome(b), 200);
    assert.deepEqual([policyState(b)['active'], policyState(b)['rejected']], [0, 0]);
  });

  it('rateLimit: one bucket per client', async () => {
    const builder = base.policy(rateLimit({ rate: 2, per: '1h' }));
    const a = build(builder);
    const b = build(builder);
    assert.deepEqual([await outcome(a), await outcome(a), await outcome(a)], [200, 200, 'ERR_LIMIT_EXCEEDED']);
    assert.equal(await outcome(b), 200, "a's spent tokens are not b's");
    await a.close();
    assert.equal(await outcome(b), 200);
    assert.equal(await outcome(b), 'ERR_LIMIT_EXCEEDED', 'b has exactly its own two tokens');
  });

  it('adaptiveThrottle: one client\'s failures do not throttle the other', async () => {
    const builder = base.policy(adaptiveThrottle({ k: 1, minRequests: 0 }));
    const a = build(builder);
    const b = build(builder);
    upstream.behaviour = { status: 503 };
    for (let i = 0; i < 10; i++) await outcome(a);
    assert.ok((policyState(a)['probability'] as number) > 0.5, 'a sheds most of its calls now');
    upstream.behaviour = {};
    assert.equal(await outcome(b), 200);
    assert.deepEqual([policyState(b)['requests'], policyState(b)['accepts'], policyState(b)['probability']], [1, 1, 0]);
    await a.close();
    assert.equal(await outcome(b), 200);
  });

  it('adaptiveConcurrency: one limiter per client', async () => {
    const builder = base.policy(adaptiveConcurrency({ algorithm: aimd({ initialLimit: 1, minLimit: 1, maxLimit: 1 }) }));
    const a = build(builder);
    const b = build(builder);
    const held = heldCall(a);
    assert.equal(await outcome(a), 'ERR_LIMIT_EXCEEDED', "a's limit of 1 is in use");
    assert.equal(await outcome(b), 200, 'b has its own limit');
    assert.deepEqual([policyState(a)['inFlight'], policyState(b)['inFlight']], [1, 0]);
    held.release();
    await held.done;
    await a.close();
    assert.equal(await outcome(b), 200);
  });

  it('fallback: each client counts its own substitutions', async () => {
    const builder = base.policy(fallback<HttpResponse>(() => staticResponse(200, 'cached')));
    const a = build(builder);
    const b = build(builder);
    upstream.behaviour = { status: 503 };
    assert.equal(await outcome(a), 200, 'the 503 was replaced');
    assert.deepEqual([policyState(a)['substituted'], policyState(b)['substituted']], [1, 0]);
    await a.close();
    assert.equal(await outcome(b), 200);
    assert.equal(policyState(b)['substituted'], 1);
  });

  it('faultInjection: closing one client stops its injection only', async () => {
    const builder = base.policy(faultInjection({ abort: { percent: 100, status: 418 } }));
    const a = build(builder);
    const b = build(builder);
    assert.equal(await outcome(a), 418);
    await a.close();
    const before = upstream.requests.length;
    assert.equal(await outcome(b), 418, 'b still injects after a closed');
    assert.equal(upstream.requests.length, before, 'the injected abort sent nothing');
    assert.deepEqual([policyState(b)['active'], policyState(b)['aborts']], [true, 1]);
  });
});

describe('.policy() with a factory, and policies without clone()', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  /** A stateless user policy with no clone(): counts its closes. */
  function countingPolicy(): Policy & { closes: number } {
    const policy = {
      name: 'counting',
      closes: 0,
      wrap: <T>(next: Invoke<T>): Invoke<T> => next,
      close(): void {
        policy.closes++;
      },
    };
    return policy;
  }

  it('a factory is called once per build, and each client closes its own instance', async () => {
    const made: (Policy & { closes: number })[] = [];
    const builder = client('factory').endpoints([upstream.address]).policy(() => {
      const policy = countingPolicy();
      made.push(policy);
      return policy;
    });
    assert.equal(made.length, 0, 'nothing is made before build()');
    const a = builder.build();
    const b = builder.build();
    assert.equal(made.length, 2);
    await a.close();
    assert.deepEqual(made.map((p) => p.closes), [1, 0]);
    assert.equal(await outcome(b), 200);
    await b.close();
    assert.deepEqual(made.map((p) => p.closes), [1, 1]);
  });

  it('a policy without clone() is shared, and closed once, when the last client using it closes', async () => {
    const shared = countingPolicy();
    const builder = client('shared').endpoints([upstream.address]).policy(shared);
    const a = builder.build();
    const b = builder.build();
    const c = client('shared-too').endpoints([upstream.address]).policy(() => shared).build();
    await a.close();
    await b.close();
    assert.equal(shared.closes, 0, 'c still holds it');
    assert.equal(await outcome(c), 200);
    await c.close();
    assert.equal(shared.closes, 1);
  });

  it('a factory returning one built-in instance shares its limit on purpose, and closes it with the last client', async () => {
    const limit = bulkhead({ maxConcurrent: 1 });
    const builder = client('shared-limit').endpoints([upstream.address]).policy(() => limit);
    const a = builder.build();
    const b = builder.build();
    const held = heldCall(a);
    assert.equal(await outcome(b), 'ERR_LIMIT_EXCEEDED', 'one slot for both clients');
    held.release();
    await held.done;
    await a.close();
    assert.equal(await outcome(b), 200, 'closing a did not close the shared bulkhead under b');
    await b.close();
  });

  it('refuses a factory that returns no policy, at build(), and releases what was already made', async () => {
    const rotationsBefore = breakerRotations().reduce((sum, r) => sum + r.breakers, 0);
    const builder = client('bad-factory').endpoints([upstream.address]).circuitBreaker().policy(() => ({ name: 'no wrap' }) as never);
    assert.throws(() => builder.build(), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'policy');
    assert.equal(breakerRotations().reduce((sum, r) => sum + r.breakers, 0), rotationsBefore, 'the breaker made first was closed');
    assert.throws(() => client('x').policy(42 as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, ringHash, roundRobin, subsets, zoneAware, type BalancerFactory, type Client, type Endpoint, type MeshkitError, type PickArgs } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

/**
 * Per-call options of the wrong type are refused up front, as a rejected
 * promise with `ERR_INVALID_ARGUMENT` naming the option: never a synchronous
 * throw, a crash from an I/O callback later, a silently wrong routing, or a
 * call left in the client's active set.
 */

/** Calls `start` and returns its rejection; fails on a synchronous throw, a resolution, or no settlement within 2 s. */
async function rejection(start: () => Promise<unknown>): Promise<MeshkitError> {
  let pending: Promise<unknown>;
  try {
    pending = start();
  } catch (error) {
    return assert.fail(`threw synchronously instead of rejecting: ${String(error)}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    pending.then((value) => ({ value }), (error: unknown) => ({ error })),
    new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), 2000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'pending') return assert.fail('never settled');
  if (!('error' in outcome)) return assert.fail(`resolved with ${String(outcome.value)} instead of rejecting`);
  assert.ok(isMeshkitError(outcome.error, 'ERR_INVALID_ARGUMENT'), `ERR_INVALID_ARGUMENT, got ${String(outcome.error)}`);
  return outcome.error;
}


/** What `close({ timeout: '1s' })` does within 3 s: 'closed', or 'still closing' when a leaked call holds it. */
async function closeOutcome(c: Client): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    c.close({ timeout: '1s' }).then(() => 'closed'),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still closing'), 3000);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}
describe('per-call options of the wrong type', () => {
  it('call() refuses classify, classifyError or discard that is not a function, and idempotent or replayable that is not a boolean; fn never runs', async () => {
    await using c = client('types-call').endpoints(['127.0.0.1:1', '127.0.0.2:1']).build();
    let runs = 0;
    const fn = async (): Promise<number> => {
      runs++;
      throw new Error('boom');
    };
    for (const [option, value] of [
      ['classify', 'not a function'], ['classifyError', 5], ['discard', 5], ['idempotent', 'true'], ['replayable', 'false'], ['classify', null],
    ] as const) {
      const error = await rejection(() => c.call(fn, { [option]: value } as never));
      assert.equal(error.details['argument'], `options.${option}`);
      assert.equal(error.blame, 'caller');
    }
    assert.equal(runs, 0, 'nothing ran');
    assert.equal(c.activeCalls, 0);
  });

  it('a signal that is not an AbortSignal rejects (call, request, fetch), leaves no call active, and close() settles', async () => {
    const upstream = await startUpstream();
    try {
      const c = client('types-signal').endpoints([upstream.address]).build();
      for (const signal of [null, {}, 'x', { aborted: false }]) {
        let error = await rejection(() => c.call(async () => 1, { signal } as never));
        assert.equal(error.details['argument'], 'options.signal');
        error = await rejection(() => c.request({ path: '/', signal } as never));
        assert.equal(error.details['argument'], 'options.signal');
        if (signal !== null) { // fetch takes `signal: null` as none, as fetch does
          error = await rejection(() => c.fetch('/', { signal } as never));
          assert.equal(error.details['argument'], 'init.signal');
        }
      }
      assert.equal(c.activeCalls, 0, 'no call left active');
      assert.equal(upstream.requests.length, 0, 'nothing was sent');
      assert.equal(await closeOutcome(c), 'closed');
    } finally {
      await upstream.close();
    }
  });

  it('an AbortSignal that cannot be listened to rejects, with what it threw as cause, and is not left active', async () => {
    const c = client('types-signal-broken').endpoints(['127.0.0.1:1']).build();
    const broken = new AbortController().signal;
    const thrown = new Error('no listeners here');
    broken.addEventListener = () => {
      throw thrown;
    };
    let runs = 0;
    const error = await rejection(() => c.call(async () => runs++, { signal: broken }));
    assert.equal(error.details['argument'], 'options.signal');
    assert.equal(error.cause, thrown);
    assert.equal(runs, 0, 'nothing ran');
    assert.equal(c.activeCalls, 0, 'no call left active');
    assert.equal(await closeOutcome(c), 'closed');
  });

  it('a real AbortSignal, and fetch\'s signal: null, are still taken', async () => {
    const upstream = await startUpstream();
    try {
      await using c = client('types-signal-ok').endpoints([upstream.address]).build();
      assert.equal(await c.call(async () => 1, { signal: new AbortController().signal }), 1);
      await (await c.request({ path: '/', signal: AbortSignal.timeout(5000) })).body.dump();
      assert.equal((await c.fetch('/', { signal: null })).status, 200);
    } finally {
      await upstream.close();
    }
  });

  it('request() with a non-boolean idempotent rejects and sends nothing (a POST with idempotent: \'false\' is not retried)', async () => {
    const upstream = await startUpstream({ status: 503 });
    try {
      await using c = client('types-idempotent').endpoints([upstream.address]).retry({ attempts: 3, backoff: { base: 1, cap: 1 } }).build();
      for (const idempotent of ['false', 'no', 0, 1, null]) {
        const error = await rejection(() => c.request({ path: '/charge', method: 'POST', body: 'x', idempotent } as never));
        assert.equal(error.details['argument'], 'options.idempotent');
      }
      assert.equal(upstream.requests.length, 0, 'nothing was sent');
      const res = await c.request({ path: '/charge', method: 'POST', body: 'x', idempotent: false });
      await res.body.dump();
      assert.equal(upstream.requests.length, 1, 'idempotent: false sends once');
    } finally {
      await upstream.close();
    }
  });

  it('a per-call timeout of 0, negative or unparsable rejects and sends nothing; a positive one is taken', async () => {
    const upstream = await startUpstream();
    try {
      await using c = client('types-timeout').endpoints([upstream.address]).build();
      // 0 used to fail the call at once as a spent deadline; some APIs read it as "no timeout".
      for (const timeout of [0, '0ms', -5, 'soon', Number.NaN]) {
        const error = await rejection(() => c.request({ path: '/', timeout }));
        assert.equal(error.details['argument'], 'options.timeout');
        assert.match(error.message, /a duration > 0/);
      }
      assert.equal(upstream.requests.length, 0, 'nothing was sent');
      const res = await c.request({ path: '/', timeout: '2s' });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    } finally {
      await upstream.close();
    }
  });

  it('request() and fetch() with a method that is not a non-empty string reject and send nothing', async () => {
    const upstream = await startUpstream();
    try {
      await using c = client('types-method').endpoints([upstream.address]).build();
      for (const method of [123, null, '', ['GET']]) {
        let error = await rejection(() => c.request({ path: '/', method } as never));
        assert.equal(error.details['argument'], 'options.method');
        if (method !== null) {
          error = await rejection(() => c.fetch('/', { method } as never));
          assert.equal(error.details['argument'], 'init.method');
        }
      }
      assert.equal(upstream.requests.length, 0, 'nothing was sent');
      await (await c.request({ path: '/', method: 'get' })).body.dump();
      assert.equal((await c.fetch('/', { method: 'HEAD' })).status, 200);
    } finally {
      await upstream.close();
    }
  });

  it('a key that is not a string rejects instead of hashing like \'\' (numbers) or throwing a TypeError (arrays)', async () => {
    await using c = client('types-key').endpoints(['127.0.0.1:1001', '127.0.0.1:1002', '127.0.0.1:1003']).balancer(ringHash()).build();
    let runs = 0;
    for (const key of [42, ['user-1'], { id: 1 }, null]) {
      const error = await rejection(() => c.call(async () => runs++, { key } as never));
      assert.equal(error.details['argument'], 'options.key');
    }
    assert.equal(runs, 0, 'nothing ran');
    // String keys still spread over the ring.
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(await c.call(async (endpoint) => endpoint.id, { key: `user-${i}` }));
    assert.ok(seen.size > 1, `keys spread over ${seen.size} endpoint(s)`);
  });

  it('a subset on a client without subsets rejects; a subset that is not a string rejects on one with them', async () => {
    let runs = 0;
    {
      await using plain = client('types-subset-none').endpoints(['127.0.0.1:1001', '127.0.0.1:1002']).build();
      for (const subset of ['v2', 'anything']) {
        const error = await rejection(() => plain.call(async () => runs++, { subset }));
        assert.equal(error.details['argument'], 'options.subset');
      }
    }
    const endpoints = [{ host: '127.0.0.1', port: 1001, tags: ['canary'] }, '127.0.0.1:1002'];
    {
      await using split = client('types-subset').endpoints(endpoints).subsets({ subsets: { v2: { tags: ['canary'] } } }).build();
      for (const subset of [2, ['v2'], null]) {
        const error = await rejection(() => split.call(async () => runs++, { subset } as never));
        assert.equal(error.details['argument'], 'options.subset');
      }
      assert.equal(runs, 0, 'nothing ran');
      assert.equal(await split.call(async (endpoint) => endpoint.id, { subset: 'v2' }), '127.0.0.1:1001');
    }
    // A subsets balancer given to .balancer() has subsets too, and so has one wrapped in zoneAware().
    await using viaBalancer = client('types-subset-balancer').endpoints(endpoints).balancer(subsets({ subsets: { v2: { tags: ['canary'] } } }, roundRobin())).build();
    assert.equal(await viaBalancer.call(async (endpoint) => endpoint.id, { subset: 'v2' }), '127.0.0.1:1001');
    await using zoned = client('types-subset-zoned').endpoints(endpoints)
      .balancer(zoneAware({ zone: 'a', inner: subsets({ subsets: { v2: { tags: ['canary'] } } }, roundRobin()) })).build();
    assert.equal(await zoned.call(async (endpoint) => endpoint.id, { subset: 'v2' }), '127.0.0.1:1001');
  });

  it('a balancer of your own that reads the subset says so (readsSubset) and gets it; one that does not is refused the subset', async () => {
    const seen: (string | undefined)[] = [];
    const reading = (readsSubset: boolean): BalancerFactory => ({
      name: 'recording', readsSubset,
      create: () => ({
        update: (endpoints: readonly Endpoint[]) => ({
          endpoints,
          pick: (args: PickArgs) => {
            seen.push(args.subset);
            return endpoints[0];
          },
        }),
      }),
    });
    await using reads = client('types-subset-own').endpoints(['127.0.0.1:1001']).balancer(reading(true)).build();
    await reads.call(async () => 1, { subset: 'blue' });
    assert.deepEqual(seen, ['blue']);
    await using ignores = client('types-subset-own-not').endpoints(['127.0.0.1:1001']).balancer(reading(false)).build();
    const error = await rejection(() => ignores.call(async () => 1, { subset: 'blue' }));
    assert.equal(error.details['argument'], 'options.subset');
    assert.deepEqual(seen, ['blue'], 'nothing was picked for the refused call');
  });
});

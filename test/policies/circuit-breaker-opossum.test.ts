import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type CircuitBreaker from 'opossum';
import { client, isMeshkitError, MeshkitError, opossumCircuitBreaker, type Client } from '../../src/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

const statsOf = (breaker: unknown): CircuitBreaker.Stats => (breaker as CircuitBreaker).stats;

describe('opossumCircuitBreaker: a user-configured opossum breaker, through its public API', () => {
  let upstream: Upstream;
  const clients: Client[] = [];
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await upstream.close();
  });

  it('opens on 503s from a real server, fails fast without reaching it, and closes after its half-open trial', async () => {
    upstream.behaviour = {};
    const policy = opossumCircuitBreaker({ opossum: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeout: 200 }, name: 'orders-opossum' });
    const events: string[] = [];
    for (const event of ['open', 'halfOpen', 'close']) policy.breaker.on(event, () => events.push(event));
    const c = client('opossum-orders').endpoints([upstream.address]).retry(false).policy(policy).build();
    clients.push(c);
    for (let i = 0; i < 2; i++) {
      const res = await c.request({ path: '/ok' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    upstream.behaviour = { status: 503 };
    let failing = 0;
    while (policy.state === 'closed') {
      const res = await c.request({ path: '/failing' });
      assert.equal(res.statusCode, 503, 'the caller still gets the 503');
      await res.body.dump();
      assert.ok(++failing <= 10, 'opens within a few 503s');
    }
    assert.equal(failing, 3, '3 failures of 5 calls: over 50 % past the volume of 4');
    assert.equal(statsOf(policy.breaker).failures, 3);
    const sent = upstream.requests.length;
    const refused = await settle(c.request({ path: '/refused' }));
    assert.ok(isMeshkitError(refused, 'ERR_CIRCUIT_OPEN'), String(refused));
    assert.equal(refused.details['breaker'], 'orders-opossum');
    assert.equal(upstream.requests.length, sent, 'nothing reached the server');
    upstream.behaviour = {};
    await waitFor('half-open', () => policy.state === 'half-open');
    const res = await c.request({ path: '/trial' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(policy.state, 'closed');
    assert.deepEqual(events, ['open', 'halfOpen', 'close']);
  });

  it("does not count the caller's abort as a failure; honours the user's errorFilter", async () => {
    upstream.behaviour = { delayMs: 2_000 };
    const policy = opossumCircuitBreaker({
      opossum: { volumeThreshold: 1, errorThresholdPercentage: 1, errorFilter: (error: unknown) => ((error as MeshkitError).cause as Error | undefined)?.message === 'benign' },
    });
    const c = client('opossum-ignored').endpoints([upstream.address]).retry(false).policy(policy).build();
    clients.push(c);
    const aborted = await settle(c.request({ path: '/slow', signal: AbortSignal.timeout(50) }));
    assert.ok(isMeshkitError(aborted) && aborted.blame === 'caller', String(aborted));
    const benign = await settle(c.call(() => Promise.reject(new Error('benign'))));
    assert.ok(isMeshkitError(benign, 'ERR_UPSTREAM'));
    assert.equal(statsOf(policy.breaker).failures, 0);
    assert.equal(policy.state, 'closed');
    const real = await settle(c.call(() => Promise.reject(new Error('down'))));
    assert.ok(isMeshkitError(real, 'ERR_UPSTREAM'));
    assert.equal(policy.state, 'open', 'a real failure still opens it');
  });

  it('close() shuts opossum down: later calls get ERR_CLIENT_CLOSED; each built client gets its own breaker', async () => {
    upstream.behaviour = {};
    const policy = opossumCircuitBreaker({});
    const builder = client('opossum-closed').endpoints([upstream.address]).retry(false).policy(policy);
    const first = builder.build();
    const second = builder.build();
    clients.push(first, second);
    policy.close();
    policy.close();
    assert.equal(policy.breaker.isShutdown, true);
    assert.ok(isMeshkitError(await settle(first.call(() => Promise.resolve('no'))), 'ERR_CLIENT_CLOSED'));
    assert.equal(await second.call(() => Promise.resolve('yes')), 'yes', 'the clone is a breaker of its own');
  });

  it('refuses unknown opossum options with the nearest known one', () => {
    assert.throws(() => opossumCircuitBreaker({ opossum: { errorTresholdPercentage: 50 } }), (error: unknown) => {
      assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'));
      assert.equal(error.details['option'], 'opossumCircuitBreaker.opossum.errorTresholdPercentage');
      assert.match(error.message, /errorThresholdPercentage/);
      return true;
    });
    assert.throws(() => opossumCircuitBreaker({ opossum: 'fast' } as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
  });
});

describe('opossumCircuitBreaker: opossum option values', () => {
  it('refuses values opossum would misread, naming the key', () => {
    const cases: [Record<string, unknown>, string][] = [
      // Past Node's timer limit setTimeout fires after 1 ms: the open breaker would go half-open at once.
      [{ resetTimeout: 3e9 }, 'resetTimeout'], [{ resetTimeout: 2 ** 31 }, 'resetTimeout'], [{ resetTimeout: 0 }, 'resetTimeout'],
      [{ resetTimeout: '5s' }, 'resetTimeout'], [{ timeout: -1 }, 'timeout'], [{ timeout: true }, 'timeout'],
      [{ timeout: 3e9 }, 'timeout'], [{ timeout: Infinity }, 'timeout'], [{ errorThresholdPercentage: '50' }, 'errorThresholdPercentage'],
      [{ errorThresholdPercentage: 101 }, 'errorThresholdPercentage'], [{ errorThresholdPercentage: NaN }, 'errorThresholdPercentage'],
      [{ rollingCountTimeout: 0 }, 'rollingCountTimeout'], [{ rollingCountTimeout: 2 ** 31 }, 'rollingCountTimeout'],
      // 10 buckets in 5 ms: opossum would rotate them with setInterval(0), every millisecond.
      [{ rollingCountTimeout: 5 }, 'rollingCountTimeout'], [{ rollingCountBuckets: 0 }, 'rollingCountBuckets'],
      [{ rollingCountBuckets: 2.5 }, 'rollingCountBuckets'], [{ volumeThreshold: 1.5 }, 'volumeThreshold'],
      [{ volumeThreshold: '20' }, 'volumeThreshold'], [{ capacity: 0 }, 'capacity'], [{ cacheTTL: -1 }, 'cacheTTL'],
      [{ cacheTTL: 3e9 }, 'cacheTTL'], [{ coalesceTTL: '1s' }, 'coalesceTTL'], [{ cacheSize: 0 }, 'cacheSize'],
      [{ enabled: 'yes' }, 'enabled'], [{ allowWarmUp: 1 }, 'allowWarmUp'], [{ name: '' }, 'name'], [{ cacheGetKey: 'id' }, 'cacheGetKey'],
      [{ cache: true, cacheTransport: {} }, 'cacheTransport'], [{ abortController: {} }, 'abortController'],
      [{ coalesceResetOn: 'error' }, 'coalesceResetOn'], [{ coalesceResetOn: ['never'] }, 'coalesceResetOn'],
      [{ rotateBucketController: {} }, 'rotateBucketController'], [{ state: 'open' }, 'state'],
    ];
    for (const [opossum, key] of cases) {
      assert.throws(() => opossumCircuitBreaker({ opossum }), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === `opossumCircuitBreaker.opossum.${key}`, `${key}: ${String(opossum[key])}`);
    }
  });

  it('keeps every value opossum documents valid', () => {
    const valid: Record<string, unknown>[] = [
      {}, { timeout: false }, { timeout: 0 }, { timeout: 2500.5 }, { timeout: 2 ** 31 - 1 }, { resetTimeout: 2 ** 31 - 1 },
      { resetTimeout: 1 }, { errorThresholdPercentage: 0 }, { errorThresholdPercentage: 100 }, { errorThresholdPercentage: 12.5 },
      { volumeThreshold: 0 }, { rollingCountTimeout: 10, rollingCountBuckets: 10 }, { rollingCountTimeout: 60_000, rollingCountBuckets: 60 },
      { cache: true, cacheTTL: 0, cacheSize: 10, cacheGetKey: () => 'k' }, { coalesce: true, coalesceTTL: 0, coalesceSize: 5, coalesceResetOn: ['error', 'timeout'] },
      { capacity: 3, enabled: true, allowWarmUp: true, rollingPercentilesEnabled: false, enableSnapshots: false, name: 'n', group: 'g' },
      { abortController: new AbortController(), autoRenewAbortController: true }, { maxFailures: 0 },
      { cache: true, cacheTransport: { get: () => undefined, set: () => {}, flush: () => {} } },
      { resetTimeout: undefined, timeout: undefined },
    ];
    for (const opossum of valid) opossumCircuitBreaker({ opossum }).close();
  });

  it('an open breaker with the longest valid resetTimeout stays open (no clamp to 1 ms)', async () => {
    const policy = opossumCircuitBreaker({ opossum: { resetTimeout: 2 ** 31 - 1, volumeThreshold: 1, errorThresholdPercentage: 1 } });
    await using c = client('opossum-long-reset').endpoints(['127.0.0.1:9']).retry(false).policy(policy).build();
    const failed = await settle(c.call(() => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))));
    assert.ok(isMeshkitError(failed, 'ERR_UPSTREAM'));
    assert.equal(policy.state, 'open');
    await sleep(50);
    assert.equal(policy.state, 'open');
  });
});

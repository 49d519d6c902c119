import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, MeshkitError, staticEndpoints, undiciTransport } from '../../src/index.js';

/** Asserts `fn` throws ERR_INVALID_CONFIG naming `option`. */
function assertInvalid(fn: () => unknown, option: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `expected ERR_INVALID_CONFIG, got ${String(error)}`);
    assert.equal(error.details['option'], option);
    assert.match(error.message, new RegExp(option.replace(/[.[\]]/g, '\\$&')));
    return true;
  });
}

describe('client builder validation', () => {
  const base = client('orders').endpoints(['127.0.0.1:8080']);

  it('rejects a negative timeout, naming the option', () => {
    assertInvalid(() => base.timeout({ perTry: -5 }).build(), 'timeout.perTry');
    assertInvalid(() => base.timeout({ total: '-2s' }).build(), 'timeout.total');
  });

  it('rejects an empty endpoint list', () => {
    assertInvalid(() => client('orders').endpoints([]).build(), 'endpoints');
    assertInvalid(() => client('orders').discovery(staticEndpoints([])).build(), 'endpoints');
  });

  it('rejects an unknown duration unit', () => {
    assertInvalid(() => base.timeout({ perTry: '5 parsecs' }).build(), 'timeout.perTry');
    assertInvalid(() => base.timeout({ total: '2d' }).build(), 'timeout.total');
    assertInvalid(() => base.retry({ backoff: { base: '10ns' } }).build(), 'retry.backoff.base');
  });

  it('rejects port 70000 and other bad endpoints, naming the entry', () => {
    assertInvalid(() => client('orders').endpoints(['127.0.0.1:70000']).build(), 'endpoints[0].port');
    assertInvalid(() => client('orders').endpoints([{ host: '127.0.0.1', port: 70000 }]).build(), 'endpoints[0].port');
    assertInvalid(() => client('orders').endpoints(['127.0.0.1:80', 'no-port']).build(), 'endpoints[1]');
    assertInvalid(() => client('orders').endpoints([{ host: '', port: 80 }]).build(), 'endpoints[0].host');
    assertInvalid(() => client('orders').endpoints([{ host: 'a', port: 80, weight: 0 }]).build(), 'endpoints[0].weight');
    assertInvalid(() => client('orders').endpoints(['127.0.0.1:80', '127.0.0.1:80']).build(), 'endpoints[1]');
  });

  it('rejects other bad options with the option named', () => {
    assertInvalid(() => client(''), 'name');
    assertInvalid(() => client('orders').build(), 'discovery');
    assertInvalid(() => base.timeout({ perTry: '3s', total: '1s' }).build(), 'timeout.perTry');
    assertInvalid(() => base.timeout({ perTry: 0 }).build(), 'timeout.perTry');
    assertInvalid(() => base.retry({ attempts: 0 }).build(), 'retry.attempts');
    assertInvalid(() => base.retry({ attempts: 2.5 }).build(), 'retry.attempts');
    assertInvalid(() => base.retry({ backoff: { base: '100ms', cap: '10ms' } }).build(), 'retry.backoff.cap');
    assertInvalid(() => base.retry({ statuses: [999] }).build(), 'retry.statuses');
    assertInvalid(() => base.transport(undiciTransport({ connections: 0 })).build(), 'transport.connections');
    assertInvalid(() => base.balancer({} as never).build(), 'balancer');
    assertInvalid(() => base.discovery(null as never).build(), 'discovery');
    assertInvalid(() => base.policy({ name: 'x' } as never).build(), 'policy');
  });

  it('reports the bad value in the error', () => {
    try {
      base.timeout({ perTry: '5 parsecs' });
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof MeshkitError);
      assert.equal(error.details['value'], '5 parsecs');
      assert.match(error.message, /"5 parsecs"/);
    }
  });

  it('.circuitBreaker() gives each built client its own breaker, and validates at once', async () => {
    const base = client('orders').endpoints(['127.0.0.1:8080']).circuitBreaker({ errorThreshold: 0.5 });
    const a = base.build();
    const b = base.build();
    try {
      const [breakerA] = a.config.policies;
      const [breakerB] = b.config.policies;
      assert.ok(breakerA !== undefined && breakerB !== undefined && breakerA !== breakerB);
      assert.equal(breakerA.name, breakerB.name);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    assertInvalid(() => client('orders').circuitBreaker({ errorThreshold: 50 }), 'circuitBreaker.errorThreshold');
  });

  it('returns a new builder from each method, so shared bases stay unchanged', async () => {
    const shared = client('orders').endpoints(['127.0.0.1:8080']);
    const strict = shared.timeout({ total: '1s' });
    assert.notEqual(shared, strict);
    const a = shared.build();
    const b = strict.build();
    try {
      assert.equal(a.config.timeouts.total, Infinity);
      assert.equal(b.config.timeouts.total, 1000);
      assert.ok(Object.isFrozen(a.config));
      assert.equal(a.config.balancer.name, 'p2c-peak-ewma', 'peak EWMA is the default balancer');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  adaptiveConcurrency, adaptiveThrottle, aimd, circuitBreaker, client, isMeshkitError, type Client, type MeshkitError,
} from '../../src/index.js';
import { closedPort } from '../helpers/upstream.js';

/**
 * The attribution rule (docs/architecture.md, "Whose outcome is it?"): only
 * what the upstream did moves shared state. Each row of the rule's table is
 * one test here, against a real HTTP server: the caller-caused rows move no
 * breaker (service or endpoint), ejection, latency estimate, concurrency
 * limit or throttle; the upstream rows do.
 */

interface Served {
  readonly address: string;
  /** Requests that reached the server (bytes arrived), by path. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** A server that answers `/ok` at once, `/slow` after 300 ms and `/fail` with 503. */
async function serve(): Promise<Served> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 300).unref();
    else if (req.url === '/fail') res.writeHead(503).end('down');
    else res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Everything shared that an outcome could move, read off one client. */
interface SharedState {
  readonly breakerCalls: number;
  readonly breakerFailures: number;
  readonly endpointCircuit: string | undefined;
  readonly ejected: boolean;
  readonly latencyMs: number | undefined;
  readonly limit: number;
  readonly throttleRequests: number;
}

function governed(address: string, name: string, perTry = '150ms'): { c: Client; state(): SharedState } {
  const breaker = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
  const limit = adaptiveConcurrency({ algorithm: aimd({ initialLimit: 40, minLimit: 1, maxLimit: 40, backoffRatio: 0.5 }), window: false });
  const throttle = adaptiveThrottle({ minRequests: 1000 });
  const c = client(name).endpoints([address]).retry(false).timeout({ perTry, total: '10s' })
    .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 100 })
    .endpointCircuitBreakers({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' })
    .policy(throttle).policy(breaker).policy(limit).build();
  return {
    c,
    state: () => {
      const endpoint = c.snapshot().endpoints[0];
      return {
        breakerCalls: breaker.stats().calls,
        breakerFailures: breaker.stats().failures,
        endpointCircuit: endpoint?.circuit,
        ejected: endpoint?.ejected ?? false,
        latencyMs: endpoint?.latencyMs,
        limit: limit.limiter.limit,
        throttleRequests: throttle.state().requests,
      };
    },
  };
}

function failure(pending: Promise<unknown>): Promise<MeshkitError> {
  return pending.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => {
      assert.ok(isMeshkitError(error), `a MeshkitError, got ${String(error)}`);
      return error;
    },
  );
}

/** Asserts that nothing shared moved between `before` and `after`, except that the latency estimate may only have decayed. */
function assertUnmoved(before: SharedState, after: SharedState): void {
  assert.equal(after.breakerCalls, before.breakerCalls, 'the service breaker did not count the call');
  assert.equal(after.breakerFailures, before.breakerFailures);
  assert.equal(after.endpointCircuit, before.endpointCircuit, 'the endpoint breaker did not move');
  assert.equal(after.ejected, false, 'the endpoint was not ejected');
  assert.equal(after.limit, before.limit, 'the concurrency limit did not move');
  assert.equal(after.throttleRequests, before.throttleRequests, 'the throttle did not count the call');
  assert.ok((after.latencyMs ?? 0) <= (before.latencyMs ?? 0) + 1, `the latency estimate did not grow: ${String(before.latencyMs)} -> ${String(after.latencyMs)}`);
}

describe('attribution: only what the upstream did moves shared state', () => {
  let upstream: Served;
  before(async () => {
    upstream = await serve();
  });
  after(() => upstream.close());

  async function warmClient(name: string, perTry?: string): Promise<{ c: Client; state(): SharedState }> {
    const g = governed(upstream.address, name, perTry);
    for (let i = 0; i < 3; i++) await (await g.c.request({ path: '/ok' })).body.dump();
    return g;
  }

  it('caller: its abort is ERR_ABORTED (blame caller) and moves nothing', async () => {
    // A per-try timeout far beyond the abort, and the abort sent once the server holds the
    // request, so a busy machine cannot let the upstream's timeout win the race.
    const { c, state } = await warmClient('attr-abort', '10s');
    try {
      const before = state();
      const controller = new AbortController();
      const seen = upstream.seen.length;
      const pending = failure(c.request({ path: '/slow', signal: controller.signal }));
      for (const givingUp = Date.now() + 10_000; upstream.seen.length === seen;) {
        assert.ok(Date.now() < givingUp, 'the server never received the request');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      controller.abort(new Error('user left'));
      const error = await pending;
      assert.equal(error.code, 'ERR_ABORTED');
      assert.equal(error.blame, 'caller');
      assert.equal((error.cause as Error).message, 'user left');
      assertUnmoved(before, state());
    } finally {
      await c.close({ timeout: 0 });
    }
  });

  it('caller: its own deadline (a per-call timeout tighter than the client\'s) is ERR_DEADLINE_EXCEEDED (blame caller) and moves nothing', async () => {
    const { c, state } = await warmClient('attr-deadline');
    try {
      const before = state();
      const error = await failure(c.request({ path: '/slow', timeout: '20ms' }));
      assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
      assert.equal(error.blame, 'caller');
      assertUnmoved(before, state());
    } finally {
      await c.close({ timeout: 0 });
    }
  });

  for (const [what, headers] of [
    ['a header value that is not ASCII', { 'x-name': 'caf\u00e9 \u2603' }],
    ['a forwarded transfer-encoding', { 'transfer-encoding': 'chunked' }],
  ] as const) {
    it(`caller: a request refused locally (${what}) is ERR_INVALID_ARGUMENT, sends 0 bytes and moves nothing`, async () => {
      const { c, state } = await warmClient('attr-refused');
      try {
        const before = state();
        const seen = upstream.seen.length;
        const error = await failure(c.request({ path: '/ok', headers }));
        assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
        assert.equal(error.blame, 'caller');
        assert.ok(error.cause instanceof Error, 'the transport\'s own error is the cause');
        assert.equal(error.service, 'attr-refused');
        assert.equal(upstream.seen.length, seen, 'nothing reached the server');
        assertUnmoved(before, state());
      } finally {
        await c.close();
      }
    });
  }

  it('local: a call stopped by close() is ERR_CLIENT_CLOSED (blame local) and moves nothing', async () => {
    const { c, state } = await warmClient('attr-closed');
    const before = state();
    const pending = failure(c.request({ path: '/slow' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await c.close({ timeout: 0 });
    const error = await pending;
    assert.equal(error.code, 'ERR_CLIENT_CLOSED');
    assert.equal(error.blame, 'local');
    assertUnmoved(before, state());
  });

  it('upstream: a per-try timeout is ERR_TIMEOUT and moves every consumer', async () => {
    const { c, state } = await warmClient('attr-timeout');
    try {
      const before = state();
      const error = await failure(c.request({ path: '/slow' }));
      assert.equal(error.code, 'ERR_TIMEOUT');
      assert.equal(error.blame, 'upstream');
      const after = state();
      assert.equal(after.breakerFailures, before.breakerFailures + 1);
      assert.equal(after.ejected, true, 'one gateway failure ejects (consecutiveGatewayFailures: 1)');
      assert.equal(after.endpointCircuit, 'open');
      assert.ok(after.limit < before.limit, `a timeout is a drop: ${before.limit} -> ${after.limit}`);
      assert.ok((after.latencyMs ?? 0) >= 100, `the latency estimate learned the slow attempt: ${String(after.latencyMs)}`);
    } finally {
      await c.close({ timeout: 0 });
    }
  });

  it('upstream: the client\'s own total deadline is ERR_DEADLINE_EXCEEDED with blame upstream, and counts', async () => {
    const breaker = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
    const c = client('attr-total').endpoints([upstream.address]).retry(false).timeout({ total: '50ms' })
      .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 100 }).policy(breaker).build();
    try {
      const error = await failure(c.request({ path: '/slow' }));
      assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
      assert.equal(error.blame, 'upstream');
      assert.equal(error.attempts, 1);
      assert.equal(error.endpoint, upstream.address);
      assert.equal(breaker.stats().failures, 1, 'the service breaker counted it');
      assert.equal(breaker.state, 'open');
    } finally {
      await c.close({ timeout: 0 });
    }
  });

  it('upstream: a 503 resolves, and counts against the endpoint and the service', async () => {
    const { c, state } = await warmClient('attr-503');
    try {
      const before = state();
      const res = await c.request({ path: '/fail' });
      assert.equal(res.statusCode, 503);
      await res.body.dump();
      const after = state();
      assert.equal(after.breakerFailures, before.breakerFailures + 1);
      assert.equal(after.ejected, true);
    } finally {
      await c.close();
    }
  });

  it('upstream: a refused connection is ERR_UPSTREAM with the call\'s context and the original error as cause', async () => {
    const port = await closedPort();
    await using c = client('attr-connect').endpoints([`127.0.0.1:${port}`]).retry(false)
      .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 100 }).build();
    const error = await failure(c.request({ path: '/' }));
    assert.equal(error.code, 'ERR_UPSTREAM');
    assert.equal(error.blame, 'upstream');
    assert.equal(error.details['reason'], 'connect');
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
    assert.deepEqual([error.service, error.attempts, error.endpoint], ['attr-connect', 1, `127.0.0.1:${port}`]);
    assert.equal(c.snapshot().endpoints[0]?.ejected, true, 'a refused connection ejects');
  });
});

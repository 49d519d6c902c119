import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  client, isMeshkitError, roundRobin, subscribe, type AttemptEndMessage, type Policy, type Resolver, type ResolverListener,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { closedPort, startUpstreams, type Upstream } from '../helpers/upstream.js';

/** Collects attempt outcomes for one service while `fn` runs. */
async function recordAttempts<T>(service: string, fn: () => Promise<T>): Promise<{ result: T; attempts: AttemptEndMessage[] }> {
  const attempts: AttemptEndMessage[] = [];
  const stop = subscribe('attemptEnd', (message) => {
    if (message.call.service === service) attempts.push(message);
  });
  try {
    return { result: await fn(), attempts };
  } finally {
    stop();
  }
}

function connectError(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}

describe('retries', () => {
  let ok: Upstream;
  let unavailable: Upstream;
  before(async () => {
    [ok, unavailable] = (await startUpstreams([{}, { status: 503 }])) as [Upstream, Upstream];
  });
  after(async () => {
    await Promise.all([ok.close(), unavailable.close()]);
  });

  it('moves a GET that got 503 to another endpoint', async () => {
    await using c = client('retry-get').endpoints([unavailable.address, ok.address]).retry({ attempts: 2 }).build();
    for (let i = 0; i < 4; i++) {
      const { result: res, attempts } = await recordAttempts('retry-get', () => c.request({ path: '/' }));
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), `ok ${ok.port}`);
      if (attempts.length === 2) {
        assert.equal(attempts[0]?.endpoint.port, unavailable.port);
        assert.equal(attempts[0]?.outcome?.reason, 'status');
        assert.equal(attempts[1]?.endpoint.port, ok.port);
      } else assert.equal(attempts.length, 1);
    }
  });

  it('does not retry a POST that got 503, and returns the 503', async () => {
    await using c = client('retry-post').endpoints([unavailable.address]).retry({ attempts: 3 }).build();
    const before = unavailable.requests.length;
    const res = await c.request({ path: '/', method: 'POST', body: 'x' });
    assert.equal(res.statusCode, 503);
    await res.body.dump();
    assert.equal(unavailable.requests.length - before, 1);
  });

  it('retries a POST with an Idempotency-Key or idempotent: true', async () => {
    await using c = client('retry-key').endpoints([unavailable.address, ok.address]).retry({ attempts: 2 }).build();
    for (const options of [{ headers: { 'Idempotency-Key': 'k1' } }, { idempotent: true }]) {
      for (let i = 0; i < 2; i++) {
        const res = await c.request({ path: '/', method: 'POST', body: 'x', ...options });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
    }
  });

  it('retries any method when the connection was refused (the request never left)', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    await using c = client('retry-connect').endpoints([dead, ok.address]).retry({ attempts: 2 }).build();
    for (let i = 0; i < 4; i++) {
      const res = await c.request({ path: '/', method: 'POST', body: 'x' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
  });

  it('returns the last 5xx when every attempt fails, draining the others', async () => {
    await using c = client('retry-exhaust').endpoints([unavailable.address]).retry({ attempts: 3, backoff: { base: 1, cap: 2 } }).build();
    for (let i = 0; i < 20; i++) {
      const before = unavailable.requests.length;
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 503);
      await res.body.dump();
      assert.equal(unavailable.requests.length - before, 3);
    }
  });

  it('never retries a streamed body', async () => {
    await using c = client('retry-stream').endpoints([unavailable.address, unavailable.address.replace('127.0.0.1', 'localhost')])
      .retry({ attempts: 3 }).build();
    const before = unavailable.requests.length;
    const res = await c.request({ path: '/', method: 'PUT', body: Readable.from([Buffer.from('chunk')]) });
    assert.equal(res.statusCode, 503);
    await res.body.dump();
    assert.equal(unavailable.requests.length - before, 1);
  });

  it('retry(false) makes a single attempt', async () => {
    await using c = client('no-retry').endpoints([unavailable.address, ok.address]).balancer(roundRobin()).retry(false).build();
    let failures = 0;
    for (let i = 0; i < 4; i++) {
      const res = await c.request({ path: '/' });
      if (res.statusCode === 503) failures++;
      await res.body.dump();
    }
    assert.equal(failures, 2);
  });
});

describe('timeouts and deadlines', () => {
  let fast: Upstream;
  let slow: Upstream;
  before(async () => {
    // The slow endpoint is far slower than any bound below, so the bounds stay generous on a loaded machine.
    [fast, slow] = (await startUpstreams([{}, { delayMs: 3000 }])) as [Upstream, Upstream];
  });
  after(async () => {
    await Promise.all([fast.close(), slow.close()]);
  });

  it('cuts a slow attempt at the per-try timeout and retries elsewhere', async () => {
    await using c = client('per-try').endpoints([slow.address, fast.address]).timeout({ perTry: '60ms' }).retry({ attempts: 2 }).build();
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const { result: res, attempts } = await recordAttempts('per-try', () => c.request({ path: '/' }));
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), `ok ${fast.port}`);
      assert.ok(performance.now() - started < 1500, 'did not wait for the slow endpoint');
      if (attempts.length === 2) assert.equal(attempts[0]?.outcome?.reason, 'timeout');
    }
  });

  it('fails with ERR_TIMEOUT when every attempt times out', async () => {
    await using c = client('per-try-fail').endpoints([slow.address]).timeout({ perTry: '30ms' }).retry({ attempts: 2 }).build();
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_TIMEOUT') && e.details['timeoutMs'] === 30);
  });

  it('fails with ERR_DEADLINE_EXCEEDED at the total deadline and starts nothing after it', async () => {
    await using c = client('deadline').endpoints([slow.address]).timeout({ perTry: '60ms', total: '100ms' }).retry({ attempts: 5 }).build();
    const before = slow.requests.length;
    const started = performance.now();
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95 && elapsed < 1500, `settled at the deadline, not after the slow answer (${elapsed} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(slow.requests.length - before <= 2, 'at most two attempts fit in the deadline');
  });

  it('honours a per-call timeout tighter than the client total', async () => {
    await using c = client('per-call').endpoints([slow.address]).timeout({ total: '5s' }).build();
    await assert.rejects(c.request({ path: '/', timeout: '40ms' }), (e: unknown) => isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
  });

  it('aborts call() attempts through attempt.signal on timeout', async () => {
    await using c = client('fn-timeout').endpoints([fast.address]).timeout({ perTry: '20ms' }).retry(false).build();
    let aborted: unknown;
    await assert.rejects(
      c.call((_endpoint, attempt) => new Promise((_resolve, reject) => {
        attempt.signal.addEventListener('abort', () => {
          aborted = attempt.signal.reason;
          reject(new Error('stopped'));
        });
      })),
      (e: unknown) => isMeshkitError(e, 'ERR_TIMEOUT'),
    );
    assert.ok(isMeshkitError(aborted, 'ERR_TIMEOUT'));
  });

  it('settles at the timeout even when the function ignores its signal', async () => {
    await using c = client('fn-ignore').endpoints([fast.address]).timeout({ perTry: '20ms' }).retry(false).build();
    await assert.rejects(c.call(() => new Promise(() => {})), (e: unknown) => isMeshkitError(e, 'ERR_TIMEOUT'));
  });
});

describe('caller abort', () => {
  it('aborts the call in flight with ERR_ABORTED, and a pre-aborted signal sends nothing', async () => {
    const [slow] = (await startUpstreams([{ delayMs: 2000 }])) as [Upstream];
    await using c = client('abort').endpoints([slow.address]).build();
    const controller = new AbortController();
    const pending = c.request({ path: '/', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 30);
    const started = performance.now();
    await assert.rejects(pending, (e: unknown) => isMeshkitError(e, 'ERR_ABORTED') && (e.cause as Error).message === 'user gave up');
    assert.ok(performance.now() - started < 500);
    const before = slow.requests.length;
    await assert.rejects(c.request({ path: '/', signal: AbortSignal.abort() }), (e: unknown) => isMeshkitError(e, 'ERR_ABORTED'));
    assert.equal(slow.requests.length, before);
    await slow.close();
  });
});

describe('discovery waits', () => {
  it('waits for a resolver that answers later, within the deadline', async () => {
    const [up] = (await startUpstreams([{}])) as [Upstream];
    let listener: ResolverListener | undefined;
    const late: Resolver = { source: 'late', subscribe: (l) => ((listener = l), () => {}) };
    await using c = client('late').discovery(late).timeout({ total: '1s' }).build();
    const pending = c.request({ path: '/' });
    setTimeout(() => listener?.onUpdate({ endpoints: [{ id: up.address, host: '127.0.0.1', port: up.port, weight: 1, zone: undefined, tags: [], metadata: {} }], source: 'late' }), 30);
    const res = await pending;
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await up.close();
  });

  it('fails fast with ERR_NO_ENDPOINTS on an empty set, and at the deadline when nothing arrives', async () => {
    const empty: Resolver = { source: 'empty', subscribe: (l) => (l.onUpdate({ endpoints: [], source: 'empty' }), () => {}) };
    await using a = client('empty').discovery(empty).build();
    await assert.rejects(a.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS'));
    const silent: Resolver = { source: 'silent', subscribe: () => () => {} };
    await using b = client('silent').discovery(silent).timeout({ total: '50ms' }).build();
    await assert.rejects(b.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
  });
});

describe('backoff under a virtual clock', () => {
  it('waits a full-jitter delay below min(cap, base * 2^(n-1)) between attempts', async () => {
    const clock = new VirtualClock(0, 7);
    await using c = client('backoff').endpoints(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4'])
      .retry({ attempts: 4, backoff: { base: '100ms', cap: '250ms' } }).clock(clock).build();
    const starts: number[] = [];
    const pending = c.call(() => {
      starts.push(clock.now());
      return Promise.reject(connectError());
    }).catch((error: unknown) => error);
    await clock.advance(1000);
    const error = await pending;
    assert.ok(isMeshkitError(error, 'ERR_UPSTREAM'));
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(starts.length, 4);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    const ceilings = [100, 200, 250];
    gaps.forEach((gap, i) => assert.ok(gap >= 0 && gap < (ceilings[i] as number) * 1.02 + 1, `gap ${i}: ${gap}`));
  });

  it('does not start a retry whose backoff would cross the deadline, and says the deadline ended the call', async () => {
    const clock = new VirtualClock(0, 3);
    await using c = client('backoff-deadline').endpoints(['127.0.0.1:1', '127.0.0.1:2'])
      .retry({ attempts: 5, backoff: { base: '1s', cap: '1s' } }).timeout({ total: '10ms' }).clock(clock).build();
    let calls = 0;
    const pending = c.call(() => {
      calls++;
      return Promise.reject(connectError());
    }).catch((error: unknown) => error);
    await clock.advance(100);
    const error = await pending;
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), 'the deadline ended the call');
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED', 'with the last failure as its cause');
    assert.ok(calls <= 2);
  });
});

describe('policies', () => {
  it('run first-added outermost around the whole call', async () => {
    const order: string[] = [];
    const tracing = (name: string): Policy => ({
      name,
      wrap: (next) => async (call) => {
        order.push(`${name}:in`);
        try {
          return await next(call);
        } finally {
          order.push(`${name}:out`);
        }
      },
    });
    await using c = client('policies').endpoints(['127.0.0.1:1']).policy(tracing('outer')).policy(tracing('inner')).build();
    assert.equal(await c.call(async () => 'value'), 'value');
    assert.deepEqual(order, ['outer:in', 'inner:in', 'inner:out', 'outer:out']);
  });
});

describe('abort during a backoff', () => {
  it('rejects with ERR_ABORTED, not the failure it cut short, and starts no further attempt', async () => {
    const clock = new VirtualClock(0, 5);
    await using c = client('abort-backoff').endpoints(['127.0.0.1:1', '127.0.0.1:2'])
      .retry({ attempts: 3, backoff: { base: '100ms', cap: '100ms' } }).clock(clock).build();
    const controller = new AbortController();
    let calls = 0;
    const pending = c.call(() => {
      calls++;
      return Promise.reject(connectError());
    }, { signal: controller.signal }).catch((error: unknown) => error);
    await clock.advance(0);
    assert.equal(calls, 1);
    controller.abort(new Error('enough'));
    await clock.advance(500);
    assert.ok(isMeshkitError(await pending, 'ERR_ABORTED'));
    assert.equal(calls, 1);
  });
});

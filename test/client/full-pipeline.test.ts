import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adaptiveConcurrency, adaptiveThrottle, bulkhead, client, rateLimit, roundRobin,
} from '../../src/index.js';
import { heapAfterGc } from '../helpers/heap.js';
import { settleTimerHooks, trackMeshkitTimers } from '../helpers/timers.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('the full pipeline', () => {
  it('many calls through every stage: no unhandled rejection, a flat heap, and no meshkit timer after close()', async () => {
    const unhandled = trackUnhandledRejections();
    const timers = trackMeshkitTimers();
    try {
      const c = client('full-stack')
        .endpoints(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'])
        .timeout({ perTry: '1s', total: '2s' })
        .retry({ attempts: 3, backoff: { base: 0.1, cap: 0.2 } })
        .hedge({ after: '1s' })
        .outlierDetection({ consecutiveGatewayFailures: 1000 })
        .circuitBreaker({ volumeThreshold: 1_000_000 })
        .policy(adaptiveThrottle({ minRequests: 1_000_000 }))
        .policy(rateLimit({ rate: 1e9 }))
        .policy(bulkhead({ maxConcurrent: 10_000 }))
        .policy(adaptiveConcurrency({}))
        .build();
      const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      let n = 0;
      // Every 50th attempt fails with a refused connection, so retries, budgets and backoff run too.
      const fn = (): Promise<number> => (++n % 50 === 0 ? Promise.reject(refused) : Promise.resolve(n));
      const batch = async (count: number): Promise<void> => {
        for (let i = 0; i < count; i += 100) {
          await Promise.all(Array.from({ length: 100 }, () => c.call(fn, { idempotent: true }).catch(() => undefined)));
        }
      };
      await batch(20_000);
      const early = heapAfterGc();
      await batch(60_000);
      const late = heapAfterGc();
      assert.ok(late - early < 4 * 1024 * 1024, `heap grew by ${((late - early) / 1024 / 1024).toFixed(1)} MB over 60,000 calls`);
      await c.close();
      await settleTimerHooks();
      assert.ok(timers.created > 0, 'the tracker saw meshkit timers (the check is live)');
      assert.equal(timers.live, 0, 'no meshkit timer alive after close()');
      assert.deepEqual(unhandled.reasons, []);
    } finally {
      timers.stop();
      unhandled.stop();
    }
  });

  it('one instance failing 50 % fast: the default policies keep the success rate at 99.9 % or more', async (t) => {
    const ups = await startUpstreams([{}, {}, {}, {}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    let flip = 0;
    (ups[4] as Upstream).handler = (_req, res) => {
      res.writeHead(++flip % 2 === 0 ? 503 : 200).end('half');
    };
    await using c = client('half-failing').endpoints(ups.map((u) => u.address)).build();
    let ok = 0;
    const calls = 2000;
    const send = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const res = await c.request({ path: '/' });
        if (res.statusCode === 200) ok++;
        await res.body.dump();
      }
    };
    await Promise.all(Array.from({ length: 8 }, () => send(calls / 8)));
    assert.ok(ok / calls >= 0.999, `${ok} of ${calls} succeeded`);
    assert.ok((ups[4] as Upstream).requests.length > 0, 'the flaky instance was tried');
  });

  it('round robin over the same fleet shows what the defaults save (the control)', async (t) => {
    const ups = await startUpstreams([{}, {}, {}, {}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    let flip = 0;
    (ups[4] as Upstream).handler = (_req, res) => {
      res.writeHead(++flip % 2 === 0 ? 503 : 200).end('half');
    };
    await using c = client('half-failing-rr').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false).build();
    let failed = 0;
    for (let i = 0; i < 500; i++) {
      const res = await c.request({ path: '/' });
      if (res.statusCode !== 200) failed++;
      await res.body.dump();
    }
    assert.ok(failed >= 25, `without retries or latency-aware balancing about 10 % fail (${failed} of 500)`);
  });
});

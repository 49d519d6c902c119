import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, type Client, type ClientBuilder, type Policy } from '../../src/index.js';
import { adaptiveConcurrency } from '../../src/policies/adaptive-concurrency.js';
import { aimd } from '../../src/policies/limits/aimd.js';
import type { Limit, LimitAlgorithm } from '../../src/policies/limits/limit.js';
import { closedPort, startUpstream, type Upstream } from '../helpers/upstream.js';

/** An algorithm with a fixed limit that records what it is fed. */
function recording(limit: number): { algorithm: LimitAlgorithm; samples: { rtt: number; inFlight: number; dropped: boolean }[] } {
  const samples: { rtt: number; inFlight: number; dropped: boolean }[] = [];
  const state: Limit = { limit, update: (rtt, inFlight, dropped) => (samples.push({ rtt, inFlight, dropped }), limit) };
  return { algorithm: { name: 'recording', initialLimit: limit, minLimit: limit, maxLimit: limit, create: () => state }, samples };
}

/** A policy with no admission gate: placed innermost, it makes the client run the limiter through `wrap`. */
const passThrough: Policy = { name: 'pass-through', wrap: (next) => next };
let mode: 'gate' | 'wrap' = 'gate';

/** Builds the client so that the limiter runs as an admission gate, or (in the wrap suite) as a wrap stage. */
function build(builder: ClientBuilder): Client {
  return (mode === 'wrap' ? builder.policy(passThrough) : builder).build();
}

for (const runAs of ['gate', 'wrap'] as const) describe(`adaptiveConcurrency (as ${runAs === 'gate' ? 'an admission gate' : 'a wrap stage'})`, () => {
  let upstream: Upstream;
  before(async () => {
    mode = runAs;
    upstream = await startUpstream();
    upstream.handler = (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const status = Number(url.searchParams.get('status') ?? 200);
      const delay = Number(url.searchParams.get('delay') ?? 0);
      setTimeout(() => {
        res.writeHead(status);
        res.end('done');
      }, delay).unref();
    };
  });
  after(async () => {
    mode = 'gate';
    await upstream.close();
  });

  it('sheds a call over the limit at once, before it is sent, with ERR_LIMIT_EXCEEDED', async () => {
    const policy = adaptiveConcurrency({ algorithm: aimd({ initialLimit: 2, minLimit: 2, maxLimit: 2 }) });
    await using c = build(client('ac-shed').endpoints([upstream.address]).retry(false).policy(policy));
    const sent = upstream.requests.length;
    const slow = [c.request({ path: '/?delay=300' }), c.request({ path: '/?delay=300' })];
    assert.equal(policy.limiter.inFlight, 2);
    const started = performance.now();
    await assert.rejects(c.request({ path: '/' }), (error: unknown) => {
      assert.ok(isMeshkitError(error, 'ERR_LIMIT_EXCEEDED'));
      assert.deepEqual(error.details, { reason: 'adaptive-concurrency', limit: 2 });
      assert.match(error.message, /ac-shed/);
      return true;
    });
    assert.ok(performance.now() - started < 200, 'refused without waiting for a slot');
    for (const res of await Promise.all(slow)) await res.body.dump();
    assert.equal(upstream.requests.length - sent, 2, 'the shed call never reached the upstream');
    assert.equal(policy.limiter.inFlight, 0);
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  });

  it('feeds successes as samples, timeouts, 429 and 503 as drops, and ignores other failures', async () => {
    const { algorithm, samples } = recording(50);
    const policy = adaptiveConcurrency({ algorithm, window: false });
    const dead = `127.0.0.1:${await closedPort()}`;
    await using c = build(client('ac-signals').endpoints([upstream.address]).retry(false).timeout({ perTry: '100ms' }).policy(policy));
    await using d = build(client('ac-dead').endpoints([dead]).retry(false).policy(policy));
    const statusOf = async (path: string): Promise<number> => {
      const res = await c.request({ path });
      await res.body.dump();
      return res.statusCode;
    };
    const seen: [string, boolean | 'ignored'][] = [];
    const record = async (label: string, run: () => Promise<unknown>): Promise<void> => {
      const before = samples.length;
      await run().catch(() => undefined);
      seen.push([label, samples.length === before ? 'ignored' : (samples.at(-1)?.dropped as boolean)]);
    };
    await record('200', () => statusOf('/?delay=20'));
    await record('404', () => statusOf('/?status=404'));
    await record('429', () => statusOf('/?status=429'));
    await record('503', () => statusOf('/?status=503'));
    await record('500', () => statusOf('/?status=500'));
    await record('timeout', () => statusOf('/?delay=1000'));
    await record('refused', () => d.request({ path: '/' }));
    assert.deepEqual(seen, [
      ['200', false], ['404', false], ['429', true], ['503', true], ['500', 'ignored'], ['timeout', true], ['refused', 'ignored'],
    ]);
    // RTT is clock time from admission to settlement; in flight counts the call itself.
    assert.ok((samples[0]?.rtt ?? 0) >= 15, `rtt ${samples[0]?.rtt}`);
    assert.ok((samples.at(-1)?.rtt ?? 0) >= 90, 'the timed-out call took its per-try timeout');
    assert.equal(samples[0]?.inFlight, 1);
    assert.equal(policy.limiter.inFlight, 0);
  });

  it('works around client.call() too', async () => {
    const { algorithm, samples } = recording(1);
    const policy = adaptiveConcurrency({ algorithm, window: false });
    await using c = build(client('ac-call').endpoints([upstream.address]).retry(false).policy(policy));
    let release!: () => void;
    const first = c.call(() => new Promise<string>((resolve) => (release = () => resolve('first'))));
    await assert.rejects(c.call(async () => 'second'), (e: unknown) => isMeshkitError(e, 'ERR_LIMIT_EXCEEDED'));
    release();
    assert.equal(await first, 'first');
    assert.equal(samples.length, 1);
  });

  it('validates its options at creation, naming them', () => {
    for (const [options, option] of [
      [{ algorithm: 'gradient2' }, 'adaptiveConcurrency.algorithm'], [{ window: { minTime: -1 } }, 'adaptiveConcurrency.window.minTime'],
      [{ clock: Date }, 'adaptiveConcurrency.clock'], [{ limit: 10 }, 'adaptiveConcurrency.limit'], [5, 'adaptiveConcurrency'],
    ] as const) {
      assert.throws(() => adaptiveConcurrency(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, String(option));
    }
    const policy = adaptiveConcurrency();
    assert.equal(policy.name, 'adaptive-concurrency');
    assert.equal(policy.limiter.algorithm.name, 'gradient2');
    assert.equal(policy.limiter.limit, 20);
    assert.deepEqual({ ...policy.limiter.window }, { minTime: 100, maxTime: 1000, minSamples: 10 });
  });
});

import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { client, isMeshkitError, Outcomes, roundRobin, type Classifier, type Outcome, type CallContext } from '../../src/index.js';
import type { Attempt } from '../../src/attempts/attempt.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { statusOutcomeTable } from '../../src/core/outcome.js';
import { adaptiveThrottle } from '../../src/policies/adaptive-throttle.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstream } from '../helpers/upstream.js';

/** A virtual clock whose random() returns what the test says (default: never below a probability < 1). */
class ScriptedClock extends VirtualClock {
  draw = 0.999_999_999;
  draws = 0;
  override random(): number {
    this.draws++;
    return this.draw;
  }
}

const statuses = statusOutcomeTable(new Set([429, 502, 503, 504]));
const OK = Outcomes.success;
const UNAVAILABLE = statuses[503] as Outcome;
const TOO_MANY = statuses[429] as Outcome;
const NOT_FOUND = statuses[404] as Outcome;

function makeCall(): CallRecord {
  return new CallRecord('svc', undefined, {} as CallTransport, {} as Classifier, 0, Infinity, true, true, undefined);
}

/** A `next` that ends the call with `outcome` as its final attempt's classification (rejecting when `reject`). */
function ending(outcome: Outcome | undefined, reject = false) {
  return (call: CallContext): Promise<string> => {
    if (outcome !== undefined) {
      // The call made an attempt that ended with `outcome`.
      (call as CallRecord).attempts = 1;
      (call as CallRecord).current = { outcome } as unknown as Attempt;
    }
    return reject ? Promise.reject(new Error('transport error')) : Promise.resolve('response');
  };
}

/** Runs `count` calls through `policy` that end with `outcome`; returns how many the throttle rejected. */
async function run(policy: ReturnType<typeof adaptiveThrottle>, outcome: Outcome | undefined, count: number, reject = false): Promise<number> {
  const invoke = policy.wrap(ending(outcome, reject));
  let rejected = 0;
  for (let i = 0; i < count; i++) {
    await invoke(makeCall()).catch((error: unknown) => {
      if (isMeshkitError(error, 'ERR_LIMIT_EXCEEDED')) rejected++;
      else if (!(error instanceof Error && error.message === 'transport error')) throw error;
    });
  }
  return rejected;
}

const sre = (requests: number, accepts: number, k = 2): number => Math.max(0, (requests - k * accepts) / (requests + 1));

describe('adaptiveThrottle options', () => {
  it('rejects bad options naming them', () => {
    for (const [options, option] of [
      [{ k: 0.5 }, 'adaptiveThrottle.k'], [{ k: Number.NaN }, 'adaptiveThrottle.k'],
      [{ window: 0 }, 'adaptiveThrottle.window'], [{ window: 'soon' }, 'adaptiveThrottle.window'],
      [{ buckets: 0 }, 'adaptiveThrottle.buckets'], [{ buckets: 2.5 }, 'adaptiveThrottle.buckets'],
      [{ minRequests: -1 }, 'adaptiveThrottle.minRequests'], [{ clock: { now: () => 0 } }, 'adaptiveThrottle.clock'],
      [null, 'adaptiveThrottle'],
    ] as const) {
      assert.throws(() => adaptiveThrottle(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });

  it('defaults to the SRE book: k 2 over 2 minutes', () => {
    assert.deepEqual({ ...adaptiveThrottle().settings }, { k: 2, windowMs: 120_000, buckets: 20, minRequests: 10 });
  });
});

describe('adaptiveThrottle state machine (virtual clock)', () => {
  it('follows max(0, (requests - k * accepts) / (requests + 1))', async () => {
    const clock = new ScriptedClock();
    const policy = adaptiveThrottle({ minRequests: 0, clock });
    assert.deepEqual(policy.state(), { requests: 0, accepts: 0, probability: 0 });
    await run(policy, OK, 10);
    assert.deepEqual(policy.state(), { requests: 10, accepts: 10, probability: 0 });
    assert.equal(clock.draws, 0, 'no random draw while nothing is to be rejected');
    await run(policy, UNAVAILABLE, 10);
    assert.deepEqual(policy.state(), { requests: 20, accepts: 10, probability: 0 }, 'half failing: still 0 at k = 2');
    await run(policy, UNAVAILABLE, 10);
    assert.deepEqual(policy.state(), { requests: 30, accepts: 10, probability: sre(30, 10) });
    assert.equal(policy.state().probability, 10 / 31);
    await run(policy, TOO_MANY, 5);
    await run(policy, undefined, 3, true); // no attempt at all (refused inside): counts neither way
    await run(policy, OK, 2, true); // rejected although the attempt was ok: the outcome decides
    await run(policy, NOT_FOUND, 4); // a 404 is an answer: accepted
    assert.deepEqual(policy.state(), { requests: 41, accepts: 16, probability: sre(41, 16) });

    const k15 = adaptiveThrottle({ k: 1.5, minRequests: 0, clock });
    await run(k15, OK, 4);
    await run(k15, UNAVAILABLE, 6);
    assert.equal(k15.state().probability, sre(10, 4, 1.5));
  });

  it('rejects when the draw falls below the probability; local rejections count as requests', async () => {
    const clock = new ScriptedClock();
    const policy = adaptiveThrottle({ minRequests: 0, clock });
    await run(policy, UNAVAILABLE, 4); // p = 4/5 for the next call
    clock.draw = 0.8; // not below 4/5: sent
    assert.equal(await run(policy, UNAVAILABLE, 1), 0);
    assert.deepEqual(policy.state(), { requests: 5, accepts: 0, probability: 5 / 6 });
    clock.draw = 0.83; // below 5/6: rejected locally, and counted
    const error = await policy.wrap(ending(OK))(makeCall()).then(() => undefined, (e: unknown) => e);
    assert.equal(isMeshkitError(error, 'ERR_LIMIT_EXCEEDED'), true);
    assert.deepEqual((error as { details: unknown }).details, { service: 'svc', reason: 'adaptive-throttle', probability: 5 / 6, requests: 6, accepts: 0 });
    assert.deepEqual(policy.state(), { requests: 6, accepts: 0, probability: 6 / 7 });
    // Every further call is shed while the draws stay low; the probability keeps rising.
    clock.draw = 0;
    assert.equal(await run(policy, OK, 20), 20);
    assert.deepEqual(policy.state(), { requests: 26, accepts: 0, probability: 26 / 27 });
  });

  it('rejects nothing below minRequests', async () => {
    const clock = new ScriptedClock();
    clock.draw = 0;
    const policy = adaptiveThrottle({ clock });
    assert.equal(await run(policy, UNAVAILABLE, 10), 0);
    assert.deepEqual(policy.state(), { requests: 10, accepts: 0, probability: 10 / 11 });
    assert.equal(await run(policy, UNAVAILABLE, 1), 1);
  });

  it('slides its window bucket by bucket, rotating lazily', async () => {
    const clock = new ScriptedClock();
    const policy = adaptiveThrottle({ window: '10s', buckets: 10, minRequests: 0, clock });
    for (let second = 0; second < 10; second++) {
      await run(policy, UNAVAILABLE, 1);
      await run(policy, OK, 1);
      await clock.advance(1000);
    }
    // Now t = 10 s: the bucket of t = 0 s has just dropped out.
    assert.deepEqual(policy.state(), { requests: 18, accepts: 9, probability: 0 });
    await clock.advance(3500);
    assert.deepEqual(policy.state(), { requests: 12, accepts: 6, probability: 0 });
    await run(policy, UNAVAILABLE, 6);
    assert.deepEqual(policy.state(), { requests: 18, accepts: 6, probability: sre(18, 6) });
    await clock.advance(9000); // t = 22.5 s: buckets 13 to 22 are live, so only the last 6 failures count
    assert.deepEqual(policy.state(), { requests: 6, accepts: 0, probability: 6 / 7 });
    await clock.advance(1000); // t = 23.5 s: they drop out too
    assert.deepEqual(policy.state(), { requests: 0, accepts: 0, probability: 0 });
    await run(policy, UNAVAILABLE, 5);
    await clock.advance(60_000); // far past the window: everything cleared at once
    assert.deepEqual(policy.state(), { requests: 0, accepts: 0, probability: 0 });
  });

  it('is not fed by calls an inner policy refused before any attempt (local shedding is not a backend rejection)', async () => {
    const policy = adaptiveThrottle({ minRequests: 0, clock: new ScriptedClock() });
    assert.equal(await run(policy, undefined, 200, true), 0);
    assert.deepEqual(policy.state(), { requests: 0, accepts: 0, probability: 0 });
  });

  it('counts a call and its accept when the call ends, in the newest bucket of that moment', async () => {
    const clock = new ScriptedClock();
    const policy = adaptiveThrottle({ window: '10s', buckets: 10, minRequests: 0, clock });
    let finish: (() => void) | undefined;
    const pending = policy.wrap((call) => new Promise<string>((resolve) => {
      finish = () => {
        (call as CallRecord).attempts = 1;
        (call as CallRecord).current = { outcome: OK } as unknown as Attempt;
        resolve('late');
      };
    }))(makeCall());
    await clock.advance(5000);
    await run(policy, UNAVAILABLE, 1); // another call moves the window to t = 5 s
    finish?.();
    assert.equal(await pending, 'late');
    assert.deepEqual(policy.state(), { requests: 2, accepts: 1, probability: 0 });
    await clock.advance(5000); // t = 10 s: both were counted at t = 5 s (bucket 5), which is still in the window
    assert.deepEqual(policy.state(), { requests: 2, accepts: 1, probability: 0 });
    await clock.advance(5000); // t = 15 s: bucket 5 has left the window
    assert.deepEqual(policy.state(), { requests: 0, accepts: 0, probability: 0 });
  });

  it('matches a model that keeps every event for any sequence of calls and pauses (property)', async () => {
    type Step = { gap: number; outcome: 'ok' | 'fail'; draw: number };
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3000 }), outcome: fc.constantFrom('ok' as const, 'fail' as const), draw: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }), { maxLength: 80 }),
      async (steps: Step[]) => {
        const clock = new ScriptedClock();
        const bucketMs = 1000;
        const policy = adaptiveThrottle({ window: '10s', buckets: 10, minRequests: 3, clock });
        const events: { bucket: number; accept: boolean }[] = [];
        for (const step of steps) {
          await clock.advance(step.gap);
          const bucket = Math.floor(clock.now() / bucketMs);
          const live = events.filter((e) => e.bucket > bucket - 10);
          const requests = live.filter((e) => !e.accept).length;
          const accepts = live.length - requests;
          const expected = requests < 3 ? 0 : sre(requests, accepts);
          assert.equal(policy.state().probability, expected);
          clock.draw = step.draw;
          const rejected = await run(policy, step.outcome === 'ok' ? OK : UNAVAILABLE, 1);
          assert.equal(rejected, expected > 0 && step.draw < expected ? 1 : 0);
          events.push({ bucket, accept: false });
          if (rejected === 0 && step.outcome === 'ok') events.push({ bucket, accept: true });
          assert.ok(policy.state().probability < 1);
        }
      },
    ), { numRuns: 100 });
  });
});

describe('adaptiveThrottle with a real client and server', () => {
  it('sheds locally while the backend rejects ~90 %, and recovers when it does', async (t) => {
    let failing = true;
    let served = 0;
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    upstream.handler = (_req, res) => {
      served++;
      res.writeHead(failing && served % 10 !== 0 ? 503 : 200);
      res.end();
    };
    const throttle = adaptiveThrottle({ window: '1s', buckets: 10 });
    await using c = client('throttle-it').endpoints([upstream.address]).balancer(roundRobin()).retry(false).policy(throttle).build();
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const tally = { calls: 0, ok: 0, shed: 0, failed: 0 };
    const recent: boolean[] = [];
    const one = async (): Promise<void> => {
      tally.calls++;
      try {
        const res = await c.request({ path: '/' });
        await res.body.dump();
        const ok = res.statusCode === 200;
        if (ok) tally.ok++;
        else tally.failed++;
        recent.push(ok);
      } catch (error) {
        assert.equal(isMeshkitError(error, 'ERR_LIMIT_EXCEEDED') && error.details['reason'], 'adaptive-throttle');
        tally.shed++;
        recent.push(false);
      }
      if (recent.length > 100) recent.shift();
    };
    /** Four paced workers calling until `until()` or `ms` passed. */
    const drive = async (ms: number, until: () => boolean = () => false): Promise<void> => {
      const end = performance.now() + ms;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (performance.now() < end && !until()) {
          await one();
          await pause(4);
        }
      }));
    };

    await drive(2000);
    const phase1 = { ...tally, served };
    assert.ok(phase1.calls >= 200, `made ${phase1.calls} calls`);
    assert.ok(phase1.shed > 0.6 * phase1.calls, `shed ${phase1.shed} of ${phase1.calls}`);
    assert.ok(phase1.served < 0.35 * phase1.calls, `the backend received ${phase1.served} of ${phase1.calls} calls`);
    assert.equal(phase1.served, phase1.ok + phase1.failed, 'every call that was not shed reached the backend once');
    t.diagnostic(`backend failing: ${phase1.calls} calls, ${phase1.shed} shed locally, ${phase1.served} reached the backend`);

    failing = false;
    const recovered = (): boolean => recent.length === 100 && recent.filter(Boolean).length >= 95;
    const started = performance.now();
    await drive(20_000, recovered);
    assert.ok(recovered(), `still shedding after ${Math.round(performance.now() - started)} ms: ${JSON.stringify(tally)}, ${JSON.stringify(throttle.state())}`);
    t.diagnostic(`backend healthy again: recovered after ${Math.round(performance.now() - started)} ms (${tally.calls - phase1.calls} calls)`);
    // 95 of 100 can pass while ~1 % is still shed; one more window of healthy traffic ages every failure out.
    const before = { ...tally };
    await drive(1100);
    assert.equal(throttle.state().probability, 0, JSON.stringify(throttle.state()));
    const shedLate = tally.shed - before.shed;
    const callsLate = tally.calls - before.calls;
    assert.ok(shedLate <= 0.05 * callsLate, `shed ${shedLate} of ${callsLate} calls in the window after recovery`);
  });
});

import assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { client, isMeshkitError, MeshkitError, type Client, type Policy } from '../../src/index.js';
import type { CallContext } from '../../src/core/call-context.js';
import {
  breakerRotations, breakerStateChannel, circuitBreaker, DEFAULT_CIRCUIT_BREAKER,
  type BreakerStateMessage, type CircuitBreakerOptions, type CircuitBreakerPolicy,
} from '../../src/policies/circuit-breaker.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** Polls `predicate` every few ms; generous bound for a loaded 2-core machine. */
async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
before(() => process.on('unhandledRejection', onUnhandled));
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
});

/** Breakers and clients made by a test; closed after it. */
const breakers: CircuitBreakerPolicy[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const b of breakers.splice(0)) b.close();
  assert.deepEqual(breakerRotations(), [], 'every rotation released');
});

function breaker(options: CircuitBreakerOptions): CircuitBreakerPolicy {
  const b = circuitBreaker(options);
  breakers.push(b);
  return b;
}

/** A policy with no admission gate: placed innermost, it makes the client run every policy before it through `wrap`. */
const passThrough: Policy = { name: 'pass-through', wrap: (next) => next };

/** How the state-machine suite runs the breaker: as the client's admission gate, or through `wrap`. */
let mode: 'gate' | 'wrap' = 'gate';

/** A real client whose calls run `fn` (no network); extra policies go inside the breaker. */
function clientWith(b: Policy, ...inner: Policy[]): Client {
  let builder = client('cb-unit').endpoints(['127.0.0.1:9']).retry(false).policy(b);
  for (const p of inner) builder = builder.policy(p);
  if (mode === 'wrap') builder = builder.policy(passThrough);
  const c = builder.build();
  clients.push(c);
  return c;
}

const succeed = (): Promise<string> => Promise.resolve('ok');
const fail = (): Promise<string> => Promise.reject(new Error('boom'));

/** The governed function's own error, which the call rejects with as the cause of an ERR_UPSTREAM. */
function causeOf(error: unknown): Error {
  assert.ok(isMeshkitError(error, 'ERR_UPSTREAM'), `expected ERR_UPSTREAM, got ${String(error)}`);
  return error.cause as Error;
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

function isOpenError(error: unknown): boolean {
  return isMeshkitError(error, 'ERR_CIRCUIT_OPEN');
}

describe('circuitBreaker options', () => {
  it('has the documented defaults', () => {
    const b = breaker({});
    assert.equal(b.name, 'circuit-breaker');
    assert.equal(b.state, 'closed');
    const { clock: _clock, ...settings } = b.settings;
    assert.deepEqual(settings, {
      errorThreshold: 0.5, volumeThreshold: 20, resetTimeoutMs: 5000, windowMs: 10_000, buckets: 10, name: 'circuit-breaker',
    });
    assert.deepEqual({ ...DEFAULT_CIRCUIT_BREAKER }, { ...settings });
  });

  it('parses durations', () => {
    const b = breaker({ resetTimeout: '1m', window: '30s', buckets: 30, errorThreshold: 0.25, volumeThreshold: 0, name: 'orders-cb' });
    assert.equal(b.settings.resetTimeoutMs, 60_000);
    assert.equal(b.settings.windowMs, 30_000);
    assert.equal(b.name, 'orders-cb');
  });

  const invalid: [CircuitBreakerOptions, string][] = [
    [{ errorThreshold: 50 }, 'circuitBreaker.errorThreshold'],
    [{ errorThreshold: 1 }, 'circuitBreaker.errorThreshold'],
    [{ errorThreshold: -0.1 }, 'circuitBreaker.errorThreshold'],
    [{ errorThreshold: Number.NaN }, 'circuitBreaker.errorThreshold'],
    [{ errorThreshold: '0.5' as unknown as number }, 'circuitBreaker.errorThreshold'],
    [{ volumeThreshold: 2.5 }, 'circuitBreaker.volumeThreshold'],
    [{ volumeThreshold: -1 }, 'circuitBreaker.volumeThreshold'],
    [{ resetTimeout: 0 }, 'circuitBreaker.resetTimeout'],
    [{ resetTimeout: '30 days' }, 'circuitBreaker.resetTimeout'],
    [{ resetTimeout: 2 ** 31 }, 'circuitBreaker.resetTimeout'],
    [{ window: -5 }, 'circuitBreaker.window'],
    [{ buckets: 0 }, 'circuitBreaker.buckets'],
    [{ buckets: 1.5 }, 'circuitBreaker.buckets'],
    [{ window: 10, buckets: 20 }, 'circuitBreaker.buckets'],
    [{ name: '' }, 'circuitBreaker.name'],
    [{ clock: {} as never }, 'circuitBreaker.clock'],
  ];
  for (const [options, option] of invalid) {
    it(`refuses ${JSON.stringify(options)} naming ${option}`, () => {
      assert.throws(() => circuitBreaker(options), (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'));
        assert.equal(error.details['option'], option);
        return true;
      });
    });
  }

  it('refuses a non-object', () => {
    assert.throws(() => circuitBreaker(null as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
  });

  it('accepts every fraction in [0, 1) and every integer volume', () => {
    fc.assert(fc.property(
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.nat({ max: 10_000 }),
      (errorThreshold, volumeThreshold) => {
        const b = circuitBreaker({ errorThreshold, volumeThreshold });
        b.close();
        return b.settings.errorThreshold === errorThreshold && b.settings.volumeThreshold === volumeThreshold;
      },
    ), { numRuns: 50 });
  });
});

for (const runAs of ['gate', 'wrap'] as const) describe(`circuitBreaker state machine (as ${runAs === 'gate' ? 'an admission gate' : 'a wrap stage'})`, () => {
  before(() => {
    mode = runAs;
  });
  after(() => {
    mode = 'gate';
  });

  it('stays closed below the volume threshold, however many fail', async () => {
    const b = breaker({ volumeThreshold: 5, errorThreshold: 0 });
    const c = clientWith(b);
    for (let i = 0; i < 4; i++) assert.equal(causeOf(await settle(c.call(fail))).message, 'boom');
    assert.equal(b.state, 'closed');
    assert.equal(b.stats().failures, 4);
  });

  it('opens once the volume is reached and the error rate exceeds the threshold, then fails fast', async () => {
    const b = breaker({ volumeThreshold: 4, errorThreshold: 0.5, resetTimeout: '10s' });
    const c = clientWith(b);
    assert.equal(await c.call(succeed), 'ok');
    await settle(c.call(fail));
    await settle(c.call(fail));
    assert.equal(b.state, 'closed', '3 calls < volume 4');
    const error = await settle(c.call(fail));
    assert.equal(causeOf(error).message, 'boom', 'the call that trips the breaker gets its own error');
    assert.equal(b.state, 'open', '3 of 4 failed: 75 % > 50 %');

    let ran = 0;
    const refused = await settle(c.call(() => {
      ran++;
      return succeed();
    }));
    assert.ok(isOpenError(refused), String(refused));
    assert.equal(ran, 0, 'no attempt is made while open');
    const details = (refused as MeshkitError).details;
    assert.equal(details['service'], 'cb-unit');
    assert.equal(details['state'], 'open');
    assert.ok(typeof details['retryAfterMs'] === 'number' && details['retryAfterMs'] > 0 && details['retryAfterMs'] <= 10_000);
    const stats = b.stats();
    assert.equal(stats.rejected, 1);
    assert.equal(stats.opened, 1);
    assert.equal(stats.calls, 4, 'refused calls are not counted in the window');
    assert.equal(stats.failures, 3);
    assert.equal(stats.errorRate, 0.75);
  });

  it('does not open at exactly the threshold (it must be exceeded)', async () => {
    const b = breaker({ volumeThreshold: 4, errorThreshold: 0.5 });
    const c = clientWith(b);
    await c.call(succeed);
    await c.call(succeed);
    await settle(c.call(fail));
    await settle(c.call(fail));
    assert.equal(b.state, 'closed', '2 of 4 = 50 %, not more');
    await settle(c.call(fail));
    assert.equal(b.state, 'open', '3 of 5 = 60 %');
  });

  it('lets one trial through after resetTimeout; its success closes the breaker with a fresh window', async () => {
    const b = breaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: 40 });
    const c = clientWith(b);
    await settle(c.call(fail));
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    await waitFor('half-open', () => b.state === 'half-open');

    let release!: (value: string) => void;
    const trial = c.call(() => new Promise<string>((resolve) => (release = resolve)));
    // While the trial is in flight, everything else is refused.
    const other = await settle(c.call(succeed));
    assert.ok(isOpenError(other));
    assert.equal((other as MeshkitError).details['state'], 'half-open');
    assert.equal(b.state, 'half-open');
    await waitFor('the trial to run', () => release !== undefined);
    release('trial');
    assert.equal(await trial, 'trial');
    assert.equal(b.state, 'closed');
    assert.equal(b.stats().calls, 0, 'closing starts a fresh window');
    assert.equal(b.stats().failures, 0);
    // A single failure now does not reopen it: the old failures are gone.
    await settle(c.call(fail));
    assert.equal(b.state, 'closed');
    assert.equal(await c.call(succeed), 'ok');
  });

  it('reopens when the trial fails, and tries again after another resetTimeout', async () => {
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40 });
    const c = clientWith(b);
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    await waitFor('half-open', () => b.state === 'half-open');
    assert.equal(causeOf(await settle(c.call(fail))).message, 'boom');
    assert.equal(b.state, 'open');
    assert.equal(b.stats().opened, 2);
    assert.ok(isOpenError(await settle(c.call(succeed))));
    await waitFor('half-open again', () => b.state === 'half-open');
    assert.equal(await c.call(succeed), 'ok');
    assert.equal(b.state, 'closed');
  });

  it('counts a resolved result whose final outcome is not ok as a failure, and still returns it', async () => {
    const b = breaker({ volumeThreshold: 2, errorThreshold: 0.5 });
    const response = { statusCode: 503 };
    const call = { service: 'svc', current: { outcome: { ok: false } }, stopped: undefined } as unknown as CallContext;
    const invoke = b.wrap(() => Promise.resolve(response));
    assert.equal(await invoke(call), response);
    assert.equal(b.state, 'closed');
    assert.equal(await invoke(call), response);
    assert.equal(b.state, 'open');
    assert.equal(b.stats().failures, 2);
    assert.ok(isOpenError(await settle(invoke(call))));
  });

  it('does not count aborts or ERR_LIMIT_EXCEEDED from inner policies as failures', async () => {
    const b = breaker({ volumeThreshold: 2, errorThreshold: 0 });
    let limiting = true;
    const limiter: Policy = {
      name: 'limiter',
      wrap: (next) => (call) => (limiting ? Promise.reject(new MeshkitError('ERR_LIMIT_EXCEEDED', 'full')) : next(call)),
    };
    const c = clientWith(b, limiter);
    for (let i = 0; i < 5; i++) assert.ok(isMeshkitError(await settle(c.call(succeed)), 'ERR_LIMIT_EXCEEDED'));
    limiting = false;
    for (let i = 0; i < 5; i++) {
      assert.ok(isMeshkitError(await settle(c.call(succeed, { signal: AbortSignal.abort() })), 'ERR_ABORTED'));
    }
    const controller = new AbortController();
    const pending = settle(c.call(() => new Promise<string>(() => {}), { signal: controller.signal }));
    controller.abort();
    assert.ok(isMeshkitError(await pending, 'ERR_ABORTED'));
    assert.equal(b.state, 'closed');
    const stats = b.stats();
    assert.equal(stats.failures, 0);
    assert.equal(stats.ignored, 11);
    assert.equal(stats.calls, 0, 'ignored calls are not in the volume either: they cannot dilute real failures');
    // Real failures still count, and only they make up the volume.
    await settle(c.call(fail));
    assert.equal(b.state, 'closed', '1 counted call < volume 2');
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
  });

  it('stays half-open (neither closes nor re-opens) when the half-open trial ends by the caller\'s doing: the next call is the trial', async () => {
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40 });
    const c = clientWith(b);
    await settle(c.call(fail));
    await waitFor('half-open', () => b.state === 'half-open');
    // A caller that aborts every trial (or sends 1 ms deadlines) must not hold the breaker open for everyone.
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const trial = settle(c.call(() => new Promise<string>(() => {}), { signal: controller.signal }));
      controller.abort();
      assert.ok(isMeshkitError(await trial, 'ERR_ABORTED'));
      assert.equal(b.state, 'half-open', `after aborted trial ${i + 1}`);
    }
    const tooShort = await settle(c.call(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 100)), { timeout: 5 }));
    assert.ok(isMeshkitError(tooShort, 'ERR_DEADLINE_EXCEEDED') && tooShort.blame === 'caller');
    assert.equal(b.state, 'half-open', 'after a trial cut by the caller\'s deadline');
    assert.equal(b.stats().opened, 1, 'opened once, by the real failure');
    assert.equal(await c.call(succeed), 'ok');
    assert.equal(b.state, 'closed');
  });

  it('forgets failures once they leave the rolling window (rotation on the injected clock)', async () => {
    const clock = new VirtualClock();
    const b = breaker({ volumeThreshold: 3, errorThreshold: 0.5, window: 100, buckets: 4, clock });
    const c = clientWith(b);
    await settle(c.call(fail));
    await settle(c.call(fail));
    await clock.advance(100);
    assert.equal(b.stats().calls, 0, 'the window rolled past both failures');
    await settle(c.call(fail));
    assert.equal(b.state, 'closed', 'only 1 call in the window');
    await clock.advance(25);
    await settle(c.call(fail));
    await settle(c.call(fail));
    assert.equal(b.state, 'open', '3 failures within one window');
  });

  it('publishes state changes on meshkit:breaker:state', async () => {
    const seen: { service: string; name: string; state: string; previous: string; same: boolean }[] = [];
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40, name: 'orders-breaker' });
    const listener = (message: unknown): void => {
      const m = message as BreakerStateMessage;
      if (m.breaker === b) seen.push({ service: m.service, name: m.name, state: m.state, previous: m.previous, same: m.breaker === b });
    };
    assert.equal(breakerStateChannel.name, 'meshkit:breaker:state');
    diagnosticsChannel.subscribe('meshkit:breaker:state', listener);
    try {
      const c = clientWith(b);
      await settle(c.call(fail));
      await waitFor('half-open', () => b.state === 'half-open');
      await c.call(succeed);
    } finally {
      diagnosticsChannel.unsubscribe('meshkit:breaker:state', listener);
    }
    assert.deepEqual(seen.map(({ state, previous }) => `${previous}->${state}`), ['closed->open', 'open->half-open', 'half-open->closed']);
    for (const m of seen) {
      assert.equal(m.service, 'cb-unit');
      assert.equal(m.name, 'orders-breaker');
    }
  });

  it('an open breaker refuses before the call runs, without counting it', async () => {
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '10s' });
    const c = clientWith(b);
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    const before = b.stats();
    let ran = 0;
    const refused = await settle(c.call(() => {
      ran++;
      return succeed();
    }));
    assert.ok(isOpenError(refused), String(refused));
    assert.equal(ran, 0);
    assert.equal(b.stats().calls, before.calls, 'a refused call is not counted');
    assert.equal(b.stats().rejected, before.rejected + 1);
    await sleep(10);
  });

  it('a call let in while closed that succeeds after the breaker went half-open closes it (as through fire())', async () => {
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '50ms' });
    const c = clientWith(b);
    let answer: ((value: string) => void) | undefined;
    const slow = c.call(() => new Promise<string>((resolve) => { answer = resolve; }));
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    await waitFor('half-open', () => b.state === 'half-open');
    (answer as (value: string) => void)('late');
    assert.equal(await slow, 'late');
    assert.equal(b.state, 'closed');
  });

  it('a call let in while closed that fails after the breaker opened counts as a failure, and the breaker stays open', async () => {
    const b = breaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '10s' });
    const c = clientWith(b);
    let refuse: ((error: Error) => void) | undefined;
    const slow = settle(c.call(() => new Promise<string>((_resolve, reject) => { refuse = reject; })));
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    const failures = b.stats().failures;
    (refuse as (error: Error) => void)(new Error('late'));
    assert.equal(causeOf(await slow).message, 'late');
    assert.equal(b.stats().failures, failures + 1);
    assert.equal(b.state, 'open');
  });

  it('counts each call once in the window', async () => {
    const b = breaker({ volumeThreshold: 100 });
    const c = clientWith(b);
    for (let i = 0; i < 10; i++) await c.call(succeed);
    for (let i = 0; i < 3; i++) await settle(c.call(fail));
    const stats = b.stats();
    assert.deepEqual([stats.calls, stats.successes, stats.failures, stats.errorRate], [13, 10, 3, 3 / 13]);
  });

  it('close() shuts the breaker down: later calls are refused with ERR_CLIENT_CLOSED; idempotent', async () => {
    const b = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '10s', window: 777 });
    const c = clientWith(b);
    await settle(c.call(fail));
    assert.equal(b.state, 'open');
    assert.equal(breakerRotations().length, 1);
    b.close();
    b.close();
    assert.deepEqual(breakerRotations(), []);
    assert.equal(b.stats().active, false);
    assert.ok(isMeshkitError(await settle(c.call(succeed)), 'ERR_CLIENT_CLOSED'));
  });

  it('lets calls in flight settle after close()', async () => {
    const b = circuitBreaker({});
    const c = clientWith(b);
    let release!: (value: string) => void;
    const pending = c.call(() => new Promise<string>((resolve) => (release = resolve)));
    await waitFor('the call to run', () => release !== undefined);
    b.close();
    release('late');
    assert.equal(await pending, 'late');
  });
});

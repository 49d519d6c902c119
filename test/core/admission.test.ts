import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adaptiveConcurrency, adaptiveThrottle, bulkhead, circuitBreaker, client, fallback, isMeshkitError, MeshkitError, rateLimit,
  splitPipeline, systemClock, wrapGate, type AdmissionGate, type Client, type Policy,
} from '../../src/index.js';
import type { CallContext } from '../../src/core/call-context.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstream } from '../helpers/upstream.js';

/** A gate that logs what it sees; `refuse` makes it refuse every call with that error. */
function loggingGate(name: string, log: string[], refuse?: Error): Policy & { gate: AdmissionGate; seen: CallContext[] } {
  const seen: CallContext[] = [];
  const gate: AdmissionGate = {
    admit(call) {
      seen.push(call);
      log.push(`admit ${name}`);
      return refuse;
    },
    release(call, error) {
      const outcome = call.current?.outcome;
      log.push(`release ${name} ${error === undefined ? 'ok' : (error as MeshkitError).code ?? (error as Error).message}${outcome === undefined ? '' : ` ${outcome.reason}`}`);
    },
  };
  return { name, gate, seen, wrap: (next) => wrapGate(gate, next), admission: () => gate };
}

/** A policy with no gate: whatever stands before it in the pipeline must wrap. */
function wrapOnly(log: string[]): Policy {
  return {
    name: 'wrap-only',
    wrap: (next) => (call) => {
      log.push('wrap-only in');
      return next(call).finally(() => log.push('wrap-only out'));
    },
  };
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

function callClient(...policies: Policy[]): Client {
  let builder = client('gates').endpoints(['127.0.0.1:9']).retry(false);
  for (const policy of policies) builder = builder.policy(policy);
  return builder.build();
}

describe('splitPipeline', () => {
  it('runs the longest run of gate-capable policies at the inner end as gates, in order', () => {
    const log: string[] = [];
    const [a, b, c] = [loggingGate('a', log), loggingGate('b', log), loggingGate('c', log)];
    const w = wrapOnly(log);
    const all = splitPipeline([a, b, c], { clock: systemClock });
    assert.deepEqual(all.wrapped, []);
    assert.deepEqual(all.gates, [a.gate, b.gate, c.gate]);
    const split = splitPipeline([a, w, b, c], { clock: systemClock });
    assert.deepEqual(split.wrapped, [a, w]);
    assert.deepEqual(split.gates, [b.gate, c.gate]);
    const none = splitPipeline([a, b, w], { clock: systemClock });
    assert.deepEqual(none.wrapped, [a, b, w]);
    assert.deepEqual(none.gates, []);
  });

  it('asks each policy for its gate: queueing configurations and foreign clocks keep wrap', () => {
    const clock = systemClock;
    const gated = (policy: Policy): boolean => policy.admission?.({ clock }) !== undefined;
    assert.equal(gated(rateLimit({ rate: 10 })), true);
    assert.equal(gated(rateLimit({ rate: 10, maxWait: '1s' })), false, 'a rate limit that may wait must wrap');
    assert.equal(gated(bulkhead({ maxConcurrent: 2 })), true);
    assert.equal(gated(bulkhead({ maxConcurrent: 2, maxQueue: 5 })), false, 'a bulkhead with a queue must wrap');
    assert.equal(gated(adaptiveThrottle({})), true);
    const breaker = circuitBreaker({});
    assert.equal(gated(breaker), true);
    breaker.close();
    assert.equal(gated(adaptiveConcurrency({})), true);
    assert.equal(gated(adaptiveConcurrency({ clock: new VirtualClock() })), false, 'a limiter on another clock must wrap');
    assert.equal(gated(fallback(() => 1)), false);
  });
});

describe('admission gates in the executor', () => {
  it('admit outermost first and release innermost first, once, after the call settled', async () => {
    const log: string[] = [];
    const c = callClient(loggingGate('a', log), loggingGate('b', log));
    try {
      assert.equal(await c.call(async () => {
        log.push('run');
        return 'value';
      }), 'value');
      assert.deepEqual(log, ['admit a', 'admit b', 'run', 'release b ok ok', 'release a ok ok']);
      log.length = 0;
      const error = await settle(c.call(() => Promise.reject(new Error('boom'))));
      assert.equal(((error as Error).cause as Error).message, 'boom', 'the function\'s error is the cause');
      assert.deepEqual(log, ['admit a', 'admit b', 'release b ERR_UPSTREAM error', 'release a ERR_UPSTREAM error']);
    } finally {
      await c.close();
    }
  });

  it('a refusal ends the call with that error, unsent; only the gates that admitted it release it', async () => {
    const log: string[] = [];
    const refusal = new MeshkitError('ERR_LIMIT_EXCEEDED', 'full', { reason: 'test' });
    const c = callClient(loggingGate('a', log), loggingGate('b', log, refusal), loggingGate('c', log));
    try {
      let ran = 0;
      const error = await settle(c.call(async () => ran++));
      assert.equal(error, refusal);
      assert.equal(ran, 0);
      assert.deepEqual(log, ['admit a', 'admit b', 'release a ERR_LIMIT_EXCEEDED']);
    } finally {
      await c.close();
    }
  });

  it('a throwing admit refuses the call with what it threw; a throwing release warns once and changes nothing', async (t) => {
    const log: string[] = [];
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const thrower: Policy = {
      name: 'thrower',
      wrap: (next) => next,
      admission: () => ({
        admit: () => {
          throw new Error('admit bug');
        },
        release: () => undefined,
      }),
    };
    const badRelease: Policy = {
      name: 'bad-release',
      wrap: (next) => next,
      admission: () => ({
        admit: () => undefined,
        release: () => {
          throw new Error('release bug');
        },
      }),
    };
    const refused = callClient(loggingGate('a', log), thrower);
    const released = callClient(loggingGate('b', log), badRelease);
    try {
      assert.equal(((await settle(refused.call(async () => 'x'))) as Error).message, 'admit bug');
      assert.deepEqual(log, ['admit a', 'release a admit bug']);
      log.length = 0;
      assert.equal(await released.call(async () => 'kept'), 'kept');
      assert.equal(await released.call(async () => 'kept'), 'kept');
      assert.deepEqual(log, ['admit b', 'release b ok ok', 'admit b', 'release b ok ok'], 'the outer gate is still released');
      await new Promise((resolve) => setImmediate(resolve));
      const gateWarnings = warnings.filter((w) => (w as { code?: string }).code === 'MESHKIT_GATE_ERROR');
      assert.equal(gateWarnings.length <= 1, true, 'warned at most once per process');
    } finally {
      await Promise.all([refused.close(), released.close()]);
    }
  });

  it('a call aborted or out of time before admission is never admitted', async () => {
    const log: string[] = [];
    const c = callClient(loggingGate('a', log));
    try {
      const aborted = await settle(c.call(async () => 'x', { signal: AbortSignal.abort() }));
      assert.ok(isMeshkitError(aborted, 'ERR_ABORTED'));
      const late = await settle(c.call(async () => 'x', { timeout: 0 }));
      assert.ok(isMeshkitError(late), String(late));
      assert.deepEqual(log, []);
    } finally {
      await c.close();
    }
  });

  it('close() ends calls in flight; their gates release them with the close error', async () => {
    const log: string[] = [];
    const c = callClient(loggingGate('a', log));
    const pending = settle(c.call((_endpoint, attempt) => new Promise((_resolve, reject) => {
      attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason));
    })));
    await new Promise((resolve) => setImmediate(resolve));
    await c.close({ timeout: 0 });
    const error = await pending;
    assert.ok(isMeshkitError(error), String(error));
    assert.equal(log[0], 'admit a');
    assert.equal(log.length, 2);
    assert.match(log[1] as string, new RegExp(`^release a ${(error as MeshkitError).code}`));
  });

  it('release sees the final outcome of a resolved failure (an HTTP 503 returned, not thrown)', async (t) => {
    const upstream = await startUpstream({ status: 503 });
    t.after(() => upstream.close());
    const log: string[] = [];
    const c = client('gates-http').endpoints([upstream.address]).retry(false).policy(loggingGate('a', log)).build();
    try {
      const response = await c.request({ path: '/' });
      await response.body.dump();
      assert.equal(response.statusCode, 503);
      assert.deepEqual(log, ['admit a', 'release a ok status']);
    } finally {
      await c.close();
    }
  });

  it('admittedAt is the start time with no wrap stage before the gates, and later with one', async () => {
    const log: string[] = [];
    const clock = new VirtualClock();
    const direct = loggingGate('direct', log);
    const behind = loggingGate('behind', log);
    const delaying: Policy = {
      name: 'delay',
      wrap: (next) => (call) => new Promise<void>((resolve) => clock.setTimeout(resolve, 5)).then(() => next(call)),
    };
    const a = client('gates-a').endpoints(['127.0.0.1:9']).retry(false).clock(clock).policy(direct).build();
    const b = client('gates-b').endpoints(['127.0.0.1:9']).retry(false).clock(clock).policy(delaying).policy(behind).build();
    try {
      await a.call(async () => 'x');
      const pending = b.call(async () => 'y');
      await clock.advance(5);
      assert.equal(await pending, 'y');
      const [first] = direct.seen;
      const [second] = behind.seen;
      assert.equal(first?.admittedAt, first?.startedAt);
      assert.equal((second as CallContext).admittedAt, (second as CallContext).startedAt + 5);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('wrapGate keeps the same contract when the gate runs as a wrap stage', async () => {
    const log: string[] = [];
    const c = callClient(loggingGate('a', log), loggingGate('b', log), wrapOnly(log));
    try {
      assert.equal(await c.call(async () => 'v'), 'v');
      assert.deepEqual(log, ['admit a', 'admit b', 'wrap-only in', 'wrap-only out', 'release b ok ok', 'release a ok ok']);
    } finally {
      await c.close();
    }
  });
});

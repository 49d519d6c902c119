import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

describe('close() accepts only a bound it can honour (issue 11, finding 3)', () => {
  it('close({ timeout: \'1000h\' }) rejects with ERR_INVALID_CONFIG and aborts nothing; a valid close then drains', async () => {
    const upstream = await startUpstream({ delayMs: 100 });
    try {
      const c = client('close-bound').endpoints([upstream.address]).build();
      const inFlight = c.request({ path: '/' });
      const refused = await c.close({ timeout: '1000h' }).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(refused, 'ERR_INVALID_CONFIG'), String(refused));
      assert.equal(refused.details['option'], 'close.timeout');
      const unknown = await c.close({ timeuot: '1s' } as never).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(unknown, 'ERR_INVALID_CONFIG') && /did you mean `timeout`/.test(unknown.message), String(unknown));
      // Before the fix the 1000h timer fired at once and aborted this call with ERR_CLIENT_CLOSED.
      const res = await inFlight;
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      const later = await c.request({ path: '/' });
      await later.body.dump();
      await c.close({ timeout: '1s' });
      assert.ok(isMeshkitError(await c.request({ path: '/' }).then(() => undefined, (e: unknown) => e), 'ERR_CLIENT_CLOSED'));
    } finally {
      await upstream.close();
    }
  });
});

describe('close() returns within its bound whatever others hand in', () => {
  /** What `promise` did within `ms`: 'settled' or 'pending'. */
  async function within(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      promise.then(() => 'settled' as const, () => 'settled' as const),
      new Promise<'pending'>((resolve) => {
        timer = setTimeout(() => resolve('pending'), ms);
      }),
    ]);
    clearTimeout(timer);
    return outcome;
  }

  const never = (): Promise<never> => new Promise(() => {});

  it('a policy close(), an onClose release or an observer close() that never settles, or a policy close() that throws', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => {
      if (warning.code === 'MESHKIT_CLOSE_OVERRUN') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const hangingPolicy = client('close-hanging-policy').endpoints(['127.0.0.1:1']).policy({ name: 'mine', wrap: (next) => next, close: never }).build();
      assert.equal(await within(hangingPolicy.close({ timeout: '100ms' }), 2000), 'settled');
      const hangingRelease = client('close-hanging-release').endpoints(['127.0.0.1:1']).build();
      hangingRelease.onClose(never);
      assert.equal(await within(hangingRelease.close({ timeout: '100ms' }), 2000), 'settled');
      const hangingObserver = client('close-hanging-observer').endpoints(['127.0.0.1:1']).telemetry({ name: 'obs', create: () => ({ close: never }) }).build();
      assert.equal(await within(hangingObserver.close({ timeout: '100ms' }), 2000), 'settled');
      let closedSecond = false;
      const throwing = client('close-throwing-policy').endpoints(['127.0.0.1:1'])
        .policy({ name: 'throws', wrap: (next) => next, close: () => { throw new Error('close failed'); } })
        .policy({ name: 'second', wrap: (next) => next, close: () => { closedSecond = true; } }).build();
      await throwing.close({ timeout: '100ms' });
      assert.equal(closedSecond, true, 'the second policy closed though the first threw');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 3, warnings.join('\n'));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a build that fails (an observer factory that throws) releases the policies made for it, and says why', async () => {
    let closes = 0;
    const shared = { name: 'shared-limit', wrap: <T>(next: T): T => next, close: () => { closes++; } };
    const a = client('build-fails-a').endpoints(['127.0.0.1:1']).policy(() => shared).build();
    assert.throws(
      () => client('build-fails-b').endpoints(['127.0.0.1:1']).policy(() => shared).telemetry({ name: 'obs', create: () => { throw new Error('observer factory failed'); } }).build(),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'telemetry' && e.cause instanceof Error && e.cause.message === 'observer factory failed',
    );
    await a.close();
    assert.equal(closes, 1, 'the shared policy closed once its last built client closed');
  });
});

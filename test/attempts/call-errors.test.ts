import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, Outcomes, type Outcome } from '../../src/index.js';

/** A client.call whose function throws `thrown` and whose classifier calls it `outcome`. */
async function endedWith(outcome: Outcome, thrown: Error): Promise<unknown> {
  await using c = client('call-errors').endpoints(['127.0.0.1:9']).retry(false)
    .circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '30s' }).build();
  const errors: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    errors.push(await c.call(() => Promise.reject(thrown), { classifyError: () => outcome }).then(() => undefined, (error: unknown) => error));
  }
  // Two failures of the upstream's doing would have opened the breaker.
  const open = await c.call(() => Promise.resolve('ok')).then(() => false, (error: unknown) => isMeshkitError(error, 'ERR_CIRCUIT_OPEN'));
  return { error: errors[0], open };
}

describe('callError: the error a call ends with carries the blame of its last outcome', () => {
  it("an attempt that ended by the caller's doing ends the call with ERR_ABORTED, blame caller, counted by no breaker", async () => {
    const thrown = new Error('the caller stopped it');
    const { error, open } = await endedWith(Outcomes.aborted, thrown) as { error: unknown; open: boolean };
    assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `ended with ${String(error)}`);
    assert.equal(error.blame, 'caller');
    assert.equal(error.cause, thrown);
    assert.equal(open, false);
  });

  it("one meshkit stopped itself is ERR_ABORTED, blame local; a caller's deadline outcome is ERR_DEADLINE_EXCEEDED, blame caller", async () => {
    const local = await endedWith(Outcomes.cancelled, new Error('stopped here')) as { error: unknown; open: boolean };
    assert.ok(isMeshkitError(local.error, 'ERR_ABORTED') && local.error.blame === 'local', `ended with ${String(local.error)}`);
    assert.equal(local.open, false);
    const deadline = await endedWith(Outcomes.deadline, new Error('too late')) as { error: unknown; open: boolean };
    assert.ok(isMeshkitError(deadline.error, 'ERR_DEADLINE_EXCEEDED') && deadline.error.blame === 'caller', `ended with ${String(deadline.error)}`);
    assert.equal(deadline.open, false);
  });

  it("the upstream's failures stay ERR_UPSTREAM, blame upstream, and open the breaker", async () => {
    const { error, open } = await endedWith(Outcomes.error, new Error('upstream broke')) as { error: unknown; open: boolean };
    assert.ok(isMeshkitError(error, 'ERR_UPSTREAM'), `ended with ${String(error)}`);
    assert.equal(error.blame, 'upstream');
    assert.equal(open, true);
  });
});

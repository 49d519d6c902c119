import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIgnoredEnd } from '../../src/breaker/ignored.js';
import { MeshkitError, Outcomes, type CallContext, type Outcome } from '../../src/index.js';

/** The fields isIgnoredEnd reads of a call whose last attempt ended with `error`, classified `outcome`. */
function callEndedWith(error: unknown, outcome: Outcome): CallContext {
  return { stopped: undefined, current: { error, outcome } } as unknown as CallContext;
}

describe('isIgnoredEnd: breakers count only what the upstream did', () => {
  it("judges an error that is not a MeshkitError by its attempt's outcome, not as the upstream's by default", () => {
    const callers = new Error('the request stream failed');
    assert.equal(isIgnoredEnd(callers, callEndedWith(callers, Outcomes.aborted)), true);
    assert.equal(isIgnoredEnd(callers, callEndedWith(callers, Outcomes.refused)), true);
    const upstreams = new Error('socket hang up');
    assert.equal(isIgnoredEnd(upstreams, callEndedWith(upstreams, Outcomes.reset)), false);
    // Not the last attempt's error (a policy's own): the upstream's, as before.
    assert.equal(isIgnoredEnd(upstreams, callEndedWith(new Error('other'), Outcomes.aborted)), false);
  });

  it('judges a MeshkitError by its blame, and ignores every error of a stopped call', () => {
    const aborted = new MeshkitError('ERR_ABORTED', 'aborted');
    assert.equal(isIgnoredEnd(aborted, callEndedWith(aborted, Outcomes.error)), true);
    const upstream = new MeshkitError('ERR_UPSTREAM', 'failed');
    assert.equal(isIgnoredEnd(upstream, callEndedWith(upstream, Outcomes.aborted)), false);
    assert.equal(isIgnoredEnd(upstream, { stopped: new Error('closed'), current: undefined } as unknown as CallContext), true);
  });
});

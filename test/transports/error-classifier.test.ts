import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, MeshkitError } from '../../src/index.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

describe('classifyError', () => {
  it('maps connect failures, resets and timeouts by code, also on the cause', () => {
    assert.equal(classifyError(withCode('ECONNREFUSED')).reason, 'connect');
    assert.equal(classifyError(withCode('UND_ERR_CONNECT_TIMEOUT')).reason, 'connect');
    assert.equal(classifyError(withCode('ECONNRESET')).reason, 'reset');
    assert.equal(classifyError(withCode('UND_ERR_SOCKET')).reason, 'reset');
    assert.equal(classifyError(withCode('UND_ERR_HEADERS_TIMEOUT')).reason, 'timeout');
    assert.equal(classifyError(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') })).reason, 'connect');
  });

  it('maps meshkit errors and leaves unknown errors as non-retryable failures', () => {
    assert.equal(classifyError(new MeshkitError('ERR_TIMEOUT', 't')).reason, 'timeout');
    assert.equal(classifyError(new MeshkitError('ERR_DEADLINE_EXCEEDED', 'd')).retryable, false);
    // Whose deadline it was decides who is charged: a nested client's queue wait (local) charges no endpoint.
    assert.deepEqual(['caller', 'local', 'upstream'].map((blame) => classifyError(new MeshkitError('ERR_DEADLINE_EXCEEDED', 'd', {}, { blame: blame as 'caller' })).blame),
      ['caller', 'local', 'upstream']);
    assert.equal(classifyError(new MeshkitError('ERR_ABORTED', 'a')).reason, 'aborted');
    const unknown = classifyError(new Error('boom'));
    assert.deepEqual([unknown.reason, unknown.ok, unknown.retryable], ['error', false, false]);
    assert.equal(classifyError('a string').reason, 'error');
  });

  it('marks every connect, reset and timeout outcome retryable and failed', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      const outcome = classifyError(withCode(code));
      assert.equal(outcome.retryable, true);
      assert.equal(outcome.ok, false);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIdempotentRequest } from '../../src/core/idempotency.js';

describe('isIdempotentRequest', () => {
  it('follows RFC 9110 methods, case-insensitively', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE', 'get', 'put']) assert.equal(isIdempotentRequest(method, undefined, undefined), true);
    for (const method of ['POST', 'PATCH', 'CONNECT', 'post']) assert.equal(isIdempotentRequest(method, undefined, undefined), false);
  });

  it('accepts an Idempotency-Key in any header shape', () => {
    assert.equal(isIdempotentRequest('POST', { 'Idempotency-Key': 'a' }, undefined), true);
    assert.equal(isIdempotentRequest('POST', ['idempotency-key', 'a'], undefined), true);
    assert.equal(isIdempotentRequest('POST', new Headers({ 'idempotency-key': 'a' }), undefined), true);
    assert.equal(isIdempotentRequest('POST', { 'x-other': 'a' }, undefined), false);
  });

  it('lets the caller decide explicitly', () => {
    assert.equal(isIdempotentRequest('POST', undefined, true), true);
    assert.equal(isIdempotentRequest('GET', undefined, false), false);
  });
});

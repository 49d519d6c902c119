import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshkitError } from '../../src/index.js';
import { errorType, httpSpanName, semconvMethod, statusOf } from '../../src/otel/semconv.js';

describe('semantic convention helpers', () => {
  it('known methods stay; others (case-sensitive) are _OTHER', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) assert.equal(semconvMethod(method), method);
    assert.equal(semconvMethod('PURGE'), '_OTHER');
    assert.equal(semconvMethod('get'), '_OTHER');
  });

  it('span names: {method}, {method} {template}, HTTP for unknown methods', () => {
    assert.equal(httpSpanName('GET', undefined), 'GET');
    assert.equal(httpSpanName('POST', '/orders/{id}'), 'POST /orders/{id}');
    assert.equal(httpSpanName('PURGE', undefined), 'HTTP');
  });

  it('error.type: the code, else the class name, else _OTHER', () => {
    assert.equal(errorType(new MeshkitError('ERR_TIMEOUT', 'x')), 'ERR_TIMEOUT');
    assert.equal(errorType(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
    assert.equal(errorType(new TypeError('bad')), 'TypeError');
    assert.equal(errorType('a string'), '_OTHER');
    assert.equal(errorType({ code: 'x'.repeat(200) }), '_OTHER', 'an overlong code is not a low-cardinality type');
  });

  it('statusOf reads statusCode of response-like values only', () => {
    assert.equal(statusOf({ statusCode: 204 }), 204);
    assert.equal(statusOf(undefined), 0);
    assert.equal(statusOf(42), 0);
  });
});

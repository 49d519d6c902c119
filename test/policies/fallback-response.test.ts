import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, staticResponse } from '../../src/index.js';

describe('staticResponse body', () => {
  it('refuses a body JSON cannot hold with ERR_INVALID_CONFIG naming staticResponse.body, the reason as cause', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const throwing = { get id(): number { throw new Error('getter failed'); } };
    const cases: [string, object, boolean][] = [
      // [label, body, whether JSON.stringify threw (its error is then the cause)]
      ['a BigInt', { id: 1n }, true],
      ['a cycle', circular, true],
      ['a throwing getter', throwing, true],
      ['a toJSON giving undefined', { toJSON: () => undefined }, false],
    ];
    for (const [label, body, threw] of cases) {
      assert.throws(() => staticResponse(200, body), (e: unknown) => {
        assert.ok(isMeshkitError(e, 'ERR_INVALID_CONFIG'), `${label}: expected ERR_INVALID_CONFIG, got ${String(e)}`);
        assert.equal(e.details['option'], 'staticResponse.body', label);
        assert.equal(e.cause instanceof Error, threw, `${label}: cause`);
        return true;
      }, label);
    }
  });

  it('still sends serialisable objects as JSON, toJSON included', async () => {
    const response = staticResponse(200, { items: [1], when: { toJSON: () => 'now' } });
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(await response.body.text(), '{"items":[1],"when":"now"}');
  });
});

describe('staticResponse headers', () => {
  it('refuses a header that is not a token with string values free of CR, LF and NUL, naming it', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['bad name', { 'x y': 'v' }],
      ['number value', { 'retry-after': 5 }],
      ['CRLF in value', { location: '/a\r\nset-cookie: x=1' }],
      ['empty list', { 'x-a': [] }],
      ['non-string in list', { 'x-a': ['a', 1] }],
      ['same name in two cases', { 'Content-Type': 'a', 'content-type': 'b' }],
    ];
    for (const [label, headers] of cases) {
      assert.throws(() => staticResponse(503, 'busy', { headers: headers as never }), (e: unknown) => {
        assert.ok(isMeshkitError(e, 'ERR_INVALID_CONFIG'), `${label}: expected ERR_INVALID_CONFIG, got ${String(e)}`);
        assert.match(String(e.details['option']), /^staticResponse\.headers\./, label);
        return true;
      }, label);
    }
  });

  it('lower-cases names as undici does, keeps lists, and adds content-length', async () => {
    const response = staticResponse(503, 'busy', { headers: { 'Retry-After': '1', 'Set-Cookie': ['a=1', 'b=2'], constructor: 'x' } });
    assert.equal(response.headers['retry-after'], '1');
    assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(response.headers['Retry-After'], undefined);
    assert.equal(Object.hasOwn(response.headers, 'constructor'), true);
    assert.equal(response.headers['content-length'], '4');
    assert.equal(await response.body.text(), 'busy');
  });
});

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

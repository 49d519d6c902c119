import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

describe('per-call options: a typo is an error, not a silently dropped bound', () => {
  it('request() refuses an unknown key with ERR_INVALID_ARGUMENT naming it and the nearest known key, and sends nothing', async () => {
    const upstream = await startUpstream({ delayMs: 200 });
    try {
      await using c = client('typo').endpoints([upstream.address]).build();
      const error = await c.request({ path: '/', timout: '10ms' } as never).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), String(error));
      assert.equal(error.details['argument'], 'options.timout');
      assert.match(error.message, /did you mean `timeout`\?/);
      assert.equal(upstream.requests.length, 0, 'nothing was sent without its bound');
    } finally {
      await upstream.close();
    }
  });

  it('call() refuses an unknown key the same way', async () => {
    await using c = client('typo-call').endpoints(['127.0.0.1:1']).build();
    let ran = false;
    const error = await c.call(async () => {
      ran = true;
      return 1;
    }, { idempotnet: true } as never).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), String(error));
    assert.match(error.message, /did you mean `idempotent`\?/);
    assert.equal(ran, false);
  });

  it('every documented key is accepted', async () => {
    const upstream = await startUpstream();
    try {
      await using c = client('known').endpoints([upstream.address]).build();
      const res = await c.request({
        path: '/', method: 'GET', headers: {}, body: '', signal: new AbortController().signal, idempotent: true, timeout: '1s', key: 'k', subset: undefined,
      });
      await res.body.dump();
      assert.equal(await c.call(async () => 7, {
        classify: undefined, classifyError: undefined, discard: undefined, replayable: true, signal: undefined, idempotent: true, timeout: '1s', key: undefined, subset: undefined,
      }), 7);
    } finally {
      await upstream.close();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/index.js';
import { connectIdentity } from '../../src/consul/index.js';

describe('connectIdentity before its first leaf', () => {
  it('close() rejects a pending ready() with ERR_CLIENT_CLOSED, not a plain Error', async () => {
    // Port 1 refuses connections: no leaf ever arrives, so ready() is still pending at close().
    const identity = connectIdentity({ service: 'web', address: '127.0.0.1:1' });
    const ready = identity.ready().then(() => undefined, (error: unknown) => error);
    await identity.close();
    const error = await ready;
    assert.ok(isMeshkitError(error, 'ERR_CLIENT_CLOSED'), `ERR_CLIENT_CLOSED, got ${String(error)}`);
    assert.equal(error.details['reason'], 'closed');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, undiciTransport, type UndiciTransportOptions } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

describe('undiciTransport options', () => {
  it('refuses a keepAliveTimeout or connectTimeout of 0 at the factory, naming it', () => {
    for (const [options, option] of [
      // undici refused keepAliveTimeout 0 only when a call opened a pool: every call failed as the caller's bad request.
      [{ keepAliveTimeout: 0 }, 'transport.keepAliveTimeout'], [{ keepAliveTimeout: '0ms' }, 'transport.keepAliveTimeout'],
      // undici reads connectTimeout 0 as no connect timeout at all.
      [{ connectTimeout: 0 }, 'transport.connectTimeout'], [{ connectTimeout: '0s' }, 'transport.connectTimeout'],
      [{ keepAliveTimeout: -1 }, 'transport.keepAliveTimeout'], [{ connectTimeout: 2 ** 31 }, 'transport.connectTimeout'],
    ] as const) {
      assert.throws(() => undiciTransport(options as UndiciTransportOptions), (e: unknown) =>
        isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, `${JSON.stringify(options)}`);
    }
  });

  it('accepts positive durations, fractional ones included, and calls go through', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    await using c = client('transport-options').endpoints([upstream.address])
      .transport(undiciTransport({ keepAliveTimeout: '1.5s', connectTimeout: 250.5 })).build();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  });
});
